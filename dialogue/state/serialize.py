"""JSON (de)serialisation of events, dialogue states (snapshots) and user profiles.

Events are JSON objects `{"type": <tag>, <field>: <value>, ...}`; the `type` tag selects the class from
the event registry. An unknown type, an unknown or missing field, or a bad value raises
`ValidationError` naming the event type and the field. States and profiles carry a `schema` number;
`state_from_dict` / `profile_from_dict` refuse another schema (a stale snapshot is rebuilt, not misread).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, fields
from functools import cache
from typing import Any

import pydantic
from pydantic import TypeAdapter

from dialogue.state.events import Event, TurnsRewound, describe_validation_error, event_types
from dialogue.state.ordered import OrderedSet
from dialogue.state.profile import UserProfile
from dialogue.state.slots import Slots
from dialogue.state.state import Critique, DialogueState, Question, Recommendation, TranscriptEntry
from recsys.errors import ValidationError

log = logging.getLogger(__name__)

STATE_SCHEMA = 1
PROFILE_SCHEMA = 1


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _loads(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{what} is not valid JSON: {exc}") from None


@cache
def _adapter(cls: type[Event]) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


# -------------------------------------------------------------------- events


def event_to_dict(event: Event) -> dict[str, Any]:
    """`{"type": tag, ...fields}` with JSON-ready values."""
    if not event.type:
        raise ValidationError(f"{type(event).__name__} is not a registered event type")
    return {"type": event.type, **_adapter(type(event)).dump_python(event, mode="json")}


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """The event described by `data`; raises ValidationError for unknown types / fields or bad values."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"an event is a JSON object, got {type(data).__name__}")
    tag = data.get("type")
    registry = event_types()
    if not isinstance(tag, str) or tag not in registry:
        raise ValidationError(f"unknown event type {tag!r}; known types: {', '.join(sorted(registry))}")
    cls = registry[tag]
    fields_only = {k: v for k, v in data.items() if k != "type"}
    try:
        return _adapter(cls).validate_python(fields_only)
    except pydantic.ValidationError as exc:
        raise ValidationError(describe_validation_error(f"event {tag!r}", exc)) from None


def event_to_bytes(event: Event) -> bytes:
    """The event's JSON as UTF-8, serialised by pydantic-core directly: the same bytes as
    `json.dumps(event_to_dict(event))` with compact separators and non-ASCII kept (only a float exponent
    may be spelt differently: 1e-7, not 1e-07 - the same number), several times faster."""
    if not event.type:
        raise ValidationError(f"{type(event).__name__} is not a registered event type")
    body = _adapter(type(event)).dump_json(event)
    head = _TYPE_HEADS.get(event.type)
    if head is None:
        head = _TYPE_HEADS[event.type] = _dumps({"type": event.type})[:-1].encode() + b","
    return head + body[1:] if len(body) > 2 else head[:-1] + b"}"


_TYPE_HEADS: dict[str, bytes] = {}  # tag -> b'{"type":"<tag>",'


def event_to_json(event: Event) -> str:
    return event_to_bytes(event).decode()


def event_from_json(text: str | bytes) -> Event:
    return event_from_dict(_loads(text, "event"))


class EventCache:
    """Decoded events by their exact stored JSON, so a process decodes (and validates) each stored event
    once instead of at every load of its session.

    Safe to share: events are frozen, and equal bytes decode to equal events. Only events that decoded
    (or were encoded here) without error are kept, so a corrupt entry is re-checked - and refused - at
    every read. Bounded: the oldest entries are dropped first once `capacity` is reached.
    """

    def __init__(self, capacity: int = 16_384) -> None:
        if capacity < 1:
            raise ValidationError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._events: dict[bytes, Event] = {}

    def __len__(self) -> int:
        return len(self._events)

    def decode(self, raw: bytes) -> Event:
        """`event_from_json(raw)`, from the cache when these bytes were seen before."""
        event = self._events.get(raw)
        if event is None:
            event = event_from_json(raw)
            self.remember(raw, event)
        return event

    def encode(self, event: Event) -> bytes:
        """`event_to_json(event)` as UTF-8 bytes; remembered, so reading it back needs no decoding."""
        raw = event_to_bytes(event)
        self.remember(raw, event)
        return raw

    def remember(self, raw: bytes, event: Event) -> None:
        events = self._events
        if len(events) >= self.capacity:
            # FIFO eviction; another thread may have evicted the same key meanwhile
            with contextlib.suppress(StopIteration, RuntimeError):
                events.pop(next(iter(events)), None)
        events[raw] = event


# -------------------------------------------------------------------- dialogue state

