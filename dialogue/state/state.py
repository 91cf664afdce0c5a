"""`DialogueState`: the typed state of one dialogue session, folded from its events.

`state.apply(event)` updates the state in place (one small handler per event type, chosen through a
dispatch table) and returns it; `DialogueState.replay(events)` rebuilds a state from a session's whole log.
For every log the store can hold, replaying it equals applying its events one by one (rewinds aside).

State rules, one per event type (items are catalog ids; the item sets keep recency order, oldest first,
and re-adding a member moves it to the end):

SessionStarted      starts the state (first event only; a second one raises).
UserUttered         new transcript entry (turn, text, no reply yet); `last_intent` := its intent.
BotUttered          fills the reply of the transcript entry of the same turn (a second reply in that turn is
                    joined with a newline); a reply to no user text (a greeting) gets its own entry.
ItemMentioned       liked / disliked: the item moves to that set and leaves the other one (last word wins),
                    and counts as seen (the user knows it). seen: added to seen only.
FeedbackGiven       like / dislike / seen: as ItemMentioned; accept / reject: as ItemAccepted / ItemRejected.
ItemsRecommended    every item counts as shown (in rank order); `last_recommendation` := this list.
ItemAccepted        accepted, and leaves rejected (last word wins); counts as shown. Not "liked": the user
                    has not watched it yet.
ItemRejected        rejected, and leaves accepted (last word wins); a rejected item counts as shown. Not
                    "disliked": "not now" is no verdict on the film.
AttributePreferred  liked / disliked attribute; it leaves the other set (last word wins).
QuestionAsked       `last_question` := it; `pending_question` := its attribute kind; that kind joins
                    `asked_kinds`.
QuestionAnswered    its liked / disliked attributes as AttributePreferred; clears the pending question when it
                    answers that kind. Empty answers ("no preference") just clear it.
CritiqueGiven       appended to `critiques` (oldest first).
SlotSet             sets the typed slot (see `dialogue.state.slots`, including its year-window rule).
ProfileEdited       `profile_text` := its text; `profile_edited_by_user` := (source == "user").
SessionEnded        `ended` := True; applying any later event raises (the store refuses such appends).
TurnsRewound        cannot be applied incrementally: it needs the log. `replay` resolves it (see
                    `effective_events`); `apply` raises and says so.
Every event         `turn` := max(turn, event.turn) when the event has a turn; `updated_at` := event.at;
                    `event_count` += 1 (the number of log entries the state covers).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dialogue.state.events import (
    AttributePreferred,
    BotUttered,
    CritiqueGiven,
    Event,
    FeedbackGiven,
    ItemAccepted,
    ItemMentioned,
    ItemRejected,
    ItemsRecommended,
    ProfileEdited,
    QuestionAnswered,
    QuestionAsked,
    SessionEnded,
    SessionStarted,
    SlotSet,
    TurnsRewound,
    UserUttered,
)
from dialogue.state.ordered import OrderedSet
from dialogue.state.rewind import effective_events
from dialogue.state.slots import Slots
from recsys.errors import ValidationError


@dataclass
class TranscriptEntry:
    """One exchange: what the user said in `turn` and what the system replied (either may be missing)."""

    turn: int
    user_text: str | None
    bot_text: str | None = None


@dataclass(frozen=True)
class Critique:
    turn: int
    dimension: str
    direction: str
    reference_item: int | None = None


@dataclass(frozen=True)
class Question:
    turn: int
    attribute_kind: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    turn: int
    item_ids: tuple[int, ...]
    scores: tuple[float, ...]


@dataclass
class DialogueState:
    """Everything the dialogue manager knows about one session. Build it with `start` or `replay`."""

    session_id: str
    user_id: str | None = None
    started_at: float = 0.0
    updated_at: float = 0.0
    turn: int = 0
    event_count: int = 0
    ended: bool = False
    end_reason: str | None = None
    liked_items: OrderedSet[int] = field(default_factory=OrderedSet)
    disliked_items: OrderedSet[int] = field(default_factory=OrderedSet)
    seen_items: OrderedSet[int] = field(default_factory=OrderedSet)
    shown_items: OrderedSet[int] = field(default_factory=OrderedSet)
    accepted_items: OrderedSet[int] = field(default_factory=OrderedSet)
    rejected_items: OrderedSet[int] = field(default_factory=OrderedSet)
    liked_attributes: OrderedSet[str] = field(default_factory=OrderedSet)
    disliked_attributes: OrderedSet[str] = field(default_factory=OrderedSet)
    critiques: list[Critique] = field(default_factory=list)
    last_intent: str | None = None
    last_question: Question | None = None
    pending_question: str | None = None  # attribute kind of the unanswered question
    asked_kinds: OrderedSet[str] = field(default_factory=OrderedSet)
    last_recommendation: Recommendation | None = None
    slots: Slots = field(default_factory=Slots)
    profile_text: str | None = None
    profile_edited_by_user: bool = False
    transcript: list[TranscriptEntry] = field(default_factory=list)

    # ---------------------------------------------------------------- building

    @classmethod
    def start(cls, event: SessionStarted) -> DialogueState:
        """The state right after `event`, the session's first event."""
        if not isinstance(event, SessionStarted):
            raise ValidationError(f"a session's log starts with session_started, not {event.type}")
        return cls(
            session_id=event.session_id,
            user_id=event.user_id,
            started_at=event.at,
            updated_at=event.at,
            event_count=1,
        )

    @classmethod
    def replay(cls, events: Iterable[Event]) -> DialogueState:
        """Rebuild the state from a session's whole log (rewinds resolved)."""
        log = list(events)
        if not log:
            raise ValidationError("cannot replay an empty event log")
        kept = effective_events(log)
        state = cls.start(kept[0])  # type: ignore[arg-type] - start() checks the type
        state.apply_all(kept[1:])
        state.event_count = len(log)
        return state

    def apply(self, event: Event) -> DialogueState:
        """Apply one event in place (rules in the module docstring); returns self."""
        handler = _DISPATCH.get(type(event))
        if handler is None:
            raise ValidationError(f"no state rule for event type {type(event).__name__}")
        if self.ended:
            raise ValidationError(f"session {self.session_id} has ended; cannot apply {event.type}")
        handler(self, event)
        turn = getattr(event, "turn", None)
        if turn is not None and turn > self.turn:
            self.turn = turn
        self.updated_at = event.at
        self.event_count += 1
        return self

    def apply_all(self, events: Iterable[Event]) -> DialogueState:
        for event in events:
            self.apply(event)
        return self

    def copy(self) -> DialogueState:
        """An independent deep copy (to try events without touching this state)."""
        return copy.deepcopy(self)

    # ---------------------------------------------------------------- derived views

    def excluded_items(self) -> set[int]:
        """Items not to recommend again: shown, accepted, rejected, disliked, and - unless the
        `include_seen` slot is on - seen and liked ones."""
        out = set(self.shown_items) | set(self.accepted_items) | set(self.rejected_items)
        out |= set(self.disliked_items)
        if not self.slots.include_seen:
            out |= set(self.seen_items) | set(self.liked_items)
        return out

    # ---------------------------------------------------------------- shared transitions

    def _like_item(self, item: int) -> None:
        self.liked_items.add(item)
        self.disliked_items.discard(item)
        self.seen_items.add(item)

    def _dislike_item(self, item: int) -> None:
        self.disliked_items.add(item)
        self.liked_items.discard(item)
        self.seen_items.add(item)

    def _accept_item(self, item: int) -> None:
        self.accepted_items.add(item)
        self.rejected_items.discard(item)
        self.shown_items.add(item)

    def _reject_item(self, item: int) -> None:
        self.rejected_items.add(item)
        self.accepted_items.discard(item)
        self.shown_items.add(item)

    def _prefer_attribute(self, attribute: str, liked: bool) -> None:
        keep, drop = (
            (self.liked_attributes, self.disliked_attributes)
            if liked
            else (self.disliked_attributes, self.liked_attributes)
        )
        keep.add(attribute)
        drop.discard(attribute)

    # ---------------------------------------------------------------- one handler per event type

    def _on_session_started(self, e: SessionStarted) -> None:
        raise ValidationError(
            f"session {self.session_id} already started; a second session_started is invalid"
        )

    def _on_user_uttered(self, e: UserUttered) -> None:
        self.transcript.append(TranscriptEntry(turn=e.turn, user_text=e.text))
        self.last_intent = e.intent

    def _on_bot_uttered(self, e: BotUttered) -> None:
        last = self.transcript[-1] if self.transcript else None
        if last is not None and last.turn == e.turn:
            last.bot_text = e.text if last.bot_text is None else f"{last.bot_text}\n{e.text}"
        else:
            self.transcript.append(TranscriptEntry(turn=e.turn, user_text=None, bot_text=e.text))

    def _on_item_mentioned(self, e: ItemMentioned) -> None:
        if e.polarity == "liked":
            self._like_item(e.item_id)
        elif e.polarity == "disliked":
            self._dislike_item(e.item_id)
        else:
            self.seen_items.add(e.item_id)

    def _on_feedback_given(self, e: FeedbackGiven) -> None:
        _FEEDBACK[e.kind](self, e.item_id)

    def _on_items_recommended(self, e: ItemsRecommended) -> None:
        for item in e.item_ids:
            self.shown_items.add(item)
        self.last_recommendation = Recommendation(turn=e.turn, item_ids=e.item_ids, scores=e.scores)

    def _on_item_accepted(self, e: ItemAccepted) -> None:
        self._accept_item(e.item_id)

    def _on_item_rejected(self, e: ItemRejected) -> None:
        self._reject_item(e.item_id)

    def _on_attribute_preferred(self, e: AttributePreferred) -> None:
        self._prefer_attribute(e.attribute, e.polarity == "liked")

    def _on_critique_given(self, e: CritiqueGiven) -> None:
        self.critiques.append(Critique(e.turn, e.dimension, e.direction, e.reference_item))

    def _on_question_asked(self, e: QuestionAsked) -> None:
        self.last_question = Question(e.turn, e.attribute_kind, e.options)
        self.pending_question = e.attribute_kind
        self.asked_kinds.add(e.attribute_kind)

    def _on_question_answered(self, e: QuestionAnswered) -> None:
        for attribute in e.liked:
            self._prefer_attribute(attribute, liked=True)
        for attribute in e.disliked:
            self._prefer_attribute(attribute, liked=False)
        if self.pending_question == e.attribute_kind:
            self.pending_question = None

    def _on_slot_set(self, e: SlotSet) -> None:
        self.slots.set(e.name, e.value)

    def _on_profile_edited(self, e: ProfileEdited) -> None:
        self.profile_text = e.text
        self.profile_edited_by_user = e.source == "user"

    def _on_session_ended(self, e: SessionEnded) -> None:
        self.ended = True
        self.end_reason = e.reason

    def _on_turns_rewound(self, e: TurnsRewound) -> None:
        raise ValidationError(
            "turns_rewound needs the event log: rebuild with DialogueState.replay(events + [event])"
        )


_FEEDBACK: dict[str, Callable[[DialogueState, int], None]] = {
    "like": DialogueState._like_item,
    "dislike": DialogueState._dislike_item,
    "accept": DialogueState._accept_item,
    "reject": DialogueState._reject_item,
    "seen": lambda state, item: state.seen_items.add(item),
}

# event class -> handler; every registered event type has one (checked by the tests).
_DISPATCH: dict[type[Event], Callable[[DialogueState, Event], None]] = {
    cls: getattr(DialogueState, f"_on_{cls.type}")
    for cls in (
        SessionStarted,
        UserUttered,
        BotUttered,
        ItemMentioned,
        FeedbackGiven,
        ItemsRecommended,
        ItemAccepted,
        ItemRejected,
        AttributePreferred,
        CritiqueGiven,
        QuestionAsked,
        QuestionAnswered,
        SlotSet,
        ProfileEdited,
        SessionEnded,
        TurnsRewound,
    )
}


def handled_event_types() -> frozenset[type[Event]]:
    """The event classes `DialogueState.apply` has a rule for."""
    return frozenset(_DISPATCH)
