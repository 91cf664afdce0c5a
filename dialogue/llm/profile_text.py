"""The user's profile as a short text, and back.

`ProfileWriter.write` turns typed preferences (liked / disliked items and attributes) and the user's own
recent words into one sentence ("Loves slow-burn sci-fi and Denis Villeneuve; finds horror off-putting")
with the LLM, checked by the guard (only names and titles from the preferences), or by
`template_profile` when the LLM is off, busy or fails the guard.

The other direction, `profile_to_preferences` (dialogue.llm.profile_parse), reads an edited profile text
back into typed attribute likes and dislikes with rules, no LLM.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dialogue.llm.facts import item_attributes
from dialogue.llm.grounding import Grounding, title_aliases
from dialogue.llm.guard import OutputGuard
from dialogue.llm.profile_parse import AttributeVocabulary, phrase_polarities, profile_to_preferences
from dialogue.llm.prompts import SYSTEM_PROFILE, TASK_PROFILE, build_prompt, quoted
from dialogue.llm.runtime import LLMRuntime
from dialogue.llm.text import normalize
from dialogue.llm.types import ChatPrompt, Fallback
from recsys.catalog.types import CatalogItem

MAX_PROFILE_CHARS = 220
_SUBJECT = re.compile(r"^\s*(?:the|this) (?:user|fan|person|viewer|movie fan)(?:'s)?\s+", re.IGNORECASE)
_LABEL = re.compile(r"^\s*(?:profile|summary|taste)\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class TypedPreferences:
    """What the dialogue knows about the user: items and "kind:value" attributes, plus their own words."""

    liked_items: tuple[CatalogItem, ...] = ()
    disliked_items: tuple[CatalogItem, ...] = ()
    liked_attributes: tuple[str, ...] = ()
    disliked_attributes: tuple[str, ...] = ()
    utterances: tuple[str, ...] = ()  # the user's recent messages, oldest first

    @property
    def is_empty(self) -> bool:
        return not (
            self.liked_items or self.disliked_items or self.liked_attributes or self.disliked_attributes
        )


@dataclass(frozen=True)
class ProfileText:
    """The profile sentence, where it came from, and why an LLM answer was rejected (if it was)."""

    text: str
    source: str  # "llm" or "template"
    fallback: str | None = None
    problems: tuple[str, ...] = ()
    llm_text: str = ""


def attribute_display(attribute: str, items: Sequence[CatalogItem] = ()) -> str:
    """A readable form of "kind:value": the credited spelling of a person when an item has it
    ("director:denis villeneuve" -> "Denis Villeneuve"), else the value ("genre:sci-fi" -> "sci-fi")."""
    kind, _, value = attribute.partition(":")
    for item in items:
        display = item_attributes(item).get(attribute)
        if display:
            return display
    if kind in ("director", "writer", "star"):
        return " ".join(w[:1].upper() + w[1:] for w in value.split())
    return value


def _join(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def template_profile(prefs: TypedPreferences, *, max_chars: int = MAX_PROFILE_CHARS) -> str:
    """One sentence from the typed preferences alone, e.g. "Likes sci-fi and Denis Villeneuve (liked
    Arrival and Interstellar); dislikes horror." Lists are shortened until it fits `max_chars`."""
    items = (*prefs.liked_items, *prefs.disliked_items)
    for n in (4, 3, 2, 1):
        likes = [attribute_display(a, items) for a in prefs.liked_attributes[:n]]
        dislikes = [attribute_display(a, items) for a in prefs.disliked_attributes[:n]]
        liked_titles = [it.title for it in prefs.liked_items[:n]]
        disliked_titles = [it.title for it in prefs.disliked_items[:n]]
        parts = []
        if likes:
            parts.append(
                f"Likes {_join(likes)}" + (f" (liked {_join(liked_titles)})" if liked_titles else "")
            )
        elif liked_titles:
            parts.append(f"Liked {_join(liked_titles)}")
        if dislikes:
            parts.append(f"dislikes {_join(dislikes)}")
        if disliked_titles:
            parts.append(f"did not enjoy {_join(disliked_titles)}")
        if not parts:
            return "No preferences yet."
        text = "; ".join(parts) + "."
        text = text[0].upper() + text[1:]
        if len(text) <= max_chars:
            return text
    return text


def clean_profile(text: str) -> str:
    """An LLM profile tidied: label and wrapping quotes removed, "The user loves" -> "Loves", one line."""
    text = " ".join(text.split())
    text = _LABEL.sub("", text)
    if len(text) > 1 and text[0] in "\"'“" and text[-1] in "\"'”":
        text = text[1:-1].strip()
    if _SUBJECT.match(text):
        text = _SUBJECT.sub("", text, count=1)
        text = text[:1].upper() + text[1:]
    return text