_ORDERED_STATE_FIELDS = frozenset(f.name for f in fields(DialogueState) if f.default_factory is OrderedSet)


def state_to_dict(state: DialogueState) -> dict[str, Any]:
    """A JSON-ready dict of the whole state, with `schema`."""
    out: dict[str, Any] = {"schema": STATE_SCHEMA}
    for f in fields(state):
        value = getattr(state, f.name)
        if isinstance(value, OrderedSet):
            value = value.to_list()
        elif isinstance(value, Slots):
            value = value.to_dict()
        elif f.name in ("critiques", "transcript"):
            value = [asdict(v) for v in value]
        elif isinstance(value, Question | Recommendation):
            value = asdict(value)
        out[f.name] = value
    return out


def state_from_dict(data: Mapping[str, Any]) -> DialogueState:
    """Inverse of `state_to_dict`; raises ValidationError on another schema or unknown / missing keys."""
    values = _check_keys(data, STATE_SCHEMA, {f.name for f in fields(DialogueState)}, "dialogue state")
    try:
        for name in _ORDERED_STATE_FIELDS:
            values[name] = OrderedSet(values[name])
        values["slots"] = Slots.from_dict(values["slots"])
        values["critiques"] = [Critique(**c) for c in values["critiques"]]
        values["transcript"] = [TranscriptEntry(**t) for t in values["transcript"]]
        q = values["last_question"]
        values["last_question"] = (
            None if q is None else Question(q["turn"], q["attribute_kind"], tuple(q["options"]))
        )
        r = values["last_recommendation"]
        values["last_recommendation"] = (
            None if r is None else Recommendation(r["turn"], tuple(r["item_ids"]), tuple(r["scores"]))
        )
        return DialogueState(**values)
    except (TypeError, KeyError) as exc:
        raise ValidationError(f"dialogue state: malformed value: {exc}") from None


def state_to_json(state: DialogueState) -> str:
    return _dumps(state_to_dict(state))


def state_from_json(text: str | bytes) -> DialogueState:
    return state_from_dict(_loads(text, "dialogue state"))


def state_after_snapshot(
    snapshot: str | bytes, start: int, tail: list[Event], what: str, logger: logging.Logger = log
) -> DialogueState | None:
    """A snapshot covering the first `start` events plus the events after it (`tail`), or None when a
    full replay is needed: a rewind in the tail, an unreadable snapshot or one covering another number of
    events (both logged to `logger`, naming `what`)."""
    if any(isinstance(e, TurnsRewound) for e in tail):
        return None
    try:
        state = state_from_json(snapshot)
    except ValidationError as exc:
        logger.warning("%s: ignoring unreadable snapshot: %s", what, exc)
        return None
    if state.event_count != start:
        logger.warning("%s: snapshot covers %d events, not %d", what, state.event_count, start)
        return None
    return state.apply_all(tail)


# -------------------------------------------------------------------- user profile

_ORDERED_PROFILE_FIELDS = frozenset(f.name for f in fields(UserProfile) if f.default_factory is OrderedSet)


def profile_to_dict(profile: UserProfile) -> dict[str, Any]:
    out: dict[str, Any] = {"schema": PROFILE_SCHEMA}
    for f in fields(profile):
        value = getattr(profile, f.name)
        out[f.name] = value.to_list() if isinstance(value, OrderedSet) else value
    return out


def profile_from_dict(data: Mapping[str, Any]) -> UserProfile:
    """Inverse of `profile_to_dict`; raises ValidationError on another schema or unknown / missing keys."""
    values = _check_keys(data, PROFILE_SCHEMA, {f.name for f in fields(UserProfile)}, "user profile")
    try:
        for name in _ORDERED_PROFILE_FIELDS:
            values[name] = OrderedSet(values[name])
        values["merged_events"] = {str(k): int(v) for k, v in values["merged_events"].items()}
        return UserProfile(**values)
    except (TypeError, AttributeError) as exc:
        raise ValidationError(f"user profile: malformed value: {exc}") from None


def profile_to_json(profile: UserProfile) -> str:
    return _dumps(profile_to_dict(profile))


def profile_from_json(text: str | bytes) -> UserProfile:
    return profile_from_dict(_loads(text, "user profile"))


def _check_keys(data: Mapping[str, Any], schema: int, expected: set[str], what: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError(f"{what} is a JSON object, got {type(data).__name__}")
    if data.get("schema") != schema:
        raise ValidationError(f"{what} has schema {data.get('schema')!r}; this version reads schema {schema}")
    values = {k: v for k, v in data.items() if k != "schema"}
    unknown, missing = set(values) - expected, expected - set(values)
    if unknown or missing:
        raise ValidationError(f"{what}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    return values
