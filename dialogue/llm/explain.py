"""Grounded explanations: one or two sentences on why an item suits the user, checked before shown.

The LLM gets the item's facts (dialogue.llm.facts) and the user's profile text in a data block; its
answer is cleaned (labels, "the user" -> "you", at most two sentences) and checked by the guard. A failing
or missing answer (LLM off, busy, slow) is replaced by `template_explanation`, built from the same facts,
which always passes the guard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dialogue.llm.facts import ExplanationFacts, Reason
from dialogue.llm.grounding import Grounding
from dialogue.llm.guard import OutputGuard
from dialogue.llm.profile_parse import liked_part
from dialogue.llm.prompts import ANSWER_EXPLAIN, SYSTEM_EXPLAIN, TASK_EXPLAIN, build_prompt, quoted, sanitize
from dialogue.llm.runtime import LLMRuntime
from dialogue.llm.text import SENTENCE_END, split_sentences
from dialogue.llm.types import ChatPrompt, Fallback
from recsys.catalog.types import CatalogItem

MAX_TEMPLATE_CHARS = 300
_GENERATOR_PHRASES = {
    "popularity": "It is one of the most watched films in the catalog.",
    "pop": "It is one of the most watched films in the catalog.",
}
_CF_PHRASE = "Viewers with tastes like yours rate it highly."
_USER_VERB = re.compile(r"\b([Tt])he user (is|was|has|does|[a-z]+[^s\W]s)\b")
_IRREGULAR = {"is": "are", "was": "were", "has": "have", "does": "do"}
_LABEL = re.compile(r"^\s*(?:explanation|answer|response|reason)\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Explanation:
    """The text shown for one item, where it came from, and why an LLM answer was rejected (if it was)."""

    item_id: int
    text: str
    source: str  # "llm" or "template"
    fallback: str | None = None  # None, or "disabled" / "busy" / "timeout" / ... / "guard"
    problems: tuple[str, ...] = ()  # the guard's findings on the rejected LLM text
    llm_text: str = ""  # the cleaned LLM answer (also when rejected), for evaluation


_PROFILE_LABEL = "their taste"


def _task(item: CatalogItem) -> str:
    return TASK_EXPLAIN.format(title=sanitize(item.title, 120))


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _genre_phrase(genres: Sequence[str]) -> str:
    if not genres:
        return "a film"
    shown = " and ".join(genres[:2])
    return f"{_article(shown)} {shown} film"


def _why(facts: ExplanationFacts, reason: Reason | None) -> str:
    """The second template sentence: the strongest link between the item and the user."""
    if reason is not None and reason.origin == "shared":
        liked = reason.liked_titles[0]
        shared = {
            "director": f"also directed by {reason.display}",
            "writer": f"also written by {reason.display}",
            "star": f"which also stars {reason.display}",
            "genre": f"another {reason.display} film",
            "decade": f"another film from the {reason.display}",
        }.get(reason.kind, f"which is also {reason.phrase()}")
        return f"You liked {liked}, {shared}."
    if reason is not None and reason.origin == "liked":
        if reason.kind in ("director", "writer", "star"):
            return f"You said you like {reason.display}."
        if reason.kind == "tag":
            return f"You asked for something '{reason.display}'."
        if reason.kind == "decade":
            return f"You asked for films {reason.phrase()}."
        return f"You asked for {reason.display}."
    if reason is not None:  # a link on the generator's path
        link = {
            "genre": f"the {reason.display} genre",
            "tag": f"the tag '{reason.display}'",
            "decade": f"the {reason.display}",
        }.get(reason.kind, reason.display)
        return f"It is linked to films you liked through {link}."
    if facts.via_items:
        return f"Fans of {facts.via_items[0].title}, which you liked, often enjoy it too."
    return _GENERATOR_PHRASES.get((facts.generator or "").lower(), _CF_PHRASE)


def template_explanation(facts: ExplanationFacts, *, max_chars: int = MAX_TEMPLATE_CHARS) -> str:
    """Two sentences from the facts alone, e.g. "Inception (2010) is a sci-fi and action film. You liked
    Interstellar, also directed by Christopher Nolan." It always passes the guard (tested).

    Parts are dropped (second genre, director, reason) until it fits `max_chars`."""
    item = facts.item
    reason = facts.reasons[0] if facts.reasons else None
    director = item.directors[0] if item.directors else None
    if director and reason and reason.kind == "director":
        director = None  # said by the reason sentence: "You liked X, also directed by ..."
    attempts = [
        (item.genres[:2], director, reason),
        (item.genres[:1], director, reason),
        (item.genres[:1], None, reason),
        ((), None, reason if reason is None or len(reason.display) < 60 else None),
        ((), None, None),
    ]
    text = ""
    for genres, person, why_reason in attempts:
        first = f"{item.display} is {_genre_phrase(genres)}"
        first += f" directed by {person}." if person else "."
        text = f"{first} {_why(facts, why_reason)}"
        if len(text) <= max_chars:
            return text
    return text


def _plural_verb(verb: str) -> str:
    """The "you" form of a third-person verb: "loves" -> "love", "watches" -> "watch", "is" -> "are"."""
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if verb.endswith(("sses", "shes", "ches", "xes", "zes", "uses")):
        return verb[:-2]
    return verb[:-1]


def clean_generated(text: str, *, max_sentences: int = 2) -> str:
    """An LLM answer tidied before the guard: labels and wrapping quotes removed, "the user" -> "you",
    at most `max_sentences` sentences, an unfinished trailing sentence dropped when a finished one exists."""
    text = " ".join(text.split())
    text = _LABEL.sub("", text)
    if len(text) > 1 and text[0] in "\"'“" and text[-1] in "\"'”":
        text = text[1:-1].strip()
    text = _USER_VERB.sub(lambda m: f"{'Y' if m.group(1) == 'T' else 'y'}ou {_plural_verb(m.group(2))}", text)
    for pattern, repl in (
        (r"\bThe user's\b", "Your"),
        (r"\bthe user's\b", "your"),
        (r"\bThe user\b", "You"),
        (r"\bthe user\b", "you"),
    ):
        text = re.sub(pattern, repl, text)
    sentences = split_sentences(text)
    if len(sentences) > 1 and not SENTENCE_END.search(sentences[-1]):
        sentences = sentences[:-1]  # drop the unfinished tail
    return " ".join(sentences[:max_sentences])


def enough_sentences(text: str, n: int = 2) -> bool:
    """True once `text` holds `n` finished sentences (stops generation early)."""
    return len(SENTENCE_END.findall(text)) >= n


class Explainer:
    """Explanations for recommended items: LLM first, guard, template fallback."""

    def __init__(
        self,
        runtime: LLMRuntime | None,
        guard: OutputGuard,
        *,
        max_new_tokens: int = 60,
        timeout: float | None = None,
        stop_after_sentences: int | None = None,
    ) -> None:
        self.runtime = runtime
        self.guard = guard
        self.max_new_tokens = max_new_tokens
        self.timeout = timeout
        # end a row's generation once it holds this many finished sentences (None: EOS / max tokens)
        self.stop_after_sentences = stop_after_sentences

    @staticmethod
    def grounding(
        facts: ExplanationFacts,
        *,
        candidates: Sequence[CatalogItem] = (),
        mentioned_titles: Sequence[str] = (),
    ) -> Grounding:
        """What an explanation of `facts.item` may mention: the item's credits and genres; titles of the
        item, the other candidates, the liked items and the user's mentions; the words of its facts."""
        item = facts.item
        return Grounding.build(
            items=(item, *candidates, *facts.liked_items),
            people=facts.people(),
            genres=item.genres,
            titles=mentioned_titles,
            texts=(item.plot, " ".join(item.tags), *facts.reason_lines()),
            subject=item.title,
            subject_item=item,
            echo=(SYSTEM_EXPLAIN, _task(item)),
        )

    @staticmethod
    def prompt(facts: ExplanationFacts, profile_text: str = "") -> ChatPrompt:
        """The explanation prompt: facts and the (quoted) profile in the data block, the fixed task after
        it, and the answer started for the model ("You may like Inception because"). Only the profile's
        liked clauses are given (`liked_part`): shown the dislikes, the model tends to cite them as reasons
        ("a blend of sci-fi and horror"); on the 30-case evaluation set this raised the guard pass share
        from 24 to 25 and shortened the prompt."""
        item = facts.item
        fields = [
            ("movie", item.display),
            ("genres", ", ".join(item.genres)),
            ("directed by", ", ".join(item.directors[:2])),
            ("starring", ", ".join(item.stars[:2])),
            ("plot", item.plot[:160]),
            ("why it was picked", "; ".join(facts.reason_lines()[:2])),
            (_PROFILE_LABEL, quoted(liked_part(profile_text))),
        ]
        prompt = build_prompt(SYSTEM_EXPLAIN, fields, _task(item))
        return ChatPrompt(prompt.system, prompt.user, ANSWER_EXPLAIN.format(title=item.title))

    def _finish(
        self, facts: ExplanationFacts, llm_text: str | None, fallback: str | None, grounding: Grounding
    ) -> Explanation:
        template = template_explanation(facts, max_chars=min(MAX_TEMPLATE_CHARS, self.guard.max_chars))
        if llm_text is None:
            return Explanation(facts.item.item_id, template, "template", fallback)
        cleaned = clean_generated(llm_text, max_sentences=self.guard.max_sentences)
        verdict = self.guard.check(cleaned, grounding)
        if verdict.ok:
            return Explanation(facts.item.item_id, cleaned, "llm", None, (), cleaned)
        return Explanation(facts.item.item_id, template, "template", "guard", verdict.problems, cleaned)

    def explain(
        self,
        facts: ExplanationFacts,
        *,
        profile_text: str = "",
        candidates: Sequence[CatalogItem] = (),
        mentioned_titles: Sequence[str] = (),
    ) -> Explanation:
        """One explanation (LLM text that passed the guard, or the template)."""
        return self.explain_many(
            [facts], profile_text=profile_text, candidates=candidates, mentioned_titles=mentioned_titles
        )[0]

    def explain_many(
        self,
        facts_list: Sequence[ExplanationFacts],
        *,
        profile_text: str = "",
        candidates: Sequence[CatalogItem] = (),
        mentioned_titles: Sequence[str] = (),
    ) -> list[Explanation]:
        """Explanations for several items, generated in one batch (one queue slot, one time budget).

        `candidates` are the items shown together (each explanation may name the others)."""
        shown = tuple(candidates) or tuple(f.item for f in facts_list)
        groundings = [
            self.grounding(f, candidates=shown, mentioned_titles=mentioned_titles) for f in facts_list
        ]
        texts: list[str | None] = [None] * len(facts_list)
        fallback: str | None = "disabled"
        if self.runtime is not None and facts_list:
            prompts = [self.prompt(f, profile_text) for f in facts_list]
            n = self.stop_after_sentences
            result = self.runtime.generate_many(
                prompts,
                max_new_tokens=self.max_new_tokens,
                timeout=self.timeout,
                stop_when=(lambda text: enough_sentences(text, n)) if n else None,
            )
            if isinstance(result, Fallback):
                fallback = result.reason
            else:
                texts = [g.text for g in result]
                fallback = None
        return [
            self._finish(f, t, fallback, g) for f, t, g in zip(facts_list, texts, groundings, strict=True)
        ]
