"""Align ReDial movies to MovieLens movies: IMDb id first, then title + year, then fuzzy title.

Every ReDial movie gets at most one MovieLens movie. Order of evidence:

1. **imdb** - the ReDial metadata's IMDb id equals the MovieLens links.csv id. The metadata is noisy,
   so the pair is checked: when the MovieLens title is very unlike the ReDial name (or its year is
   off by more than the tolerance) and a strong title match points elsewhere, the title match wins and
   the alignment's `note` says why; with no title match, an IMDb pair that is both dissimilar and
   year-incompatible is rejected.
2. **exact** - same match key (see `normalize.title_key`), same year (or no year on one side).
3. **exact_year±1** - same key, year off by at most `year_tolerance`.
4. **alt_title** - a key equals one of the other side's alternate titles ("Se7en"), year compatible.
5. **fuzzy** - rapidfuzz token-sort ratio >= `fuzzy_threshold` among MovieLens titles of a compatible
   year only (a per-year index keeps it fast: ml-25m aligns in seconds), and never between titles
   with different numbers, so sequels ("Toy Story 2") and remakes (other years) do not cross-match.

Several ReDial ids may align to one MovieLens movie (ReDial has duplicates). What does not align is
listed in `AlignmentReport.misses` with the best candidate seen and the reason.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz, process
from tqdm import tqdm

from recsys.catalog.align_report import METHODS, Alignment, AlignmentReport, Miss
from recsys.catalog.normalize import (
    compact,
    parse_movielens_title,
    parse_redial_name,
    sorted_tokens,
    split_year,
    title_key,
    title_numbers,
)
from recsys.data.types import ItemTable, MovieMetadata, RedialMovie

__all__ = [
    "METHODS",
    "AlignConfig",
    "Alignment",
    "AlignmentReport",
    "Miss",
    "MovieLensIndex",
    "align_movies",
    "typo_variant",
]


@dataclass(frozen=True)
class AlignConfig:
    """Thresholds of the aligner (scores are rapidfuzz 0..100)."""

    fuzzy_threshold: float = 90.0  # token-sort ratio a fuzzy match needs
    min_word_ratio: float = 85.0  # each misspelt word of a fuzzy match must be at least this close
    year_tolerance: int = 1  # |year difference| still counted as the same film
    imdb_min_similarity: float = 60.0  # below this an IMDb pair's titles are "very dissimilar"
    imdb_reject_similarity: float = 35.0  # below this an IMDb pair is rejected even with no title match
    miss_candidate_cutoff: float = 50.0  # misses: best candidate shown only from this score on


@dataclass(frozen=True)
class _Entry:
    movielens_id: int
    display: str
    year: int | None
    keys: tuple[str, ...]  # primary key first
    popularity: float


@dataclass(frozen=True)
class _Candidate:
    entry: int
    method: str
    score: float
    note: str = ""


def _keys_of(title: str, alternates: Iterable[str], full: str) -> tuple[str, ...]:
    """Match keys of a title: primary first, then the whole title with its parentheses, then alternates."""
    keys = [title_key(title), title_key(full), *(title_key(a) for a in alternates)]
    found = tuple(dict.fromkeys(k for k in keys if k))
    if not found and title.strip():  # all punctuation ('$', '!'): the text itself is the key
        return (" ".join(title.casefold().split()),)
    return found


class MovieLensIndex:
    """MovieLens titles indexed for alignment: by IMDb id, by exact key, and by year for fuzzy search."""

    def __init__(
        self, items: ItemTable | pd.DataFrame, popularity: Mapping[int, float] | None = None
    ) -> None:
        """`items`: item_id, title (no year), year, optional imdb_id; `popularity`: id -> rating count."""
        frame = items.frame if isinstance(items, ItemTable) else items
        popularity = popularity or {}
        has_imdb = "imdb_id" in frame.columns
        self.entries: list[_Entry] = []
        self.by_imdb: dict[str, int] = {}
        self.by_primary: dict[str, list[int]] = {}
        self.by_alternate: dict[str, list[int]] = {}
        self._by_year: dict[int | None, tuple[list[str], list[int], list[str]]] = {}
        imdb_ids = frame["imdb_id"] if has_imdb else [None] * len(frame)
        for ml_id, title, year, imdb in zip(
            frame["item_id"], frame["title"], frame["year"], imdb_ids, strict=True
        ):
            year_v = None if pd.isna(year) else int(year)
            parsed = parse_movielens_title(str(title), year_v)
            keys = _keys_of(parsed.title, parsed.alternates, parsed.full)
            idx = len(self.entries)
            display = f"{parsed.title} ({year_v})" if year_v else parsed.title
            self.entries.append(
                _Entry(int(ml_id), display, year_v, keys, float(popularity.get(int(ml_id), 0)))
            )
            if isinstance(imdb, str) and imdb:
                self.by_imdb.setdefault(imdb, idx)
            if not keys:  # an empty title: reachable by IMDb id only
                continue
            self.by_primary.setdefault(compact(keys[0]), []).append(idx)
            for k in keys[1:]:
                self.by_alternate.setdefault(compact(k), []).append(idx)
            tokens, owners, raw = self._by_year.setdefault(year_v, ([], [], []))
            for k in keys:
                tokens.append(sorted_tokens(k))
                owners.append(idx)
                raw.append(k)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def has_imdb(self) -> bool:
        return bool(self.by_imdb)

    def years_near(self, year: int | None, tolerance: int) -> list[int | None]:
        """Index blocks to search for a title of `year` (always including titles without a year)."""
        if year is None:
            return list(self._by_year)
        return [y for y in range(year - tolerance, year + tolerance + 1) if y in self._by_year] + (
            [None] if None in self._by_year else []
        )

    def fuzzy(
        self, key: str, year: int | None, tolerance: int, cutoff: float
    ) -> list[tuple[int, float, str]]:
        """(entry, score, matched key) for titles of a compatible year scoring >= cutoff, best first."""
        query = sorted_tokens(key)
        found: list[tuple[int, float, str]] = []
        for y in self.years_near(year, tolerance):
            tokens, owners, raw = self._by_year[y]
            for _, score, pos in process.extract(
                query, tokens, scorer=fuzz.ratio, score_cutoff=cutoff, limit=5
            ):
                found.append((owners[pos], float(score), raw[pos]))
        found.sort(key=lambda f: (-f[1], -self.entries[f[0]].popularity))
        return found


def _year_gap(a: int | None, b: int | None) -> int:
    return 0 if a is None or b is None else abs(a - b)


def _similarity(keys_a: Sequence[str], keys_b: Sequence[str]) -> float:
    """How alike two titles are, for checking an IMDb pair: the best token-set ratio over their keys
    (containment counts as alike: 'Star Wars' ~ 'Star Wars: Episode IV - A New Hope')."""
    return max(fuzz.token_set_ratio(a, b) for a in keys_a for b in keys_b)


def _numbers_conflict(keys_a: Sequence[str], keys_b: Sequence[str]) -> bool:
    """True when both titles carry numbers and no pair of their keys has the same ones (another part)."""
    pairs = [(title_numbers(a), title_numbers(b)) for a in keys_a for b in keys_b]
    return all(na and nb and na != nb for na, nb in pairs)


def _is_plural_pair(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return long in (short + "s", short + "es")


def typo_variant(a: str, b: str, min_word_ratio: float = 85.0) -> bool:
    """True when two match keys differ only by typos inside words ('judgement night' ~ 'judgment night').

    Whole words added or dropped, a different number, a singular/plural pair ('Death Race' vs the
    mockbuster 'Death Racers', 'Sister' vs 'Sisters') or a changed word ('Night of the Living Bread')
    are not typos: such titles are usually different films.
    """
    words_a, words_b = Counter(a.split()), Counter(b.split())
    if sum(words_a.values()) != sum(words_b.values()):
        return False
    left, right = list((words_a - words_b).elements()), list((words_b - words_a).elements())
    for word in left:
        other = max(right, key=lambda w: fuzz.ratio(word, w))
        if word.isdigit() or other.isdigit() or _is_plural_pair(word, other):
            return False
        if fuzz.ratio(word, other) < min_word_ratio:
            return False
        right.remove(other)
    return True


class _Aligner:
    """Aligns one ReDial movie at a time against a MovieLensIndex (see the module docstring)."""

    def __init__(self, index: MovieLensIndex, config: AlignConfig) -> None:
        self.index = index
        self.config = config

    def _pick(self, entries: Iterable[int], year: int | None) -> int:
        """Among equally good entries: nearest year, then most popular, then lowest id."""
        e = self.index.entries
        return min(entries, key=lambda i: (_year_gap(e[i].year, year), -e[i].popularity, e[i].movielens_id))

    def _exact(self, keys: Sequence[str], year: int | None) -> _Candidate | None:
        tol, entries, index = self.config.year_tolerance, self.index.entries, self.index
        primary = index.by_primary.get(compact(keys[0]), [])
        same = [i for i in primary if _year_gap(entries[i].year, year) == 0]
        if same:
            note = "" if year is not None else f"no year in the ReDial name; {len(same)} candidate(s)"
            return _Candidate(self._pick(same, year), "exact", 100.0, note)
        near = [i for i in primary if _year_gap(entries[i].year, year) <= tol]
        if near:
            return _Candidate(self._pick(near, year), "exact_year±1", 100.0)
        alt: list[int] = []
        for pos, k in enumerate(keys):
            alt.extend(index.by_alternate.get(compact(k), ()))
            if pos > 0:  # the ReDial name's own alternate equals a MovieLens primary title
                alt.extend(index.by_primary.get(compact(k), ()))
        alt = [i for i in alt if _year_gap(entries[i].year, year) <= tol]
        if alt:
            return _Candidate(self._pick(alt, year), "alt_title", 100.0)
        return None

    def _fuzzy(self, keys: Sequence[str], year: int) -> _Candidate | None:
        cfg = self.config
        best: tuple[int, float, str] | None = None
        for k in keys:
            numbers = title_numbers(k)
            for entry, score, matched in self.index.fuzzy(k, year, cfg.year_tolerance, cfg.fuzzy_threshold):
                if title_numbers(matched) == numbers and typo_variant(k, matched, cfg.min_word_ratio):
                    if best is None or score > best[1]:
                        best = (entry, score, matched)
                    break
        if best is None:
            return None
        return _Candidate(best[0], "fuzzy", round(best[1], 1), f"matched '{best[2]}'")

    def title_match(self, keys: Sequence[str], year: int | None) -> _Candidate | None:
        """The best title-based match for a ReDial title (keys: primary first), or None.

        Fuzzy matching needs a year: across every year it would pair remakes and namesakes.
        """
        found = self._exact(keys, year)
        if found is None and year is not None:
            found = self._fuzzy(keys, year)
        return found

    def align_one(
        self, movie: RedialMovie, meta: MovieMetadata | None
    ) -> tuple[Alignment | None, Miss | None]:
        """Align one ReDial movie: (alignment, None) or (None, miss)."""
        parsed = parse_redial_name(movie.name)
        year = parsed.year
        if year is None and meta is not None:
            year = split_year(meta.name)[1]
        keys = _keys_of(parsed.title, parsed.alternates, parsed.full)
        if not keys:
            return None, Miss(movie.movie_id, movie.name, movie.n_mentions, "empty title")
        by_title = self.title_match(keys, year)
        imdb = meta.imdb_id if meta is not None else None
        via_imdb = self.index.by_imdb.get(imdb) if imdb else None
        cfg, entries = self.config, self.index.entries
        imdb_reason = f"{imdb} is not in this MovieLens release" if imdb else ""
        if via_imdb is not None:
            e = entries[via_imdb]
            sim = round(_similarity(keys, e.keys), 1)
            dissimilar = sim < cfg.imdb_min_similarity
            if _numbers_conflict(keys, e.keys):  # 'Insidious: Chapter 4' -> 'Insidious: Chapter 2'
                sim, dissimilar = min(sim, cfg.imdb_reject_similarity - 1), True
            year_off = _year_gap(e.year, year) > cfg.year_tolerance
            if by_title is not None and by_title.entry != via_imdb and (dissimilar or year_off):
                why = "very dissimilar title" if dissimilar else f"year {e.year} vs {year}"
                note = f"{imdb} points to '{e.display}' ({why}, similarity {sim}); title match preferred"
                return self._make(movie, by_title, note, imdb_overruled=True), None
            if by_title is not None and by_title.entry == via_imdb:
                return self._make(movie, _Candidate(via_imdb, "imdb", max(sim, by_title.score))), None
            if sim >= cfg.imdb_reject_similarity and not (dissimilar and year_off):
                note = f"year {e.year} vs {year} in the ReDial name; IMDb id trusted" if year_off else ""
                return self._make(movie, _Candidate(via_imdb, "imdb", sim), note), None
            imdb_reason = f"{imdb} points to '{e.display}' (similarity {sim}): rejected as a wrong IMDb id"
        if by_title is not None:
            return self._make(movie, by_title, by_title.note), None
        return None, self._miss(movie, keys, year, imdb_reason)

    def _make(
        self, movie: RedialMovie, cand: _Candidate, note: str = "", imdb_overruled: bool = False
    ) -> Alignment:
        e = self.index.entries[cand.entry]
        return Alignment(
            movie.movie_id,
            e.movielens_id,
            cand.method,
            cand.score,
            movie.name,
            e.display,
            note,
            imdb_overruled,
        )

    def _miss(self, movie: RedialMovie, keys: Sequence[str], year: int | None, imdb_reason: str) -> Miss:
        cfg, entries = self.config, self.index.entries
        same_title = self.index.by_primary.get(compact(keys[0]), [])
        best: tuple[int, float] | None = None
        if same_title:
            best = (self._pick(same_title, year), 100.0)
            years = sorted({entries[i].year for i in same_title if entries[i].year is not None})
            reason = f"same title only in year(s) {years}: another film (remake, namesake) or a wrong year"
        elif year is None:
            reason = "no year and no exact title match (fuzzy matching needs a year)"
        else:
            found = self.index.fuzzy(keys[0], year, cfg.year_tolerance, cfg.miss_candidate_cutoff)
            if found:
                best = (found[0][0], found[0][1])
                if found[0][1] >= cfg.fuzzy_threshold:
                    reason = (
                        "closest title differs by a number, a plural or a whole word (likely another film)"
                    )
                else:
                    reason = f"closest title below the fuzzy threshold ({cfg.fuzzy_threshold:g})"
            else:
                reason = "no similar title of a compatible year: not in this MovieLens release"
        if imdb_reason:
            reason = f"{imdb_reason}; {reason}"
        return Miss(
            movie.movie_id,
            movie.name,
            movie.n_mentions,
            reason,
            entries[best[0]].display if best else None,
            entries[best[0]].movielens_id if best else None,
            round(best[1], 1) if best else None,
            imdb_rejected=imdb_reason.endswith("wrong IMDb id"),
        )


def align_movies(
    movielens_items: ItemTable | pd.DataFrame | MovieLensIndex,
    redial_movies: Sequence[RedialMovie],
    metadata: Mapping[int, MovieMetadata] | None = None,
    *,
    popularity: Mapping[int, float] | None = None,
    config: AlignConfig | None = None,
    progress: bool = False,
) -> AlignmentReport:
    """Align every ReDial movie to a MovieLens movie where one exists.

    `movielens_items`: the MovieLens item table (an `imdb_id` column enables IMDb matching).
    `metadata`: ReDial movie_metadata.json entries by ReDial id (IMDb ids, fallback years).
    `popularity`: MovieLens id -> rating count, to break ties (e.g. a year-less ReDial name).
    """
    start = time.perf_counter()
    config = config or AlignConfig()
    index = (
        movielens_items
        if isinstance(movielens_items, MovieLensIndex)
        else MovieLensIndex(movielens_items, popularity)
    )
    aligner = _Aligner(index, config)
    metadata = metadata or {}
    alignments: dict[int, Alignment] = {}
    misses: list[Miss] = []
    for movie in tqdm(redial_movies, desc="aligning ReDial movies", unit="movie", disable=not progress):
        found, miss = aligner.align_one(movie, metadata.get(movie.movie_id))
        if found is not None:
            alignments[movie.movie_id] = found
        elif miss is not None:
            misses.append(miss)
    misses.sort(key=lambda m: (-m.n_mentions, m.redial_id))
    return AlignmentReport(
        alignments=alignments,
        misses=misses,
        mentions={m.movie_id: m.n_mentions for m in redial_movies},
        movielens_movies=len(index),
        used_imdb=index.has_imdb and bool(metadata),
        seconds=time.perf_counter() - start,
    )