def consistency_problems(text: str, prefs: TypedPreferences) -> tuple[str, ...]:
    """What a profile sentence gets wrong about `prefs`, read back with the rule-based parser: a liked
    attribute or movie stated as disliked or the reverse, no preference named at all, or a part that
    names none (neither an attribute nor a liked / disliked title). The profile is parsed again when the
    user edits it, so a contradiction would corrupt their preferences."""
    items = (*prefs.liked_items, *prefs.disliked_items)
    known = {*prefs.liked_attributes, *prefs.disliked_attributes}
    known |= {a for it in items for a in item_attributes(it)}
    edit = profile_to_preferences(text, AttributeVocabulary(known))
    problems: list[str] = []  # every mention counts: "loves action ... avoids action" contradicts itself
    for m in edit.mentions:
        if m.liked and m.attribute in prefs.disliked_attributes:
            problems.append(f"says they like {m.attribute}, which they dislike")
        elif not m.liked and m.attribute in prefs.liked_attributes:
            problems.append(f"says they dislike {m.attribute}, which they like")
    liked_titles = {a for it in prefs.liked_items for a in title_aliases(it.title)}
    disliked_titles = {a for it in prefs.disliked_items for a in title_aliases(it.title)}
    for phrase, liked in phrase_polarities(text, liked_titles | disliked_titles):
        if not liked and phrase in liked_titles and phrase not in disliked_titles:
            problems.append(f"says they dislike '{phrase}', a movie they liked")
        elif liked and phrase in disliked_titles and phrase not in liked_titles:
            problems.append(f"says they like '{phrase}', a movie they disliked")
    norm = f" {normalize(text)} "
    names_an_item = any(f" {alias} " in norm for it in items for alias in title_aliases(it.title))
    if not edit.mentions and not names_an_item:
        problems.append("names none of their preferences")
    else:  # every part must name a preference: "Loves Tom Hanks, and avoids him" does not parse
        problems += [
            f"says something that is not a preference: '{clause}'"
            for clause in edit.unmatched
            if not any(f" {a} " in f" {normalize(clause)} " for it in items for a in title_aliases(it.title))
        ]
    return tuple(dict.fromkeys(problems))


class ProfileWriter:
    """Profile sentences: LLM first, guard, template fallback."""

    def __init__(self, runtime: LLMRuntime | None, guard: OutputGuard, *, max_new_tokens: int = 48) -> None:
        self.runtime = runtime
        self.guard = guard
        self.max_new_tokens = max_new_tokens

    @staticmethod
    def grounding(prefs: TypedPreferences) -> Grounding:
        """A profile may name the liked/disliked items, their people and genres, the preference
        attributes, and words the user used."""
        items = (*prefs.liked_items, *prefs.disliked_items)
        attrs = (*prefs.liked_attributes, *prefs.disliked_attributes)
        people = [p for it in items for p in (*it.directors, *it.writers, *it.stars)]
        people += [
            a.partition(":")[2] for a in attrs if a.partition(":")[0] in ("director", "writer", "star")
        ]
        genres = {g for it in items for g in it.genres}
        genres |= {a.partition(":")[2] for a in attrs if a.startswith("genre:")}
        texts = (
            [a.partition(":")[2] for a in attrs]
            + [" ".join(it.tags) for it in items]
            + list(prefs.utterances)
        )
        return Grounding.build(
            items=items,
            people=people,
            genres=genres,
            texts=texts,
            subject="the user's preferences",
            echo=(SYSTEM_PROFILE, TASK_PROFILE),
        )

    @staticmethod
    def prompt(prefs: TypedPreferences) -> ChatPrompt:
        """Preferences and the user's (quoted) words in the data block; the answer starts with "Loves"
        (or "Avoids" when nothing is liked) so the model writes a profile line, not a review."""
        items = (*prefs.liked_items, *prefs.disliked_items)
        fields = [
            ("liked movies", ", ".join(it.title for it in prefs.liked_items[:5])),
            ("disliked movies", ", ".join(it.title for it in prefs.disliked_items[:5])),
            ("likes", ", ".join(attribute_display(a, items) for a in prefs.liked_attributes[:6])),
            ("dislikes", ", ".join(attribute_display(a, items) for a in prefs.disliked_attributes[:6])),
            ("their own words", " / ".join(quoted(u) for u in prefs.utterances[-3:])),
        ]
        prompt = build_prompt(SYSTEM_PROFILE, fields, TASK_PROFILE)
        likes_something = bool(prefs.liked_items or prefs.liked_attributes)
        return ChatPrompt(prompt.system, prompt.user, "Loves" if likes_something else "Avoids")

    def write(self, prefs: TypedPreferences, *, timeout: float | None = None) -> ProfileText:
        """The profile sentence for `prefs` (LLM text that passed the guard, or the template)."""
        template = template_profile(prefs, max_chars=min(MAX_PROFILE_CHARS, self.guard.max_chars))
        if prefs.is_empty:
            return ProfileText(template, "template", "empty")
        if self.runtime is None:
            return ProfileText(template, "template", "disabled")
        result = self.runtime.generate(
            self.prompt(prefs),
            max_new_tokens=self.max_new_tokens,
            timeout=timeout,
            stop_when=lambda text: bool(re.search(r"[.!?](?:\s|$)", text)),
        )
        if isinstance(result, Fallback):
            return ProfileText(template, "template", result.reason)
        cleaned = clean_profile(result.text)
        problems = self.guard.check(cleaned, self.grounding(prefs)).problems + consistency_problems(
            cleaned, prefs
        )
        if not problems:
            return ProfileText(cleaned, "llm", None, (), cleaned)
        return ProfileText(template, "template", "guard", problems, cleaned)
