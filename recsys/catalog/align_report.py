"""The result of aligning ReDial movies to MovieLens: one `Alignment` per aligned movie, the misses, and
coverage figures (by movie and by mention)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

METHODS = ("imdb", "exact", "exact_year±1", "alt_title", "fuzzy")


@dataclass(frozen=True)
class Alignment:
    """One ReDial movie aligned to one MovieLens movie; `score` is the title similarity (0..100)."""

    redial_id: int
    movielens_id: int
    method: str  # one of METHODS
    score: float
    redial_name: str = ""
    movielens_title: str = ""
    note: str = ""  # why, when the choice was not obvious (e.g. an IMDb id overruled)
    imdb_overruled: bool = False  # the metadata's IMDb id pointed elsewhere: its metadata is suspect


@dataclass(frozen=True)
class Miss:
    """A ReDial movie left unaligned, with the closest MovieLens title seen and the reason."""

    redial_id: int
    name: str
    n_mentions: int
    reason: str
    best_candidate: str | None = None
    best_movielens_id: int | None = None
    best_score: float | None = None
    imdb_rejected: bool = False  # the metadata's IMDb id was judged wrong: its metadata is suspect


@dataclass
class AlignmentReport:
    """Alignments by ReDial id, misses (most mentioned first), and the figures that judge them."""

    alignments: dict[int, Alignment]
    misses: list[Miss]
    mentions: dict[int, int]  # ReDial id -> nbMentions (movies_with_mentions.csv)
    movielens_movies: int = 0
    used_imdb: bool = False
    seconds: float = 0.0
    # ReDial ids whose metadata describes another film (wrong IMDb id), set by the catalog builder
    metadata_ignored: list[int] = field(default_factory=list)
    by_method: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        counts = Counter(a.method for a in self.alignments.values())
        self.by_method = {m: counts.get(m, 0) for m in METHODS}

    @property
    def imdb_overruled(self) -> int:
        """IMDb pairs replaced by a title match (the metadata's IMDb id pointed to another film)."""
        return sum(a.imdb_overruled for a in self.alignments.values())

    @property
    def imdb_rejected(self) -> int:
        """ReDial movies left unaligned because their IMDb id pointed to a very dissimilar film."""
        return sum(m.imdb_rejected for m in self.misses)

    @property
    def redial_movies(self) -> int:
        return len(self.mentions)

    @property
    def aligned_movies(self) -> int:
        return len(self.alignments)

    @property
    def total_mentions(self) -> int:
        return sum(self.mentions.values())

    @property
    def aligned_mentions(self) -> int:
        return sum(n for rid, n in self.mentions.items() if rid in self.alignments)

    @property
    def mention_coverage(self) -> float:
        """Share of ReDial mentions (nbMentions) whose movie is aligned, 0..1."""
        total = self.total_mentions
        return self.aligned_mentions / total if total else 0.0

    @property
    def movie_coverage(self) -> float:
        return self.aligned_movies / self.redial_movies if self.redial_movies else 0.0

    def to_dict(self, n_misses: int = 20) -> dict[str, Any]:
        """The JSON summary of `crs data align`: counts, coverage, counts by method, first misses."""
        return {
            "redial_movies": self.redial_movies,
            "aligned_movies": self.aligned_movies,
            "movie_coverage": round(self.movie_coverage, 4),
            "total_mentions": self.total_mentions,
            "aligned_mentions": self.aligned_mentions,
            "mention_coverage": round(self.mention_coverage, 4),
            "movielens_movies": self.movielens_movies,
            "used_imdb": self.used_imdb,
            "by_method": dict(self.by_method),
            "imdb_overruled": self.imdb_overruled,
            "imdb_rejected": self.imdb_rejected,
            "distinct_movielens_targets": len({a.movielens_id for a in self.alignments.values()}),
            "seconds": round(self.seconds, 3),
            "unaligned_movies": len(self.misses),
            "misses": [asdict(m) for m in self.misses[:n_misses]],
        }
