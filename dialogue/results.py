"""What the dialogue manager returns: turn results, recommended items, questions and state summaries.

Every type has `to_dict()` giving plain JSON types (the API and `crs chat --json` serialise these). The
dicts are built field by field (no `dataclasses.asdict` deep copy) and `TurnResult.to_dict()` is exactly the
API's response body of a turn: `api.schemas.TurnPublic` validated and dumped in JSON mode gives the same dict
(same keys, same order, same values; tests/api/test_api_turn_body.py holds that for varied turns), so the API
sends it without re-validating its own output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dialogue.nlg import ItemExplanation
from dialogue.state.state import DialogueState
from dialogue.understanding.types import Understanding
from recsys.catalog.types import Catalog
from recsys.models.types import Trace

MAX_TITLES = 20  # titles listed per set in a state summary (the counts are always complete)


@dataclass(frozen=True)
class RecommendedItem:
    """One recommendation as shown: catalog facts, final score, generator provenance and an explanation
    (`explanation_source`: "template", or "llm" for an LLM text that passed the guard)."""

    item_id: int
    title: str
    year: int | None
    score: float
    provenance: dict[str, dict[str, float | int]]
    explanation: str
    genres: tuple[str, ...] = ()
    explanation_source: str = "template"

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        item_id: int,
        score: float,
        provenance: Mapping[str, Trace],
        explanation: str | ItemExplanation,
    ) -> RecommendedItem:
        item = catalog[item_id]
        prov = {
            name: {"score": round(float(t.score), 6), "rank": int(t.rank)} for name, t in provenance.items()
        }
        if isinstance(explanation, ItemExplanation):
            text, source = explanation.text, explanation.source
        else:
            text, source = explanation, "template"
        return cls(
            item_id, item.title, item.year, round(float(score), 6), prov, text, tuple(item.genres), source
        )

    def to_dict(self) -> dict[str, Any]:
        """Keys in the order of the API's RecommendationPublic."""
        return {
            "item_id": self.item_id,
            "title": self.title,
            "year": self.year,
            "score": self.score,
            "provenance": {
                name: {"score": float(t["score"]), "rank": int(t["rank"])}
                for name, t in self.provenance.items()
            },
            "explanation": self.explanation,
            "explanation_source": self.explanation_source,
            "genres": list(self.genres),
        }


@dataclass(frozen=True)
class ProfileView:
    """The user's language profile as a turn shows it.

    source: "llm" or "template" (written this turn, or shown without being stored when nothing is known
    yet), "user" (the user's own text, which inference never overwrites), "stored" (written on an
    earlier turn and still current). `updated`: rewritten this turn. `version`: the stored profile's
    profile_version after this turn (None for an anonymous session)."""

    text: str
    source: str
    updated: bool = False
    version: int | None = None
    edited_by_user: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "source": self.source,
            "updated": self.updated,
            "version": self.version,
            "edited_by_user": self.edited_by_user,
        }


@dataclass(frozen=True)
class QuestionView:
    """A question the system asked: on which attribute kind, its text and the offered values."""

    attribute_kind: str
    text: str
    options: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"attribute_kind": self.attribute_kind, "text": self.text, "options": list(self.options)}


_SCALARS = frozenset({str, int, float, bool, type(None)})  # exactly these types are copied as they are


def _plain(value: Any) -> Any:
    """A copy of JSON-like data with tuples as lists (what `dataclasses.asdict` and a JSON dump would give,
    without their generic cost). Scalars inside are taken as they are, without a call per value."""
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _SCALARS else _plain(v) for v in value]
    return value


def _titles(catalog: Catalog, items: Iterable[int]) -> dict[str, Any]:
    ids = list(items)
    return {"count": len(ids), "titles": [catalog[i].display for i in ids[-MAX_TITLES:]]}


