"""The LLM layer: one local model per process behind a bounded, time-limited runtime, and the features
built on it — grounded explanations, the profile text (and its parser), yes/no re-ranking — each with a
template fallback and an output guard. Importing this package does not import torch or transformers;
the model loads on first use.

Modules: runtime (LLMRuntime, get_runtime), loading (model resolution, GGUF conversion cache),
hf_model + hf_scoring (transformers implementation), prompts (fixed system prompts, data block),
text + grounding + guard (OutputGuard), facts + explain (Explainer), profile_text (ProfileWriter),
profile_parse (profile_to_preferences), rerank (LLMReranker), testing (ScriptedModel), evalset (fixed
evaluation catalog and cases). In the dialogue (imported from their modules, not from here): turn
(LLMTurnExplainer, LanguageProfiler: the manager's explainer and profile writer), profile_match
(ProfileTextMatcher, ProfileAwareRanker: the profile text as a ranking signal), rerank_eval (the
measurement of the re-ranking).
"""

from dialogue.llm.explain import Explainer, Explanation, template_explanation
from dialogue.llm.facts import ExplanationFacts, item_attributes, main_generator
from dialogue.llm.grounding import Grounding, GuardVocabulary
from dialogue.llm.guard import GuardVerdict, OutputGuard
from dialogue.llm.profile_parse import AttributeVocabulary, PreferenceEdit, profile_to_preferences
from dialogue.llm.profile_text import ProfileText, ProfileWriter, TypedPreferences, template_profile
from dialogue.llm.rerank import Candidate, LLMReranker, Reranked, RerankResult
from dialogue.llm.runtime import LLMConfig, LLMRuntime, TextStream, get_runtime, reset_runtime
from dialogue.llm.types import ChatPrompt, Fallback, Generated, Scored, TextModel

__all__ = [
    "AttributeVocabulary",
    "Candidate",
    "ChatPrompt",
    "Explainer",
    "Explanation",
    "ExplanationFacts",
    "Fallback",
    "Generated",
    "Grounding",
    "GuardVerdict",
    "GuardVocabulary",
    "LLMConfig",
    "LLMReranker",
    "LLMRuntime",
    "OutputGuard",
    "PreferenceEdit",
    "ProfileText",
    "ProfileWriter",
    "RerankResult",
    "Reranked",
    "Scored",
    "TextModel",
    "TextStream",
    "TypedPreferences",
    "get_runtime",
    "item_attributes",
    "main_generator",
    "profile_to_preferences",
    "reset_runtime",
    "template_explanation",
    "template_profile",
]
