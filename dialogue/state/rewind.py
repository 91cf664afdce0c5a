"""Undo for dialogue logs: resolving `TurnsRewound` events, and building one that undoes the last n turns.

The log stays append-only: an undo is itself an event, `TurnsRewound(to_turn)`, and the events it cancels
stay in the log (for audit) but no longer count once `effective_events` has resolved it.
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogue.state.events import Event, TurnsRewound, UserUttered
from recsys.errors import ValidationError


def effective_indices(events: Sequence[Event]) -> list[int]:
    """Positions in `events` that still count once every TurnsRewound is resolved, in order.

    `TurnsRewound(to_turn)` drops, from the events kept so far, the first `UserUttered` whose turn is
    >= to_turn and everything after it; the rewind event itself is dropped too. So the state goes back to
    just before the user's turn `to_turn`, and later events apply on top. Nothing to drop: no effect.
    """
    kept: list[int] = []
    for i, event in enumerate(events):
        if isinstance(event, TurnsRewound):
            cut = next(
                (
                    j
                    for j, k in enumerate(kept)
                    if isinstance(events[k], UserUttered) and events[k].turn >= event.to_turn  # type: ignore[attr-defined]
                ),
                None,
            )
            if cut is not None:
                del kept[cut:]
        else:
            kept.append(i)
    return kept


def effective_events(events: Sequence[Event]) -> list[Event]:
    """`events` with every TurnsRewound resolved (see `effective_indices`)."""
    return [events[i] for i in effective_indices(events)]


def rewind_target(events: Sequence[Event], n_turns: int) -> int | None:
    """The `to_turn` of a TurnsRewound that undoes the user's last `n_turns` turns (None: no user turn).

    Asking for more turns than there are undoes them all.
    """
    if n_turns < 1:
        raise ValidationError(f"n_turns must be >= 1, got {n_turns}")
    turns = [e.turn for e in effective_events(events) if isinstance(e, UserUttered)]
    if not turns:
        return None
    return turns[-min(n_turns, len(turns))]


def rewind(events: Sequence[Event], n_turns: int) -> list[Event]:
    """The effective log without the user's last `n_turns` turns (their utterances and what followed)."""
    target = rewind_target(events, n_turns)
    kept = effective_events(events)
    if target is None:
        return kept
    return effective_events([*kept, TurnsRewound(to_turn=target, at=kept[-1].at)])
