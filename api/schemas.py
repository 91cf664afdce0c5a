"""Request and response models of the REST API. Requests (`...Create`, `...Replace`, `...Patch`) and
responses (`...Public`) are separate classes: a response field never becomes writable by accident.

Requests refuse unknown fields (`extra="forbid"`), so a typo in a field name is a 422, not silently ignored.
Free text (messages, profile text, attribute values) must be valid Unicode without control characters
(tabs and line breaks are fine): NUL bytes, escape sequences or unpaired surrogates are a 422 naming the
character, never stored.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from recsys.models.types import ATTRIBUTE_KINDS


def _no_bool(value: object) -> object:
    """JSON true / false are not numbers here (lax int parsing would read them as 1 / 0)."""
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    return value


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0 / DEL / C1, not \t \n \r


def clean_text(text: str) -> str:
    """`text` if it is valid Unicode without control characters, else ValueError naming the culprit."""
    bad = _CONTROL_RE.search(text)
    if bad:
        raise ValueError(
            f"contains the control character U+{ord(bad.group()):04X} at position {bad.start()}; "
            "only printable text, tabs and line breaks are accepted"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"contains an unpaired surrogate (U+{ord(text[exc.start]):04X}) at position {exc.start}: "
            "not valid Unicode text"
        ) from None
    return text


def is_blank(text: str) -> bool:
    """Nothing visible: only whitespace and invisible format characters (zero-width space, BOM, ...)."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


CleanText = Annotated[str, AfterValidator(clean_text)]
Count = Annotated[int, Ge(0), BeforeValidator(_no_bool)]  # constraint inside: kept in the JSON schema
UserId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_.@:-]{1,128}$"),
    Field(description="1-128 characters of [A-Za-z0-9_.@:-].", examples=["alice"]),
]
ItemId = Annotated[Count, Field(description="Catalog item id.", examples=[42])]
Attribute = Annotated[
    str,
    StringConstraints(pattern=rf"^({'|'.join(ATTRIBUTE_KINDS)}):\S.{{0,199}}$"),
    AfterValidator(clean_text),
    AfterValidator(str.lower),
    Field(
        description='"kind:value" (stored lower-case); kinds: ' + ", ".join(ATTRIBUTE_KINDS),
        examples=["genre:sci-fi"],
    ),
]
FeedbackKind = Literal["like", "dislike", "accept", "reject", "seen"]
MAX_IDS = 500


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ errors


class ErrorDetail(BaseModel):
    field: str
    location: str
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["no session 'abc' (it does not exist or has expired)"])
    request_id: str | None = None
    details: list[ErrorDetail] | None = None


class ErrorPublic(BaseModel):
    """Every error response has this body."""

    error: ErrorInfo


# ------------------------------------------------------------------ items


class ItemPublic(BaseModel):
    """A catalog item as listed (search results, profiles)."""

    item_id: int
    title: str
    year: int | None = None
    genres: list[str] = []
    directors: list[str] = []
    stars: list[str] = []
    popularity: float = 0.0


class ItemDetailPublic(ItemPublic):
    """A catalog item with everything the catalog knows about it."""

    writers: list[str] = []
    tags: list[str] = []
    plot: str = ""
    movielens_id: int | None = None
    redial_id: int | None = None
    imdb_id: str | None = None


class ItemMatchPublic(ItemPublic):
    score: float | None = Field(default=None, description="Match quality of the title, 0..1 (search only).")
    match: Literal["exact", "mention", "fuzzy"] | None = Field(
        default=None, description="How the title matched (search only)."
    )


class ItemSearchPublic(BaseModel):
    query: str | None
    total: int = Field(description="Number of items matching (before limit / offset).")
    items: list[ItemMatchPublic]


# ------------------------------------------------------------------ recommendations


class TracePublic(BaseModel):
    score: float
    rank: int


