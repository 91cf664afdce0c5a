"""From one Understanding to the events that record it (before the system answers).

Rules (items are catalog ids; `shown` = the items of the last recommendation):
- UserUttered(turn, text, intent) first, always.
- Asking why / about a movie: the movies named are the question's subject, not preferences; only mentions
  with an explicit verdict ("why X? I hated Y") become events.
- A mention of a shown item: accepted when the intent is "accept"; a reference ("the first one") disliked
  or refused -> ItemRejected (with the message as the reason: "not now" is no verdict on the film); named
  by title with a verdict -> ItemMentioned.
  A liked reference outside an acceptance ("I loved the second one") -> ItemMentioned liked (seen and liked).
- Any other movie: liked / disliked / seen -> ItemMentioned; a neutral mention is not an event.
- Attributes liked / disliked -> AttributePreferred, except those of the pending question's kind, which
  become one QuestionAnswered. A message with nothing in it while a question is pending answers it with
  "no preference" (an empty QuestionAnswered). Attributes outside the catalog are recorded too (nothing
  the user said is dropped); the ranking ignores what no item has.
- Critiques -> CritiqueGiven (a dimension the event labels cannot hold is normalised). A comparative
  "newer" / "older" after a recommendation also narrows the year window (SlotSet year_min / year_max) to
  the median year of the items shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dialogue.catalog_index import CatalogIndex
from dialogue.ranking import supports_critique
from dialogue.state.events import ATTRIBUTE_KINDS as EVENT_KINDS
from dialogue.state.events import (
    AttributePreferred,
    CritiqueGiven,
    Event,
    ItemAccepted,
    ItemMentioned,
    ItemRejected,
    QuestionAnswered,
    SlotSet,
    UserUttered,
)
from dialogue.state.state import DialogueState
from dialogue.understanding.types import (
    CRITIQUE_DIMENSIONS,
    Critique,
    Intent,
    ItemMention,
    Polarity,
    Understanding,
)

_LABEL_BAD = re.compile(r"[^a-z0-9_:-]+")
_SUBJECT_INTENTS = frozenset({Intent.ASK_WHY, Intent.ASK_ABOUT_ITEM})
_NO_ANSWER_INTENTS = frozenset({Intent.GOODBYE, Intent.ASK_WHY, Intent.ASK_ABOUT_ITEM, Intent.ACCEPT})
_VERDICTS = {Polarity.LIKED: "liked", Polarity.DISLIKED: "disliked", Polarity.SEEN: "seen"}


@dataclass
class Interpretation:
    """The events of the user's side of a turn and what the policy needs to know about them."""

    events: list[Event] = field(default_factory=list)
    answered_without_preference: bool = False
    unknown_attributes: list[str] = field(default_factory=list)
    unsupported_critiques: list[str] = field(default_factory=list)


def label(dimension: str) -> str:
    """A critique dimension as an event label ([a-z][a-z0-9_:-]{0,63})."""
    text = _LABEL_BAD.sub("_", dimension.lower()).strip("_") or "other"
    if not text[0].isalpha():
        text = f"d_{text}"
    return text[:64]


def _valid_attribute(name: str) -> bool:
    kind, sep, value = name.partition(":")
    return bool(sep) and kind in EVENT_KINDS and bool(value) and value == value.strip()


def interpret(u: Understanding, state: DialogueState, turn: int, index: CatalogIndex) -> Interpretation:
    """The events recording the user's message `u` in `turn` (rules in the module docstring)."""
    out = Interpretation(events=[UserUttered(turn=turn, text=u.text, intent=u.intent.value)])
    shown = set(state.last_recommendation.item_ids) if state.last_recommendation else set()
    for m in u.items:
        event = _item_event(m, u, shown, turn)
        if event is not None:
            out.events.append(event)
    pending = state.pending_question
    answer_liked: list[str] = []
    answer_disliked: list[str] = []
    for a in u.attributes:
        if a.polarity not in (Polarity.LIKED, Polarity.DISLIKED) or not _valid_attribute(a.attribute):
            continue
        if not index.knows(a.attribute):
            out.unknown_attributes.append(a.attribute)
        if pending is not None and a.kind == pending:
            target = answer_liked if a.polarity is Polarity.LIKED else answer_disliked
            if a.attribute not in answer_liked and a.attribute not in answer_disliked:
                target.append(a.attribute)
        else:
            out.events.append(
                AttributePreferred(attribute=a.attribute, polarity=_VERDICTS[a.polarity], turn=turn)  # type: ignore[arg-type]
            )
    nothing_said = not (u.items or u.attributes or u.critiques)
    if pending is not None and (answer_liked or answer_disliked):
        out.events.append(
            QuestionAnswered(
                turn=turn,
                attribute_kind=pending,
                liked=tuple(answer_liked),
                disliked=tuple(answer_disliked),  # type: ignore[arg-type]
            )
        )
    elif pending is not None and nothing_said and u.intent not in _NO_ANSWER_INTENTS:
        out.events.append(QuestionAnswered(turn=turn, attribute_kind=pending))  # type: ignore[arg-type]
        out.answered_without_preference = True
    for c in u.critiques:
        out.events.extend(_critique_events(c, state, turn, index, out))
    return out


def _item_event(m: ItemMention, u: Understanding, shown: set[int], turn: int) -> Event | None:
    if m.item_id is None:
        return None
    item, intent = m.item_id, u.intent
    if intent in _SUBJECT_INTENTS and (m.source == "reference" or m.polarity is Polarity.NEUTRAL):
        return None
    if item in shown:
        if intent is Intent.ACCEPT and m.polarity in (Polarity.LIKED, Polarity.NEUTRAL):
            return ItemAccepted(turn=turn, item_id=item)
        if m.source == "reference" and (
            m.polarity is Polarity.DISLIKED or (intent is Intent.REJECT and m.polarity is Polarity.NEUTRAL)
        ):
            return ItemRejected(turn=turn, item_id=item, reason=u.text.strip()[:500] or None)
    if m.polarity in _VERDICTS:
        return ItemMentioned(item_id=item, polarity=_VERDICTS[m.polarity], turn=turn)  # type: ignore[arg-type]
    return None


def _critique_events(
    c: Critique, state: DialogueState, turn: int, index: CatalogIndex, out: Interpretation
) -> list[Event]:
    dimension = c.dimension
    if dimension not in CRITIQUE_DIMENSIONS and c.attribute and _valid_attribute(c.attribute):
        dimension = c.attribute  # a free-form dimension the ranking can act on through its attribute
    dimension = label(dimension)
    if not supports_critique(dimension, index):
        out.unsupported_critiques.append(dimension)
    events: list[Event] = [
        CritiqueGiven(turn=turn, dimension=dimension, direction=c.direction, reference_item=c.reference_item)
    ]
    shown = state.last_recommendation.item_ids if state.last_recommendation else ()
    if dimension == "recency" and c.comparative and shown:
        median = index.median_year(shown)
        if median is not None:
            name = "year_min" if c.direction == "more" else "year_max"
            events.append(SlotSet(name=name, value=median))
    return events
