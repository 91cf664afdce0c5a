"""Typed tables produced by the dataset loaders.

Tabular data (ratings, items) is held in pandas DataFrames with a fixed, validated schema, wrapped in
frozen dataclasses so that a table's type says what columns it has. Dialogue data is plain dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

INTERACTION_COLUMNS = {"user_id": "int64", "item_id": "int64", "rating": "float32", "timestamp": "int64"}
ITEM_COLUMNS = ("item_id", "title", "year", "genres", "tags")


def _check_columns(frame: pd.DataFrame, expected: tuple[str, ...] | list[str], what: str) -> None:
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing}; has {list(frame.columns)}")


@dataclass(frozen=True)
class Interactions:
    """User-item ratings: columns user_id (int64), item_id (int64), rating (float32), timestamp (int64).

    Implicit datasets use rating 1.0; a missing timestamp is 0.
    """

    frame: pd.DataFrame

    def __post_init__(self) -> None:
        _check_columns(self.frame, list(INTERACTION_COLUMNS), "Interactions")

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def n_users(self) -> int:
        return int(self.frame["user_id"].nunique())

    @property
    def n_items(self) -> int:
        return int(self.frame["item_id"].nunique())


@dataclass(frozen=True)
class ItemTable:
    """Items: item_id (int64), title (str, without the year), year (Int64, nullable),
    genres (tuple[str, ...]), tags (tuple[str, ...]); optional extra columns (e.g. imdb_id: str | None)."""

    frame: pd.DataFrame

    def __post_init__(self) -> None:
        _check_columns(self.frame, ITEM_COLUMNS, "ItemTable")

    def __len__(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class MovieLensData:
    """One MovieLens release, whatever its layout."""

    layout: str  # "ml-100k" | "ml-1m" | "csv" (ml-latest-small, ml-latest, ml-20m, ml-25m, ...)
    interactions: Interactions
    items: ItemTable
    # Rows the loader did not load: "<file>: <reason> (first at line N)" -> count. Lenient mode only,
    # except empty tags (no data), which are always skipped and counted here.
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MentionSpan:
    """One `@123` occurrence in a message: text[start:end] == "@123"."""

    movie_id: int
    start: int
    end: int


@dataclass(frozen=True)
class Message:
    message_id: int
    sender_id: int
    text: str
    time_offset: int
    mentions: tuple[MentionSpan, ...] = ()
    is_seeker: bool = True  # sender is the initiator (seeker); False = respondent (recommender)


@dataclass(frozen=True)
class MovieAnswers:
    """A questionnaire entry: 0/1/2 as in ReDial (2 = did not say)."""

    suggested: int
    seen: int
    liked: int


@dataclass(frozen=True)
class Dialogue:
    conversation_id: int
    seeker_id: int  # initiatorWorkerId
    recommender_id: int  # respondentWorkerId
    messages: tuple[Message, ...]
    movie_mentions: dict[int, str] = field(default_factory=dict)  # movie id -> name as written
    seeker_answers: dict[int, MovieAnswers] = field(default_factory=dict)  # initiatorQuestions
    recommender_answers: dict[int, MovieAnswers] = field(default_factory=dict)  # respondentQuestions


@dataclass(frozen=True)
class RedialMovie:
    """A row of movies_with_mentions.csv."""

    movie_id: int
    name: str  # as in the file, e.g. "Angels in the Outfield  (1994)"
    n_mentions: int


@dataclass(frozen=True)
class MovieMetadata:
    """An entry of movie_metadata.json (noisy: collected by third parties)."""

    movie_id: int
    name: str
    genres: tuple[str, ...] = ()
    plot: str = ""
    directors: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    stars: tuple[str, ...] = ()
    imdb_id: str | None = None
