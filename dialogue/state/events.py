"""Dialogue events: the append-only facts a session is made of.

Each event is a frozen, validated dataclass with a `type` tag (a class attribute, e.g. "user_uttered").
Every event carries `at` (Unix seconds, UTC; defaults to now) and an optional `event_id` that makes appends
idempotent: the store assigns one to every event it stores and never stores the same id twice in a session.

Constructing an event with bad values raises `recsys.errors.ValidationError` naming the event and field.
JSON (de)serialisation, with a registry keyed by the `type` tag, lives in `dialogue.state.serialize`.
How each event changes the session state is documented in `dialogue.state.state`.

Item ids are catalog ids (ints >= 0). Attribute names are "kind:value" strings whose kind is one of
`recsys.models.types.ATTRIBUTE_KINDS` ("genre:sci-fi", "director:christopher nolan").
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections.abc import Callable
from dataclasses import field
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args

import pydantic
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from pydantic import Strict as _Strict
from pydantic.dataclasses import dataclass

from dialogue.state.slots import validate_slot
from recsys.errors import ValidationError

MAX_TEXT = 20_000  # characters in one utterance / profile text
ID_PATTERN = r"^[A-Za-z0-9_.@:-]{1,128}$"  # session, user and event ids (no braces: they go into Redis keys)
_ID_RE = re.compile(ID_PATTERN)

# == recsys.models.types.ATTRIBUTE_KINDS (checked by the tests; not imported: that module pulls numpy / scipy)
AttributeKind = Literal["genre", "director", "writer", "star", "tag", "decade"]
ATTRIBUTE_KINDS: tuple[str, ...] = get_args(AttributeKind)
ItemPolarity = Literal["liked", "disliked", "seen"]
Polarity = Literal["liked", "disliked"]
FeedbackKind = Literal["like", "dislike", "accept", "reject", "seen"]
CritiqueDirection = Literal["more", "less", "same", "different"]
ProfileSource = Literal["user", "llm"]


def _check_attribute(name: str) -> str:
    kind, sep, value = name.partition(":")
    if not sep or kind not in ATTRIBUTE_KINDS:
        raise ValueError(
            f"attribute {name!r} must be 'kind:value' with kind one of {', '.join(ATTRIBUTE_KINDS)}"
        )
    if not value or value != value.strip():
        raise ValueError(f"attribute {name!r} has an empty or padded value")
    return name


Identifier = Annotated[str, _Strict(), StringConstraints(pattern=ID_PATTERN)]
Turn = Annotated[int, _Strict(), Field(ge=0)]
ItemId = Annotated[int, _Strict(), Field(ge=0)]
Score = Annotated[float, _Strict(), Field(allow_inf_nan=False)]
Text = Annotated[str, _Strict(), StringConstraints(min_length=1, max_length=MAX_TEXT)]
Label = Annotated[str, _Strict(), StringConstraints(pattern=r"^[a-z][a-z0-9_:-]{0,63}$")]
AttributeName = Annotated[str, _Strict(), AfterValidator(_check_attribute)]
SlotInput = Annotated[bool, _Strict()] | Annotated[int, _Strict()] | Score | Annotated[str, _Strict()] | None

_CONFIG = ConfigDict(extra="forbid")
E = TypeVar("E", bound="Event")

# type tag -> event class; filled by @_event. Read it through `event_types()`.
_REGISTRY: dict[str, type[Event]] = {}


def describe_validation_error(
    what: str, exc: pydantic.ValidationError, positional: tuple[str, ...] = ()
) -> str:
    """One line naming `what` and each offending field: 'UserUttered: turn: Input should be ...'.

    `positional` names the positional parameters, so an error on argument 0 reads as its field name.
    """
    parts = []
    for err in exc.errors():
        path = [
            positional[p] if isinstance(p, int) and i == 0 and p < len(positional) else p
            for i, p in enumerate(err["loc"])
        ]
        loc = ".".join(str(p) for p in path) or "(event)"
        if err["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
            msg = "unknown field"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return f"{what}: {'; '.join(parts)}"


def _event(tag: str) -> Callable[[type[E]], type[E]]:
    """Make `cls` a frozen validated dataclass registered under `tag`; bad values raise ValidationError."""

    def register(cls: type[E]) -> type[E]:
        if tag in _REGISTRY:
            raise RuntimeError(f"event type {tag!r} registered twice")
        cls.type = tag
        pcls = dataclass(frozen=True, config=_CONFIG)(cls)
        pydantic_init = pcls.__init__
        positional = tuple(f.name for f in dataclasses.fields(pcls) if f.init and not f.kw_only)

        @functools.wraps(pydantic_init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            try:
                pydantic_init(self, *args, **kwargs)
            except pydantic.ValidationError as exc:
                raise ValidationError(describe_validation_error(pcls.__name__, exc, positional)) from None

        pcls.__init__ = __init__  # type: ignore[method-assign]
        _REGISTRY[tag] = pcls
        return pcls

    return register


@dataclass(frozen=True, kw_only=True, config=_CONFIG)
class Event:
    """Base of every event: a timestamp and an optional idempotency id. Not itself an event type."""

    type: ClassVar[str] = ""
    at: Annotated[float, _Strict(), Field(ge=0, allow_inf_nan=False)] = field(default_factory=time.time)
    event_id: Identifier | None = None


@_event("session_started")
class SessionStarted(Event):
    """The session exists; always the first event of a session's log (written by the store)."""

    session_id: Identifier
    user_id: Identifier | None = None


