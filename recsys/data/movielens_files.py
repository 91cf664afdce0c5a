"""Parsers of the MovieLens item-side files: movie lists, genre lists, tags and links, in every layout.

Each parser validates every line; in strict mode a bad line raises DataError(path, line), in lenient mode
it is skipped and recorded in a SkipLog. Movie parsers return a frame with columns item_id, title, year,
genres (tuple of lower-case names) and `line` (the line of the movie, for later error messages).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from recsys.data.parsing import (
    SkipLog,
    fail_or_skip,
    iter_csv_records,
    iter_csv_rows,
    iter_lines,
    open_text,
    parse_int,
    read_csv_header,
    split_title_year,
)
from recsys.errors import DataError

#: The 19 genres of ml-100k, in u.item's flag order (used when u.genre is absent).
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
NO_GENRES = "(no genres listed)"
_DIGITS = re.compile(r"^\d+$")


def _genres(text: str) -> tuple[str, ...]:
    """ "Action|Sci-Fi" -> ("action", "sci-fi"); "(no genres listed)" or "" -> ()."""
    names = [g.strip().lower() for g in text.split("|")]
    return tuple(g for g in names if g and g != NO_GENRES)


def _movies_frame(rows: list[tuple[int, str, int | None, tuple[str, ...], int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["item_id", "title", "year", "genres", "line"])
    frame["item_id"] = frame["item_id"].astype("int64")
    frame["year"] = frame["year"].astype("Int64")
    frame["genres"] = frame["genres"].astype(object)
    return frame


class _MovieRows:
    """Collects movie rows, rejecting a movie id seen twice."""

    def __init__(self, path: Path, strict: bool, skips: SkipLog) -> None:
        self.path, self.strict, self.skips = path, strict, skips
        self.rows: list[tuple[int, str, int | None, tuple[str, ...], int]] = []
        self._first_line: dict[int, int] = {}

    def add(self, line: int, raw_id: str, raw_title: str, genres: tuple[str, ...], year: int | None = None):
        try:
            item_id = parse_int(raw_id.strip())
        except ValueError:
            return fail_or_skip(
                self.strict, self.skips, self.path, line, f"movie id {raw_id!r} is not an integer"
            )
        if item_id in self._first_line:
            reason = f"movie id {item_id} appears twice (first at line {self._first_line[item_id]})"
            return fail_or_skip(self.strict, self.skips, self.path, line, reason)
        title, title_year = split_title_year(raw_title)
        self._first_line[item_id] = line
        self.rows.append((item_id, title, title_year if title_year is not None else year, genres, line))

    def frame(self) -> pd.DataFrame:
        return _movies_frame(self.rows)


def read_ml100k_genres(path: Path) -> tuple[str, ...]:
    """Genre names from u.genre ("name|index" lines, indices 0..n-1), in index order."""
    by_index: dict[int, str] = {}
    with open_text(path) as fh:
        for number, line in iter_lines(fh):
            parts = line.split("|")
            if len(parts) != 2 or not _DIGITS.match(parts[1].strip()):
                raise DataError(f"expected 'genre|index', got {line!r}", path=path, line=number)
            by_index[int(parts[1])] = parts[0].strip()
    if sorted(by_index) != list(range(len(by_index))) or not by_index:
        raise DataError(f"genre indices must be 0..n-1, got {sorted(by_index)}", path=path)
    return tuple(by_index[i] for i in range(len(by_index)))


def read_ml100k_items(
    path: Path, genre_names: tuple[str, ...], *, strict: bool, skips: SkipLog
) -> pd.DataFrame:
    """u.item: id|title|release date|video release date|IMDb URL|one 0/1 flag per genre.

    The year comes from the title; when the title has none, from the release date ("01-Jan-1995").
    """
    n_fields = 5 + len(genre_names)
    names = [g.lower() for g in genre_names]
    movies = _MovieRows(path, strict, skips)
    with open_text(path) as fh:
        for number, line in iter_lines(fh):
            parts = line.split("|")
            if len(parts) != n_fields:
                fail_or_skip(strict, skips, path, number, f"expected {n_fields} fields, found {len(parts)}")
                continue
            flags = [f.strip() for f in parts[5:]]
            if any(f not in ("0", "1") for f in flags):
                fail_or_skip(
                    strict, skips, path, number, f"genre flags must be 0 or 1, got {'|'.join(flags)}"
                )
                continue
            genres = tuple(name for name, flag in zip(names, flags, strict=True) if flag == "1")
            movies.add(number, parts[0], parts[1], genres, _release_year(parts[2]))
    return movies.frame()


def _release_year(text: str) -> int | None:
    try:
        return datetime.strptime(text.strip(), "%d-%b-%Y").year
    except ValueError:
        return None


def read_dat_movies(path: Path, *, strict: bool, skips: SkipLog) -> pd.DataFrame:
    """movies.dat (ml-1m, ml-10m): MovieID::Title::Genres."""
    movies = _MovieRows(path, strict, skips)
    with open_text(path) as fh:
        for number, line in iter_lines(fh):
            parts = line.split("::")
            if len(parts) != 3:
                fail_or_skip(
                    strict, skips, path, number, f"expected 3 '::'-separated fields, found {len(parts)}"
                )
                continue
            movies.add(number, parts[0], parts[1], _genres(parts[2]))
    return movies.frame()


def read_dat_tags(path: Path, *, strict: bool, skips: SkipLog) -> pd.DataFrame:
    """tags.dat (ml-10m): UserID::MovieID::Tag::Timestamp -> frame item_id, tag, line."""
    rows: list[tuple[int, str, int]] = []
    with open_text(path) as fh:
        for number, line in iter_lines(fh):
            parts = line.split("::")
            if len(parts) < 4:
                fail_or_skip(
                    strict, skips, path, number, f"expected 4 '::'-separated fields, found {len(parts)}"
                )
                continue
            try:
                parse_int(parts[0]), parse_int(parts[-1])
                item_id = parse_int(parts[1])
            except ValueError:
                fail_or_skip(strict, skips, path, number, "user id, movie id and timestamp must be integers")
                continue
            rows.append((item_id, "::".join(parts[2:-1]), number))
    return pd.DataFrame(rows, columns=["item_id", "tag", "line"]).astype({"item_id": "int64"})


def read_csv_movies(path: Path, *, strict: bool, skips: SkipLog) -> pd.DataFrame:
    """movies.csv: movieId,title,genres (titles with commas are quoted)."""
    movies = _MovieRows(path, strict, skips)
    for number, row in iter_csv_rows(path, ("movieId", "title", "genres"), strict, skips):
        movies.add(number, row["movieId"], row["title"], _genres(row["genres"]))
    return movies.frame()


def read_csv_links(path: Path, *, strict: bool, skips: SkipLog) -> pd.DataFrame:
    """links.csv: movieId,imdbId,tmdbId -> item_id, imdb_id ("tt" + 7+ digits), tmdb_id (Int64), line."""
    rows: list[tuple[int, str | None, int | None, int]] = []
    for number, row in iter_csv_rows(path, ("movieId", "imdbId"), strict, skips):
        movie, imdb, tmdb = row["movieId"].strip(), row["imdbId"].strip(), row.get("tmdbId", "").strip()
        if not _DIGITS.match(movie):
            fail_or_skip(strict, skips, path, number, f"movieId {movie!r} is not an integer")
            continue
        imdb = imdb.removeprefix("tt")
        if imdb and not _DIGITS.match(imdb):
            fail_or_skip(strict, skips, path, number, f"imdbId {row['imdbId']!r} is not an IMDb number")
            continue
        if tmdb and not _DIGITS.match(tmdb):
            fail_or_skip(strict, skips, path, number, f"tmdbId {tmdb!r} is not an integer")
            continue
        rows.append((int(movie), f"tt{int(imdb):07d}" if imdb else None, int(tmdb) if tmdb else None, number))
    frame = pd.DataFrame(rows, columns=["item_id", "imdb_id", "tmdb_id", "line"])
    frame["imdb_id"] = frame["imdb_id"].astype(object)
    return frame.astype({"item_id": "int64", "tmdb_id": "Int64"})


def read_csv_tags(path: Path, *, strict: bool, skips: SkipLog) -> pd.DataFrame:
    """tags.csv: userId,movieId,tag,timestamp -> frame item_id, tag, line (pandas fast path first)."""
    header = read_csv_header(path, ("userId", "movieId", "tag", "timestamp"))
    try:
        frame = pd.read_csv(
            path,
            header=0,
            names=header,
            usecols=["userId", "movieId", "tag", "timestamp"],
            dtype={"userId": "int64", "movieId": "int64", "tag": str, "timestamp": "int64"},
            keep_default_na=False,  # a tag "NA" or "null" is a tag
            na_values={"userId": [""], "movieId": [""], "timestamp": [""]},
            index_col=False,
            engine="c",
        )
    except (ValueError, OverflowError, pd.errors.ParserError):
        return _scan_csv_tags(path, strict=strict, skips=skips)
    out = pd.DataFrame({"item_id": frame["movieId"], "tag": frame["tag"].astype(object), "line": -1})
    return out


def _scan_csv_tags(path: Path, *, strict: bool, skips: SkipLog) -> pd.DataFrame:
    rows: list[tuple[int, str, int]] = []
    for number, row in iter_csv_rows(path, ("userId", "movieId", "tag", "timestamp"), strict, skips):
        try:
            parse_int(row["userId"].strip()), parse_int(row["timestamp"].strip())
            item_id = parse_int(row["movieId"].strip())
        except ValueError:
            fail_or_skip(strict, skips, path, number, "userId, movieId and timestamp must be integers")
            continue
        rows.append((item_id, row["tag"], number))
    return pd.DataFrame(rows, columns=["item_id", "tag", "line"]).astype({"item_id": "int64"})


def csv_line_of(path: Path, row: int) -> int:
    """The first line of data record `row` (0-based, header excluded) of a CSV file."""
    with open_text(path) as fh:
        for i, (number, _) in enumerate(r for r in iter_csv_records(fh) if r[0] != 1):
            if i == row:
                return number
    raise IndexError(row)
