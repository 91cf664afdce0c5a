"""What the dialogue manager learns from one user message: intent, item and attribute mentions with
polarity, and critiques of the last recommendations.

Everything here is a frozen dataclass or an enum, so understandings can be cached, compared in tests
and logged. Character offsets (`start`, `end`) index the original message: `text[start:end] == surface`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable


class Intent(StrEnum):
    """What the user wants from this turn."""

    REQUEST_RECOMMENDATION = "request_recommendation"
    STATE_PREFERENCE = "state_preference"
    CRITIQUE = "critique"
    ACCEPT = "accept"
    REJECT = "reject"
    ASK_WHY = "ask_why"
    ASK_ABOUT_ITEM = "ask_about_item"
    CHIT_CHAT = "chit_chat"
    GOODBYE = "goodbye"


class Polarity(StrEnum):
    """How the user relates to a mentioned item or attribute."""

    LIKED = "liked"
    DISLIKED = "disliked"
    SEEN = "seen"  # watched, no opinion given
    NEUTRAL = "neutral"  # only mentioned (a question, "have you seen X?")


MentionSource = Literal["at_id", "title", "reference"]
CritiqueDirection = Literal["more", "less"]

# The critique dimensions the rules know. Free-form strings are allowed (an LLM extractor may add more).
CRITIQUE_DIMENSIONS = ("violence", "recency", "humor", "length", "darkness", "popularity", "scariness")


@dataclass(frozen=True)
class ItemMention:
    """A movie the message refers to.

    source: "at_id" (a ReDial `@123` token), "title" (free text), or "reference" (resolved from the
    dialogue context: "the first one", "seen it").
    item_id is the catalog id, or None for an `@id` the catalog does not know (then `redial_id` says which).
    """

    item_id: int | None
    polarity: Polarity
    start: int
    end: int
    surface: str
    score: float
    source: MentionSource
    redial_id: int | None = None

    @property
    def known(self) -> bool:
        return self.item_id is not None


@dataclass(frozen=True)
class AttributeMention:
    """An attribute the user talks about, named "kind:value" as in recsys.models.types
    ("genre:comedy", "director:christopher nolan", "decade:1990s", "tag:time travel").

    A specific year ("from 1999") is reported as its decade ("decade:1990s"): the models know decades only.
    `known` is False when the attribute is not in the catalog's vocabulary (kept, never dropped silently).
    `mood` names the mood rule that produced it ("light", "feel-good", ...), if any.
    """

    attribute: str
    polarity: Polarity
    start: int
    end: int
    surface: str
    score: float
    known: bool = True
    mood: str | None = None

    @property
    def kind(self) -> str:
        return self.attribute.split(":", 1)[0]

    @property
    def value(self) -> str:
        return self.attribute.split(":", 1)[1]


@dataclass(frozen=True)
class Critique:
    """A relative preference: "less violent", "more recent", "like X but funnier".

    dimension: one of CRITIQUE_DIMENSIONS for the rules; direction: "more" or "less".
    reference_item: the catalog id the critique is relative to, when the message names one.
    attribute: the catalog attribute the dimension maps to ("genre:comedy" for humor), if any.
    comparative: True for "funnier" / "too long" (relative to something shown), False for
    "something recent" (an absolute wish).
    """

    dimension: str
    direction: CritiqueDirection
    reference_item: int | None = None
    attribute: str | None = None
    start: int = 0
    end: int = 0
    surface: str = ""
    comparative: bool = True


@dataclass(frozen=True)
class Understanding:
    """The extraction for one message. `intents` lists every intent detected, primary first."""

    intent: Intent
    items: tuple[ItemMention, ...] = ()
    attributes: tuple[AttributeMention, ...] = ()
    critiques: tuple[Critique, ...] = ()
    text: str = ""
    intents: tuple[Intent, ...] = ()

    def items_with(self, polarity: Polarity) -> tuple[int, ...]:
        """Catalog ids of the known items mentioned with this polarity."""
        return tuple(m.item_id for m in self.items if m.polarity is polarity and m.item_id is not None)

    def attributes_with(self, polarity: Polarity) -> tuple[str, ...]:
        return tuple(a.attribute for a in self.attributes if a.polarity is polarity)

    @property
    def unknown_items(self) -> tuple[ItemMention, ...]:
        """`@id` mentions the catalog does not know."""
        return tuple(m for m in self.items if m.item_id is None)


@dataclass(frozen=True)
class DialogueContext:
    """What the extractor may use from earlier turns.

    last_recommended: catalog ids shown in the system's last turn, in display order ("the first one").
    last_question_kind: what the system just asked about: an attribute kind ("genre", "director", "star",
    "writer", "decade", "tag"), "person" or "item"; it relaxes the cues short answers need ("nolan").
    """

    last_recommended: tuple[int, ...] = ()
    last_question_kind: str | None = None


@runtime_checkable
class Extractor(Protocol):
    """Anything that turns a user message into an Understanding (rules today, an LLM later)."""

    def extract(self, text: str, context: DialogueContext | None = None) -> Understanding: ...
