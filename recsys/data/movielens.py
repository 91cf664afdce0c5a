"""MovieLens loader: every official release layout, detected from a directory's contents.

Layouts (the value of `MovieLensData.layout`):

- "ml-100k": u.data (tab-separated user, item, rating, timestamp), u.item (pipe-separated, latin-1, one
  0/1 flag per genre), u.genre (optional genre names). Ratings 1..5.
- "ml-1m": `::`-separated ratings.dat and movies.dat, and tags.dat when present. With users.dat (ml-1m)
  ratings are whole stars 1..5; without it (ml-10m, "ml-10M100K") half stars 0.5..5.
- "csv": ratings.csv, movies.csv, tags.csv and links.csv (ml-latest-small, ml-latest, ml-20m, ml-25m,
  ml-32m). Ratings 0.5..5 in half stars.

Items carry: item_id, title (without the trailing "(1995)", otherwise as released: "Matrix, The"), year
(nullable Int64), genres (lower-case tuple; "(no genres listed)" -> ()), tags (distinct lower-cased tags,
most frequent first, ties alphabetical), imdb_id ("tt0114709" from links.csv, else None; ml-100k's IMDb
search URLs are not ids), tmdb_id (nullable Int64, from links.csv).

Policy: every malformed line raises DataError naming file and line (strict mode, the default). A rating,
tag or link of a movie that is not in the movie list is an error too (it would otherwise be dropped). With
`strict=False` such rows are skipped instead, and `MovieLensData.skipped` says how many and why. Empty
tags carry no data and are always skipped and counted there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data import movielens_files as files
from recsys.data.numeric import NumericTable, ReadTable, check_rows, read_numeric_table
from recsys.data.parsing import SkipLog, fail_or_skip
from recsys.data.types import INTERACTION_COLUMNS, Interactions, ItemTable, MovieLensData
from recsys.errors import DataError, DataFormatError

log = logging.getLogger(__name__)

#: layout -> the files that identify it (all must be present).
LAYOUT_FILES: dict[str, tuple[str, str]] = {
    "ml-100k": ("u.data", "u.item"),
    "ml-1m": ("ratings.dat", "movies.dat"),
    "csv": ("ratings.csv", "movies.csv"),
}


@dataclass(frozen=True)
class RatingScale:
    """The valid ratings of a release: low..high in steps of `step`."""

    low: float
    high: float
    step: float

    def __str__(self) -> str:
        return f"{self.low:g}..{self.high:g} in steps of {self.step:g}"

    def invalid(self, ratings: np.ndarray) -> np.ndarray:
        """Mask of the ratings that are off the scale (or NaN)."""
        r = ratings.astype(np.float64)
        steps = (r - self.low) / self.step
        with np.errstate(invalid="ignore"):
            return (
                ~np.isfinite(r) | (r < self.low) | (r > self.high) | (np.abs(steps - np.round(steps)) > 1e-6)
            )


WHOLE_STARS = RatingScale(1.0, 5.0, 1.0)
HALF_STARS = RatingScale(0.5, 5.0, 0.5)


def _layout_of(directory: Path) -> tuple[str | None, set[str]]:
    """(layout or None, names of the files) of one directory, without looking into subdirectories."""
    present = {p.name for p in directory.iterdir() if p.is_file()}
    for layout, needed in LAYOUT_FILES.items():
        if all(name in present for name in needed):
            return layout, present
    return None, present


def detect_layout(path: Path) -> str:
    """ "ml-100k", "ml-1m" or "csv" from the files in directory `path`; DataFormatError if none fits.

    The error lists what was looked for, what the directory holds, which layout is incomplete, and a
    subdirectory that holds a release (e.g. the "ml-100k" folder inside an unpacked archive's parent).
    """
    path = Path(path)
    if not path.is_dir():
        raise DataFormatError("not a directory (expected a MovieLens release directory)", path=path)
    layout, present = _layout_of(path)
    if layout is not None:
        return layout
    looked_for = "; ".join(f"{name}: {' + '.join(files)}" for name, files in LAYOUT_FILES.items())
    partial = [
        f"{name} needs {', '.join(n for n in files if n not in present)}"
        for name, files in LAYOUT_FILES.items()
        if any(n in present for n in files)
    ]
    hint = f"; found {'; '.join(partial)}" if partial else ""
    subdirs = sorted(p.name for p in path.iterdir() if p.is_dir() and _layout_of(p)[0] is not None)
    if subdirs:
        hint += f"; did you mean the subdirectory {subdirs[0]!r}?"
    raise DataFormatError(
        f"no MovieLens layout recognised (looked for {looked_for}); contains {sorted(present)[:10]}{hint}",
        path=path,
    )


def load_movielens(path: Path, *, strict: bool = True) -> MovieLensData:
    """Load the MovieLens release in directory `path`, whatever its layout (see the module docstring).

    Raises DataError (file and line) for a malformed line and DataFormatError for an unknown layout.
    With strict=False bad rows are skipped and counted in the result's `skipped`.
    """
    path = Path(path)
    layout = detect_layout(path)
    skips = SkipLog()
    if layout == "ml-100k":
        ratings, movies, tags, links, scale = _read_100k(path, strict, skips)
    elif layout == "ml-1m":
        ratings, movies, tags, links, scale = _read_dat(path, strict, skips)
    else:
        ratings, movies, tags, links, scale = _read_csv(path, strict, skips)
    movies_file = path / LAYOUT_FILES[layout][1]
    interactions = _check_ratings(ratings, movies, movies_file, scale, strict=strict, skips=skips)
    items = _assemble_items(movies, tags, links, movies_file, strict=strict, skips=skips)
    skips.log()
    return MovieLensData(layout, interactions, items, skipped=skips.as_dict())


_Parts = tuple[ReadTable, pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None, RatingScale]


def _ratings_table(path: Path, sep: str, n_fields: int = 4) -> NumericTable:
    fields = {"user_id": (0, "int"), "item_id": (1, "int"), "rating": (2, "float"), "timestamp": (3, "int")}
    return NumericTable(path, sep, n_fields, fields)


def _read_100k(path: Path, strict: bool, skips: SkipLog) -> _Parts:
    genre_file = path / "u.genre"
    genres = files.read_ml100k_genres(genre_file) if genre_file.is_file() else files.ML100K_GENRES
    movies = files.read_ml100k_items(path / "u.item", genres, strict=strict, skips=skips)
    ratings = read_numeric_table(_ratings_table(path / "u.data", "\t"), strict=strict, skips=skips)
    return ratings, movies, None, None, WHOLE_STARS


def _read_dat(path: Path, strict: bool, skips: SkipLog) -> _Parts:
    movies = files.read_dat_movies(path / "movies.dat", strict=strict, skips=skips)
    tag_file = path / "tags.dat"
    tags = files.read_dat_tags(tag_file, strict=strict, skips=skips) if tag_file.is_file() else None
    ratings = read_numeric_table(_ratings_table(path / "ratings.dat", "::"), strict=strict, skips=skips)
    scale = WHOLE_STARS if (path / "users.dat").is_file() else HALF_STARS
    return ratings, movies, tags, None, scale


def _read_csv(path: Path, strict: bool, skips: SkipLog) -> _Parts:
    movies = files.read_csv_movies(path / "movies.csv", strict=strict, skips=skips)
    tag_file, link_file = path / "tags.csv", path / "links.csv"
    tags = files.read_csv_tags(tag_file, strict=strict, skips=skips) if tag_file.is_file() else None
    links = files.read_csv_links(link_file, strict=strict, skips=skips) if link_file.is_file() else None
    ratings_file = path / "ratings.csv"
    header = files.read_csv_header(ratings_file, ("userId", "movieId", "rating", "timestamp"))
    columns = {"user_id": "userId", "item_id": "movieId", "rating": "rating", "timestamp": "timestamp"}
    fields = {
        name: (header.index(col), "float" if name == "rating" else "int") for name, col in columns.items()
    }
    table = NumericTable(ratings_file, ",", len(header), fields, header=True)
    return read_numeric_table(table, strict=strict, skips=skips), movies, tags, links, HALF_STARS


def _check_ratings(
    read: ReadTable,
    movies: pd.DataFrame,
    movies_file: Path,
    scale: RatingScale,
    *,
    strict: bool,
    skips: SkipLog,
) -> Interactions:
    """Value checks on parsed ratings: ids >= 0, rating on the scale, item in the movie list."""
    for column in ("user_id", "item_id"):
        values = read.frame[column].to_numpy()
        check_rows(
            read,
            values < 0,
            lambda i, c=column: f"negative {c} {read.frame[c].iat[i]}",
            strict=strict,
            skips=skips,
        )
    rating = read.frame["rating"].to_numpy()
    check_rows(
        read,
        scale.invalid(rating),
        lambda i: f"rating {read.frame['rating'].iat[i]} is not on this release's scale ({scale})",
        strict=strict,
        skips=skips,
    )
    item = read.frame["item_id"].to_numpy()
    unknown = ~np.isin(item, movies["item_id"].to_numpy())
    if unknown.any():
        n_movies = len(np.unique(item[unknown]))
        check_rows(
            read,
            unknown,
            lambda i: (
                f"movie {read.frame['item_id'].iat[i]} is rated but is not in {movies_file.name} "
                f"({int(unknown.sum())} rating(s) of {n_movies} such movie(s))"
            ),
            strict=strict,
            skips=skips,
        )
    frame = read.frame
    if list(frame.columns) != list(INTERACTION_COLUMNS):
        frame = frame[list(INTERACTION_COLUMNS)]
    return Interactions(frame.astype(INTERACTION_COLUMNS).reset_index(drop=True))  # no copy when dtypes match


def _unknown_rows(
    side: pd.DataFrame, known: np.ndarray, side_file: Path, movies_file: Path, strict: bool, skips: SkipLog
) -> pd.DataFrame:
    """Rows of a tags/links frame whose movie is not in the movie list: error, or dropped and counted."""
    unknown = ~np.isin(side["item_id"].to_numpy(), known)
    if not unknown.any():
        return side
    first = int(np.flatnonzero(unknown)[0])
    line = int(side["line"].iat[first])
    if line < 0:
        line = files.csv_line_of(side_file, first)
    reason = f"movie {side['item_id'].iat[first]} is not in {movies_file.name}"
    fail_or_skip(strict, skips, side_file, line, reason, int(unknown.sum()))
    return side.loc[~unknown]


def _aggregate_tags(tags: pd.DataFrame, tag_file: Path, skips: SkipLog) -> pd.Series:
    """item_id -> tuple of distinct lower-cased tags, most frequent first, ties alphabetical."""
    text = tags["tag"].astype(str).str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    empty = (text == "").to_numpy()
    if empty.any():
        first = int(np.flatnonzero(empty)[0])
        line = int(tags["line"].iat[first])
        skips.add(
            tag_file, "empty tag", line if line >= 0 else files.csv_line_of(tag_file, first), int(empty.sum())
        )
    counts = (
        pd.DataFrame({"item_id": tags["item_id"].to_numpy()[~empty], "tag": text.to_numpy()[~empty]})
        .value_counts()
        .rename("n")
        .reset_index()
        .sort_values(["item_id", "n", "tag"], ascending=[True, False, True], kind="stable")
    )
    ids = counts["item_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.array([], dtype=int)
    groups = np.split(counts["tag"].to_numpy(dtype=object), starts[1:])
    return pd.Series([tuple(g) for g in groups], index=ids[starts], dtype=object)


def _assemble_items(
    movies: pd.DataFrame,
    tags: pd.DataFrame | None,
    links: pd.DataFrame | None,
    movies_file: Path,
    *,
    strict: bool,
    skips: SkipLog,
) -> ItemTable:
    known = movies["item_id"].to_numpy()
    items = movies.drop(columns="line").reset_index(drop=True)
    tags_by_item: pd.Series | None = None
    if tags is not None and len(tags):
        tag_file = movies_file.with_name("tags.csv" if movies_file.suffix == ".csv" else "tags.dat")
        tags = _unknown_rows(tags, known, tag_file, movies_file, strict, skips)
        tags_by_item = _aggregate_tags(tags, tag_file, skips).reindex(known)
    items["tags"] = pd.Series(
        [
            t if isinstance(t, tuple) else ()
            for t in (tags_by_item if tags_by_item is not None else [()] * len(known))
        ],
        dtype=object,
    )
    items["imdb_id"] = pd.Series([None] * len(items), dtype=object)
    items["tmdb_id"] = pd.array([pd.NA] * len(items), dtype="Int64")
    if links is not None and len(links):
        link_file = movies_file.with_name("links.csv")
        links = _unknown_rows(links, known, link_file, movies_file, strict, skips)
        _check_duplicate_links(links, link_file)
        by_item = links.set_index("item_id").reindex(known)
        items["imdb_id"] = pd.Series(
            [v if isinstance(v, str) else None for v in by_item["imdb_id"]], dtype=object
        )
        items["tmdb_id"] = by_item["tmdb_id"].astype("Int64").array
    return ItemTable(items[["item_id", "title", "year", "genres", "tags", "imdb_id", "tmdb_id"]])


def _check_duplicate_links(links: pd.DataFrame, path: Path) -> None:
    dup = links["item_id"].duplicated().to_numpy()
    if dup.any():
        first = int(np.flatnonzero(dup)[0])
        movie = links["item_id"].iat[first]
        raise DataError(
            f"movie {movie} has more than one link line", path=path, line=int(links["line"].iat[first])
        )
