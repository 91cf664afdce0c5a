"""Understanding user messages: intent, movie and attribute mentions with polarity, critiques.

    from dialogue.understanding import RuleExtractor, DialogueContext
    extractor = RuleExtractor(catalog)            # builds the title / people / tag indexes once
    u = extractor.extract("I loved the dark knight but not horror", DialogueContext())

Any object with `extract(text, context) -> Understanding` is an `Extractor` (an LLM one can replace or
wrap the rules).
"""

from dialogue.understanding.extractor import RuleExtractor
from dialogue.understanding.types import (
    CRITIQUE_DIMENSIONS,
    AttributeMention,
    Critique,
    DialogueContext,
    Extractor,
    Intent,
    ItemMention,
    Polarity,
    Understanding,
)

__all__ = [
    "CRITIQUE_DIMENSIONS",
    "AttributeMention",
    "Critique",
    "DialogueContext",
    "Extractor",
    "Intent",
    "ItemMention",
    "Polarity",
    "RuleExtractor",
    "Understanding",
]
