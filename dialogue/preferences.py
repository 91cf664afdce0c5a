"""`Preferences`: what the ranking and the policy use from a dialogue state and the user's long-term profile.

The session's own words come first; the profile (earlier sessions) adds weaker seeds and lasting dislikes,
unless this session said otherwise (an item liked today is not disliked because of last month):

liked_items            liked in this session (oldest first), full-weight seeds
accepted_items         accepted in this session ("I'll watch that"): weaker seeds
reference_items        critique anchors not otherwise liked ("like Heat but funnier"): seeds
profile_liked_items    liked or accepted in earlier sessions: weaker seeds
disliked_items         disliked now or before: never recommended
liked_attributes       this session's liked attributes; profile_liked_attributes the earlier ones
disliked_attributes    this session's and earlier ones: items having one are never recommended
critiques              the latest critique per dimension (a later "older" replaces "more recent")
excluded_items         never recommended: shown, accepted, rejected, disliked, and (unless the
                       `include_seen` slot is on) seen or liked now or before
year_min / year_max    the release-year window (slots)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from dialogue.state.profile import UserProfile
from dialogue.state.state import DialogueState


@dataclass(frozen=True)
class ActiveCritique:
    """A critique still in force: `direction` ("more"/"less") along `dimension`, maybe relative to an item."""

    dimension: str
    direction: str
    reference_item: int | None = None
    turn: int = 0


def _unique(values: Iterable[int | str], drop: Iterable[int | str] = ()) -> tuple:
    dropped = set(drop)
    return tuple(dict.fromkeys(v for v in values if v not in dropped))


@dataclass(frozen=True)
class Preferences:
    """Seeds, dislikes, critiques and exclusions for one ranking (see the module docstring)."""

    liked_items: tuple[int, ...] = ()
    accepted_items: tuple[int, ...] = ()
    reference_items: tuple[int, ...] = ()
    profile_liked_items: tuple[int, ...] = ()
    disliked_items: tuple[int, ...] = ()
    liked_attributes: tuple[str, ...] = ()
    profile_liked_attributes: tuple[str, ...] = ()
    disliked_attributes: tuple[str, ...] = ()
    critiques: tuple[ActiveCritique, ...] = ()
    excluded_items: frozenset[int] = frozenset()
    year_min: int | None = None
    year_max: int | None = None

    @classmethod
    def from_state(cls, state: DialogueState, profile: UserProfile | None = None) -> Preferences:
        """The preferences of a session, with the user's profile (if any) as weaker, older evidence."""
        liked = tuple(state.liked_items)
        disliked_now = set(state.disliked_items)
        accepted = _unique(state.accepted_items, liked)
        latest: dict[str, ActiveCritique] = {}
        for c in state.critiques:
            latest.pop(c.dimension, None)  # re-insert: the dict keeps the order of the latest critiques
            latest[c.dimension] = ActiveCritique(c.dimension, c.direction, c.reference_item, c.turn)
        references = _unique(
            (c.reference_item for c in latest.values() if c.reference_item is not None),
            (*liked, *accepted, *disliked_now),
        )
        session_items = {*liked, *accepted, *references, *disliked_now}
        liked_attrs = tuple(state.liked_attributes)
        disliked_attrs = tuple(state.disliked_attributes)
        excluded = set(state.excluded_items())
        profile_liked: tuple[int, ...] = ()
        profile_attrs: tuple[str, ...] = ()
        disliked = list(state.disliked_items)
        if profile is not None:
            profile_liked = _unique((*profile.liked_items, *profile.accepted_items), session_items)
            profile_attrs = _unique(profile.liked_attributes, (*liked_attrs, *disliked_attrs))
            disliked += [i for i in profile.disliked_items if i not in session_items]
            disliked_attrs = _unique((*disliked_attrs, *profile.disliked_attributes), liked_attrs)
            excluded |= set(disliked) | set(profile.accepted_items)
            if not state.slots.include_seen:
                excluded |= set(profile.seen_items) | set(profile.liked_items)
        return cls(
            liked_items=liked,
            accepted_items=accepted,
            reference_items=references,
            profile_liked_items=profile_liked,
            disliked_items=_unique(disliked),
            liked_attributes=liked_attrs,
            profile_liked_attributes=profile_attrs,
            disliked_attributes=disliked_attrs,
            critiques=tuple(latest.values()),
            excluded_items=frozenset(excluded),
            year_min=state.slots.year_min,
            year_max=state.slots.year_max,
        )

    @classmethod
    def from_lists(
        cls,
        liked: Iterable[int] = (),
        disliked: Iterable[int] = (),
        *,
        liked_attributes: Iterable[str] = (),
        disliked_attributes: Iterable[str] = (),
        profile: UserProfile | None = None,
    ) -> Preferences:
        """Stateless preferences (no session): given items and attributes, plus a profile if any."""
        liked_t = _unique(liked)
        disliked_t = _unique(disliked, liked_t)
        liked_a = _unique(liked_attributes)
        disliked_a = _unique(disliked_attributes, liked_a)
        excluded = {*liked_t, *disliked_t}
        profile_liked: tuple[int, ...] = ()
        profile_attrs: tuple[str, ...] = ()
        if profile is not None:
            session = {*liked_t, *disliked_t}
            profile_liked = _unique((*profile.liked_items, *profile.accepted_items), session)
            profile_attrs = _unique(profile.liked_attributes, (*liked_a, *disliked_a))
            disliked_t = _unique((*disliked_t, *profile.disliked_items), liked_t)
            disliked_a = _unique((*disliked_a, *profile.disliked_attributes), liked_a)
            excluded |= set(disliked_t) | set(profile.seen_items) | set(profile.accepted_items)
            excluded |= set(profile.liked_items)
        return cls(
            liked_items=liked_t,
            profile_liked_items=profile_liked,
            disliked_items=disliked_t,
            liked_attributes=liked_a,
            profile_liked_attributes=profile_attrs,
            disliked_attributes=disliked_a,
            excluded_items=frozenset(excluded),
        )

    # ------------------------------------------------------------------ views
    @cached_property
    def seed_items(self) -> tuple[int, ...]:
        """Every liked seed, strongest evidence first: session likes, anchors, accepted, profile likes."""
        return _unique(
            (*self.liked_items, *self.reference_items, *self.accepted_items, *self.profile_liked_items)
        )

    @property
    def n_liked_items(self) -> int:
        """How many liked seeds there are (the policy's "enough signal" test counts these)."""
        return len(self.seed_items)

    @cached_property
    def all_liked_attributes(self) -> tuple[str, ...]:
        return _unique((*self.liked_attributes, *self.profile_liked_attributes))

    def critique(self, dimension: str) -> ActiveCritique | None:
        """The critique in force on `dimension`, if any."""
        return next((c for c in self.critiques if c.dimension == dimension), None)
