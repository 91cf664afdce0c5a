"""`UserProfile`: a user's long-term preferences, aggregated over all their sessions.

It holds what outlives a session - liked / disliked / seen / accepted items, liked / disliked attributes -
and the language profile: a text written by the LLM layer or edited by the user (`profile_text`), with
`profile_version` (+1 per rewrite) and `edited_by_user` (the latest text is the user's own words, which the
LLM layer should build on rather than discard).

Merging a session (`merge_session`) is incremental and idempotent: the profile remembers how many events
of each session it has merged, and only folds in the rest, so an ongoing session can be merged after every
turn and again when it ends. Merge rules, applied event by event in log order:

item liked / disliked (ItemMentioned, FeedbackGiven like/dislike)
    moves to that set and leaves the other (last word wins, so a newer session overrides an older one);
    counts as seen.
item seen (ItemMentioned seen, FeedbackGiven seen)    joins seen.
item accepted (ItemAccepted, FeedbackGiven accept)    joins accepted (the user chose to watch it).
attribute liked / disliked (AttributePreferred, QuestionAnswered)    as items, last word wins.
ProfileEdited    replaces the text: profile_version += 1, edited_by_user := (source == "user"); except that
    a system rewrite (source "llm") never replaces a text the user wrote (their words win over inference).
Session-local, not merged: shown items, rejections ("not now" is about this evening, not the film),
critiques, questions, slots and the transcript.
Undone turns (TurnsRewound) are skipped if they had not been merged yet; facts merged before the undo stay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dialogue.state.events import (
    AttributePreferred,
    Event,
    FeedbackGiven,
    ItemAccepted,
    ItemMentioned,
    ProfileEdited,
    QuestionAnswered,
    SessionStarted,
    TurnsRewound,
)
from dialogue.state.ordered import OrderedSet
from dialogue.state.rewind import effective_indices
from recsys.errors import ValidationError


@dataclass
class UserProfile:
    """Long-term preferences and language profile of one user (stored without expiry)."""

    user_id: str
    liked_items: OrderedSet[int] = field(default_factory=OrderedSet)
    disliked_items: OrderedSet[int] = field(default_factory=OrderedSet)
    seen_items: OrderedSet[int] = field(default_factory=OrderedSet)
    accepted_items: OrderedSet[int] = field(default_factory=OrderedSet)
    liked_attributes: OrderedSet[str] = field(default_factory=OrderedSet)
    disliked_attributes: OrderedSet[str] = field(default_factory=OrderedSet)
    profile_text: str | None = None
    profile_version: int = 0
    edited_by_user: bool = False
    merged_events: dict[str, int] = field(default_factory=dict)  # session id -> log entries merged
    version: int = 0  # version of the stored record (optimistic concurrency); 0 = never stored
    updated_at: float = 0.0

    @property
    def is_empty(self) -> bool:
        """No preference and no text yet."""
        return not (
            self.liked_items
            or self.disliked_items
            or self.seen_items
            or self.accepted_items
            or self.liked_attributes
            or self.disliked_attributes
            or self.profile_text
        )

    def merge_session(self, session_id: str, events: Sequence[Event]) -> int:
        """Fold in the events of `session_id` not merged yet (rules in the module docstring).

        `events` is the session's whole log. Returns how many events were newly considered.
        Raises ValidationError if the log is not this user's session or is shorter than what was merged.
        """
        if not events or not isinstance(events[0], SessionStarted):
            raise ValidationError(f"session {session_id}: a log starts with session_started")
        first = events[0]
        if first.session_id != session_id:
            raise ValidationError(f"log of session {first.session_id} given for session {session_id}")
        if first.user_id != self.user_id:
            raise ValidationError(f"session {session_id} belongs to {first.user_id!r}, not {self.user_id!r}")
        done = self.merged_events.get(session_id, 0)
        if len(events) < done:
            raise ValidationError(
                f"session {session_id} has {len(events)} events but {done} were already merged"
            )
        new = [events[i] for i in effective_indices(events) if i >= done]
        self._fold(session_id, new, len(events), events[-1].at)
        return len(events) - done

    def merge_tail(self, session_id: str, start: int, tail: Sequence[Event]) -> int:
        """`merge_session` given only the events from index `start` on (the log's first `start` entries
        are not needed): what a store reads when it knows what was merged already.

        `start` must be what this profile has merged of the session. A tail without TurnsRewound folds
        exactly as the whole log would (an undo only cancels events before it); a tail with one raises
        ValidationError - merge the whole log then. Returns how many events were newly considered.
        """
        done = self.merged_events.get(session_id, 0)
        if start != done:
            raise ValidationError(
                f"session {session_id}: tail starts at event {start}, but {done} events were merged"
            )
        if start == 0:
            return self.merge_session(session_id, tail)
        if any(isinstance(e, TurnsRewound) for e in tail):
            raise ValidationError(f"session {session_id}: a tail with an undo needs the whole log to merge")
        self._fold(session_id, tail, start + len(tail), tail[-1].at if tail else 0.0)
        return len(tail)

    def _fold(self, session_id: str, new: Sequence[Event], length: int, last_at: float) -> None:
        """Apply the merge rules to `new` (the effective events not merged yet); the log now has `length`
        events, the last one at `last_at`."""
        for event in new:
            rule = _MERGE_RULES.get(type(event))
            if rule is not None:
                rule(self, event)
        if length > self.merged_events.get(session_id, 0):
            self.updated_at = max(self.updated_at, last_at)
        self.merged_events[session_id] = length

    def set_profile_text(self, text: str, *, by_user: bool) -> None:
        """Replace the language profile text (a new profile_version)."""
        self.profile_text = text
        self.profile_version += 1
        self.edited_by_user = by_user

    def forget_item(self, item_id: int) -> bool:
        """Remove an item from every set (the user asked to forget it); True if it was anywhere."""
        sets = (self.liked_items, self.disliked_items, self.seen_items, self.accepted_items)
        return any([s.discard(item_id) for s in sets])

    def forget_attribute(self, attribute: str) -> bool:
        """Remove an attribute preference; True if there was one."""
        return any([self.liked_attributes.discard(attribute), self.disliked_attributes.discard(attribute)])

    # ------------------------------------------------------------ merge transitions

    def _item(self, item: int, verdict: str) -> None:
        if verdict in ("liked", "like"):
            self.liked_items.add(item)
            self.disliked_items.discard(item)
            self.seen_items.add(item)
        elif verdict in ("disliked", "dislike"):
            self.disliked_items.add(item)
            self.liked_items.discard(item)
            self.seen_items.add(item)
        elif verdict == "seen":
            self.seen_items.add(item)
        elif verdict == "accept":
            self.accepted_items.add(item)
        # "reject" is session-local

    def _attribute(self, attribute: str, liked: bool) -> None:
        keep, drop = (
            (self.liked_attributes, self.disliked_attributes)
            if liked
            else (self.disliked_attributes, self.liked_attributes)
        )
        keep.add(attribute)
        drop.discard(attribute)

    def _merge_profile_edited(self, e: ProfileEdited) -> None:
        if e.source != "user" and self.edited_by_user and self.profile_text:
            return  # inference never overwrites the user's own text
        if e.text == self.profile_text and self.edited_by_user == (e.source == "user"):
            return  # the same text again is no new version
        self.set_profile_text(e.text, by_user=e.source == "user")

    def _merge_question_answered(self, e: QuestionAnswered) -> None:
        for attribute in e.liked:
            self._attribute(attribute, liked=True)
        for attribute in e.disliked:
            self._attribute(attribute, liked=False)


_MERGE_RULES: dict[type[Event], Callable[[UserProfile, Event], None]] = {
    ItemMentioned: lambda p, e: p._item(e.item_id, e.polarity),  # type: ignore[attr-defined]
    FeedbackGiven: lambda p, e: p._item(e.item_id, e.kind),  # type: ignore[attr-defined]
    ItemAccepted: lambda p, e: p._item(e.item_id, "accept"),  # type: ignore[attr-defined]
    AttributePreferred: lambda p, e: p._attribute(e.attribute, e.polarity == "liked"),  # type: ignore[attr-defined]
    QuestionAnswered: UserProfile._merge_question_answered,  # type: ignore[dict-item]
    ProfileEdited: UserProfile._merge_profile_edited,  # type: ignore[dict-item]
}