@dataclass(frozen=True)
class StateSummary:
    """The state as the user may see it: item sets (counts and titles), attributes, critiques, questions."""

    turn: int
    items: dict[str, dict[str, Any]]
    liked_attributes: tuple[str, ...]
    disliked_attributes: tuple[str, ...]
    critiques: tuple[dict[str, Any], ...]
    questions_asked: tuple[str, ...]
    pending_question: str | None
    slots: dict[str, Any]
    ended: bool = False

    @classmethod
    def of(cls, state: DialogueState, catalog: Catalog) -> StateSummary:
        sets = {
            "liked": state.liked_items,
            "disliked": state.disliked_items,
            "seen": state.seen_items,
            "shown": state.shown_items,
            "accepted": state.accepted_items,
            "rejected": state.rejected_items,
        }
        critiques = tuple(
            {
                "dimension": c.dimension,
                "direction": c.direction,
                "reference_item": c.reference_item,
                "reference_title": catalog[c.reference_item].display
                if c.reference_item is not None
                else None,
                "turn": c.turn,
            }
            for c in state.critiques
        )
        return cls(
            turn=state.turn,
            items={name: _titles(catalog, s) for name, s in sets.items()},
            liked_attributes=tuple(state.liked_attributes),
            disliked_attributes=tuple(state.disliked_attributes),
            critiques=critiques,
            questions_asked=tuple(state.asked_kinds),
            pending_question=state.pending_question,
            slots=state.slots.to_dict(),
            ended=state.ended,
        )

    def to_dict(self) -> dict[str, Any]:
        """A fresh dict (nothing shared with this summary: callers may change it)."""
        return {
            "turn": self.turn,
            "items": _plain(self.items),
            "liked_attributes": list(self.liked_attributes),
            "disliked_attributes": list(self.disliked_attributes),
            "critiques": _plain(self.critiques),
            "questions_asked": list(self.questions_asked),
            "pending_question": self.pending_question,
            "slots": _plain(self.slots),
            "ended": self.ended,
        }


def understanding_dict(u: Understanding, catalog: Catalog) -> dict[str, Any]:
    """What was extracted from the message, for transparency (titles resolved from the catalog)."""
    return {
        "intent": u.intent.value,
        "intents": [i.value for i in u.intents],
        "items": [
            {
                "item_id": m.item_id,
                "title": catalog[m.item_id].display if m.item_id is not None else None,
                "polarity": m.polarity.value,
                "surface": m.surface,
                "source": m.source,
                "redial_id": m.redial_id,
            }
            for m in u.items
        ],
        "attributes": [
            {"attribute": a.attribute, "polarity": a.polarity.value, "surface": a.surface, "known": a.known}
            for a in u.attributes
        ],
        "critiques": [
            {
                "dimension": c.dimension,
                "direction": c.direction,
                "reference_item": c.reference_item,
                "attribute": c.attribute,
                "comparative": c.comparative,
                "surface": c.surface,
            }
            for c in u.critiques
        ],
    }


@dataclass(frozen=True)
class TurnResult:
    """The outcome of one user turn (see `DialogueManager.turn`)."""

    session_id: str
    turn: int
    reply: str
    action: str
    intent: str | None
    recommendations: tuple[RecommendedItem, ...] = ()
    question: QuestionView | None = None
    subjects: tuple[int, ...] = ()  # the items explained or answered about
    state: StateSummary | None = None
    understanding: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what the system could not act on (unknown attributes, critiques)
    profile: ProfileView | None = None  # the language profile after this turn

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "turn": self.turn,
            "reply": self.reply,
            "action": self.action,
            "intent": self.intent,
            "recommendations": [r.to_dict() for r in self.recommendations],
            "question": self.question.to_dict() if self.question else None,
            "subjects": list(self.subjects),
            "state": self.state.to_dict() if self.state else None,
            "understanding": _plain(self.understanding),
            "notes": list(self.notes),
            "profile": self.profile.text if self.profile else None,
            "profile_info": self.profile.to_dict() if self.profile else None,
        }


@dataclass(frozen=True)
class SessionView:
    """A session as `get_session` / `end_session` return it: its state summary and its transcript."""

    session_id: str
    user_id: str | None
    state: StateSummary
    transcript: tuple[dict[str, Any], ...]
    last_recommendation: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, state: DialogueState, catalog: Catalog) -> SessionView:
        transcript = tuple({"turn": e.turn, "user": e.user_text, "bot": e.bot_text} for e in state.transcript)
        last = ()
        if state.last_recommendation is not None:
            rec = state.last_recommendation
            last = tuple(
                {"item_id": i, "title": catalog[i].title, "year": catalog[i].year, "score": s}
                for i, s in zip(rec.item_ids, rec.scores, strict=True)
            )
        return cls(state.session_id, state.user_id, StateSummary.of(state, catalog), transcript, last)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "user_id": self.user_id,
            "state": self.state.to_dict(),
            "transcript": list(self.transcript),
            "last_recommendation": list(self.last_recommendation),
        }