@_event("user_uttered")
class UserUttered(Event):
    """The user said `text` in `turn`; `intent` is the NLU's label for it, if any."""

    turn: Turn
    text: Text
    intent: Label | None = None


@_event("bot_uttered")
class BotUttered(Event):
    """The system replied `text` in `turn` (turn 0: a greeting before the user spoke)."""

    turn: Turn
    text: Text


@_event("item_mentioned")
class ItemMentioned(Event):
    """The user mentioned an item in the dialogue: liked it, disliked it, or has merely seen it."""

    item_id: ItemId
    polarity: ItemPolarity
    turn: Turn | None = None


@_event("items_recommended")
class ItemsRecommended(Event):
    """The system showed these items (in rank order) with their scores."""

    turn: Turn
    item_ids: tuple[ItemId, ...]
    scores: tuple[Score, ...]

    def __post_init__(self) -> None:
        if len(self.scores) != len(self.item_ids):
            raise ValueError(f"{len(self.item_ids)} item_ids but {len(self.scores)} scores")
        if len(set(self.item_ids)) != len(self.item_ids):
            raise ValueError("item_ids contains duplicates")


@_event("item_accepted")
class ItemAccepted(Event):
    """The user accepted a recommendation in the dialogue ("I'll watch that one")."""

    turn: Turn
    item_id: ItemId


@_event("item_rejected")
class ItemRejected(Event):
    """The user turned a recommendation down in the dialogue ("not that one"), with an optional reason."""

    turn: Turn
    item_id: ItemId
    reason: Text | None = None


@_event("attribute_preferred")
class AttributePreferred(Event):
    """The user likes or dislikes an attribute ("genre:horror")."""

    attribute: AttributeName
    polarity: Polarity
    turn: Turn | None = None


@_event("critique_given")
class CritiqueGiven(Event):
    """A critique: `direction` along `dimension` ("more" of "tag:funny"), maybe relative to an item."""

    turn: Turn
    dimension: Label
    direction: CritiqueDirection
    reference_item: ItemId | None = None


@_event("question_asked")
class QuestionAsked(Event):
    """The system asked which `attribute_kind` values the user wants, optionally offering `options`."""

    turn: Turn
    attribute_kind: AttributeKind
    options: tuple[AttributeName, ...] = ()

    def __post_init__(self) -> None:
        _same_kind(self.attribute_kind, self.options, "options")
        if len(set(self.options)) != len(self.options):
            raise ValueError("options contains duplicates")


@_event("question_answered")
class QuestionAnswered(Event):
    """The user answered a question on `attribute_kind`; both lists empty means "no preference"."""

    turn: Turn
    attribute_kind: AttributeKind
    liked: tuple[AttributeName, ...] = ()
    disliked: tuple[AttributeName, ...] = ()

    def __post_init__(self) -> None:
        _same_kind(self.attribute_kind, self.liked, "liked")
        _same_kind(self.attribute_kind, self.disliked, "disliked")
        both = set(self.liked) & set(self.disliked)
        if both:
            raise ValueError(f"attributes both liked and disliked: {sorted(both)}")


@_event("feedback_given")
class FeedbackGiven(Event):
    """Explicit feedback on an item outside the text (a button): like, dislike, accept, reject or seen."""

    item_id: ItemId
    kind: FeedbackKind
    turn: Turn | None = None


@_event("profile_edited")
class ProfileEdited(Event):
    """The language profile text was (re)written, by the user or by the LLM layer. Empty text clears it."""

    text: Annotated[str, _Strict(), StringConstraints(max_length=MAX_TEXT)]
    source: ProfileSource


@_event("slot_set")
class SlotSet(Event):
    """A typed slot was set (see `dialogue.state.slots` for the schema); unknown slots raise."""

    name: Annotated[str, _Strict()]
    value: SlotInput

    def __post_init__(self) -> None:
        validate_slot(self.name, self.value)


@_event("session_ended")
class SessionEnded(Event):
    """The session is over; the store refuses further events."""

    reason: Label | None = None


@_event("turns_rewound")
class TurnsRewound(Event):
    """Undo: the state goes back to just before the user's turn `to_turn` (see `state.effective_events`)."""

    to_turn: Turn


def with_event_id(event: E, event_id: str) -> E:
    """A copy of `event` with `event_id` set. Only the id is checked: the other fields were validated
    when `event` was built (a store stamps every event it appends; re-validating them all is waste)."""
    if not isinstance(event_id, str) or _ID_RE.fullmatch(event_id) is None:
        raise ValidationError(f"{type(event).__name__}: event_id: invalid id {event_id!r}")
    copy = object.__new__(type(event))
    copy.__dict__.update(event.__dict__)
    object.__setattr__(copy, "event_id", event_id)
    return copy


def _same_kind(kind: str, names: tuple[str, ...], what: str) -> None:
    wrong = [n for n in names if n.partition(":")[0] != kind]
    if wrong:
        raise ValueError(f"{what} must all be of kind {kind!r}, got {wrong}")


def event_types() -> dict[str, type[Event]]:
    """Every registered event class by its `type` tag."""
    return dict(_REGISTRY)