class RecommendationPublic(BaseModel):
    """One recommended item: its score, which generators proposed it (and at which rank), and why."""

    item_id: int
    title: str
    year: int | None = None
    score: float
    provenance: dict[str, TracePublic] = Field(
        default_factory=dict, description="generator name -> its score and 1-based rank for this item"
    )
    explanation: str | None = None
    explanation_source: str = Field(
        default="template",
        description='"llm" (passed the grounding guard) or "template" (built from the facts)',
    )
    genres: list[str] = []


class RecommendationsCreate(_Request):
    """A stateless request: seeds (liked / disliked items) and/or a user whose stored profile is used."""

    liked: list[ItemId] = Field(default_factory=list, max_length=MAX_IDS, examples=[[0, 3]])
    disliked: list[ItemId] = Field(default_factory=list, max_length=MAX_IDS, examples=[[7]])
    user_id: UserId | None = None
    k: Annotated[int, Ge(1), BeforeValidator(_no_bool)] = Field(
        default=10, description="How many items (1..CRS_RECOMMEND_MAX_K)."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"liked": [0, 3], "disliked": [7], "k": 5}]},
    )


class RecommendationsPublic(BaseModel):
    recommendations: list[RecommendationPublic]


# ------------------------------------------------------------------ sessions


class SessionCreate(_Request):
    user_id: UserId | None = Field(default=None, description="Link the session to a user's profile.")


class SessionCreatedPublic(BaseModel):
    session_id: str = Field(examples=["6f1c2a9b0d6e4c7f8a1b2c3d4e5f6a7b"])
    user_id: str | None = None


class MessageCreate(_Request):
    text: CleanText = Field(
        description="The user's message (non-blank; at most CRS_MAX_TEXT_CHARS characters, else 413).",
        examples=["I loved The Matrix, something like it but less violent?"],
        json_schema_extra={"minLength": 1, "pattern": r"\S"},
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if is_blank(text):
            raise ValueError("the message is empty (nothing visible in it)")
        return text


class QuestionPublic(BaseModel):
    """A question the system asked: on which attribute kind, its text and the values offered."""

    attribute_kind: str = Field(examples=["genre"])
    text: str
    options: list[str] = []


STATE_EXAMPLE = {
    "turn": 2,
    "items": {"liked": {"count": 1, "titles": ["The Matrix (1999)"]}, "shown": {"count": 5, "titles": []}},
    "liked_attributes": ["genre:sci-fi"],
    "disliked_attributes": [],
    "critiques": [],
    "questions_asked": ["genre"],
    "pending_question": None,
    "slots": {"n_recommendations": 5, "include_seen": False, "year_min": None, "year_max": None},
    "ended": False,
}


class ProfileInfoPublic(BaseModel):
    """The language profile as a turn shows it (dialogue.results.ProfileView)."""

    text: str
    source: str = Field(description="llm | template (written this turn), user (the user's own text), stored")
    updated: bool = Field(default=False, description="Rewritten this turn.")
    version: int | None = Field(default=None, description="The stored profile's version (None: anonymous).")
    edited_by_user: bool = False


class TurnPublic(BaseModel):
    """The system's answer to one user message."""

    session_id: str
    turn: int = Field(description="The turn number of this exchange (1, 2, ...).")
    reply: str
    action: str = Field(description="What the dialogue policy did: recommend, ask, explain, answer, ...")
    intent: str | None = Field(default=None, description="The primary intent read from the message.")
    recommendations: list[RecommendationPublic] = []
    question: QuestionPublic | None = None
    subjects: list[int] = Field(default_factory=list, description="Items explained or answered about.")
    state: dict[str, Any] | None = Field(
        default=None, description="Summary of the session state after the turn.", examples=[STATE_EXAMPLE]
    )
    understanding: dict[str, Any] = Field(
        default_factory=dict,
        description="What was read from the message: intents, items, attributes, critiques.",
    )
    notes: list[str] = Field(default_factory=list, description="What the system could not act on.")
    profile: str | None = Field(default=None, description="The user's language profile after this turn.")
    profile_info: ProfileInfoPublic | None = Field(
        default=None, description="Where the profile text comes from and its stored version."
    )


class FeedbackCreate(_Request):
    item_id: ItemId
    kind: FeedbackKind

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"item_id": 3, "kind": "like"}]}
    )


class FeedbackPublic(BaseModel):
    session_id: str
    item_id: int
    kind: FeedbackKind
    state: dict[str, Any] = Field(
        description="The session state after the feedback.", examples=[STATE_EXAMPLE]
    )


class TranscriptEntryPublic(BaseModel):
    turn: int = Field(description="Turn number (0: the greeting).")
    user: str | None = None
    bot: str | None = None


class ShownItemPublic(BaseModel):
    item_id: int
    title: str
    year: int | None = None
    score: float


class SessionPublic(BaseModel):
    """A session's state and its whole transcript."""

    session_id: str
    user_id: str | None = None
    state: dict[str, Any] = Field(examples=[STATE_EXAMPLE])
    transcript: list[TranscriptEntryPublic]
    last_recommendation: list[ShownItemPublic] = []


# ------------------------------------------------------------------ users


class ProfilePublic(BaseModel):
    """A user's long-term profile: the language profile text and the typed preferences."""

    user_id: str
    profile_text: str | None = None
    profile_version: int = Field(description="+1 per rewrite of the text.")
    edited_by_user: bool = Field(description="The current text is the user's own words.")
    liked_items: list[ItemPublic] = []
    disliked_items: list[ItemPublic] = []
    seen_items: list[ItemPublic] = []
    accepted_items: list[ItemPublic] = []
    liked_attributes: list[str] = []
    disliked_attributes: list[str] = []
    version: int = Field(description="Version of the stored record; send it back to detect lost updates.")
    updated_at: float = 0.0


class ProfileReplace(_Request):
    """PUT: the whole editable profile. Lists left out are emptied; the text left out is cleared."""

    profile_text: CleanText | None = Field(
        default=None, max_length=2000, examples=["Loves slow-burn sci-fi; no horror."]
    )
    liked_items: list[ItemId] = Field(default_factory=list, max_length=MAX_IDS)
    disliked_items: list[ItemId] = Field(default_factory=list, max_length=MAX_IDS)
    seen_items: list[ItemId] = Field(default_factory=list, max_length=MAX_IDS)
    accepted_items: list[ItemId] = Field(default_factory=list, max_length=MAX_IDS)
    liked_attributes: list[Attribute] = Field(default_factory=list, max_length=MAX_IDS)
    disliked_attributes: list[Attribute] = Field(default_factory=list, max_length=MAX_IDS)
    version: Count | None = Field(
        default=None, description="The version read; if the stored one differs, 409 (lost update)."
    )


class ProfilePatch(_Request):
    """PATCH: only the fields sent change (JSON merge-patch style; `profile_text: null` clears the text)."""

    profile_text: CleanText | None = Field(default=None, max_length=2000)
    liked_items: list[ItemId] | None = Field(default=None, max_length=MAX_IDS)
    disliked_items: list[ItemId] | None = Field(default=None, max_length=MAX_IDS)
    seen_items: list[ItemId] | None = Field(default=None, max_length=MAX_IDS)
    accepted_items: list[ItemId] | None = Field(default=None, max_length=MAX_IDS)
    liked_attributes: list[Attribute] | None = Field(default=None, max_length=MAX_IDS)
    disliked_attributes: list[Attribute] | None = Field(default=None, max_length=MAX_IDS)
    version: Count | None = Field(default=None)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"profile_text": "Into 90s thrillers, not romance."}]},
    )


class UserDeletedPublic(BaseModel):
    user_id: str
    keys_deleted: int


# ------------------------------------------------------------------ health


class HealthPublic(BaseModel):
    status: Literal["ok"]


class ReadinessPublic(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str] = Field(
        examples=[{"models": "loaded", "redis": "ok", "llm": "ready"}],
        description="models and redis gate readiness; llm (off, not_loaded, ready, failed) only informs.",
    )
