"""Build the one movie catalog from MovieLens and ReDial.

One `CatalogItem` per MovieLens movie (MovieLens id order), then one per ReDial movie that did not align
(ReDial id order); ids are dense 0..n-1. An item merges:

- title/year: MovieLens, articles in natural order ("The Matrix"); ReDial's name for ReDial-only items;
- genres: MovieLens and ReDial metadata in one lower-case vocabulary (`normalize.canonical_genre`);
- directors, writers, stars, plot: ReDial metadata (people in the metadata's spelling);
- tags: MovieLens tags (lower-case, most used first);
- imdb_id: MovieLens links.csv, else the metadata's;
- popularity: MovieLens ratings + ReDial mentions (mentions in `dialogues` when given, the training
  data, else nbMentions of movies_with_mentions.csv).

ReDial metadata is noisy: when its IMDb id names another film than the item's (the aligner overruled or
rejected it, or it differs from the aligned MovieLens movie's id), its plot/people/genres describe that
other film and are not used; the ids are listed in `AlignmentReport.metadata_ignored`.

Several ReDial ids may share one item (ReDial has duplicates): the most mentioned one is the item's
`redial_id`, the others are attached as aliases so that `Catalog.from_redial` finds all of them.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from recsys.catalog.align import AlignConfig, align_movies
from recsys.catalog.align_report import AlignmentReport
from recsys.catalog.normalize import canonical_genres, parse_movielens_title, parse_redial_name, split_year
from recsys.catalog.types import Catalog, CatalogItem
from recsys.data.types import Dialogue, MovieLensData, MovieMetadata, RedialMovie

log = logging.getLogger(__name__)


def redial_aliases(catalog: Catalog) -> dict[int, int]:
    """The ReDial ids `from_redial` knows beyond each item's own `redial_id`."""
    return dict(catalog.redial_aliases)


def count_mentions(dialogues: Iterable[Dialogue]) -> Counter[int]:
    """`@id` occurrences per ReDial movie id over all messages."""
    counts: Counter[int] = Counter()
    for dialogue in dialogues:
        for message in dialogue.messages:
            counts.update(span.movie_id for span in message.mentions)
    return counts


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _trusted_metadata(
    report: AlignmentReport,
    metadata: Mapping[int, MovieMetadata],
    imdb_of_movielens: Mapping[int, str | None],
) -> dict[int, MovieMetadata]:
    """Metadata entries that describe the film their ReDial id stands for (see the module docstring)."""
    rejected = {m.redial_id for m in report.misses if m.imdb_rejected}
    trusted: dict[int, MovieMetadata] = {}
    ignored: list[int] = []
    for rid, meta in metadata.items():
        alignment = report.alignments.get(rid)
        if alignment is not None:
            ml_imdb = imdb_of_movielens.get(alignment.movielens_id)
            ok = not alignment.imdb_overruled and (not meta.imdb_id or not ml_imdb or meta.imdb_id == ml_imdb)
        else:
            ok = rid not in rejected
        if ok:
            trusted[rid] = meta
        else:
            ignored.append(rid)
    report.metadata_ignored = sorted(ignored)
    return trusted


def build_catalog(
    movielens: MovieLensData,
    redial_movies: Sequence[RedialMovie],
    metadata: Mapping[int, MovieMetadata] | None = None,
    dialogues: Sequence[Dialogue] | None = None,
    *,
    config: AlignConfig | None = None,
    progress: bool = False,
) -> tuple[Catalog, AlignmentReport]:
    """The catalog of every MovieLens movie plus every unaligned ReDial movie, and the alignment report."""
    metadata = metadata or {}
    items_frame = movielens.items.frame.sort_values("item_id", kind="stable").reset_index(drop=True)
    ratings = movielens.interactions.frame["item_id"].value_counts().to_dict()
    report = align_movies(
        items_frame, redial_movies, metadata, popularity=ratings, config=config, progress=progress
    )
    mentions = count_mentions(dialogues) if dialogues is not None else Counter(report.mentions)
    has_imdb = "imdb_id" in items_frame.columns
    imdb_column = items_frame["imdb_id"] if has_imdb else [None] * len(items_frame)
    imdb_of_movielens = dict(zip(items_frame["item_id"], imdb_column, strict=True))
    trusted = _trusted_metadata(report, metadata, imdb_of_movielens)

    by_movielens: dict[int, list[int]] = defaultdict(list)
    for alignment in report.alignments.values():
        by_movielens[alignment.movielens_id].append(alignment.redial_id)

    items: list[CatalogItem] = []
    aliases: dict[int, int] = {}
    for row in items_frame.itertuples(index=False):
        ml_id = int(row.item_id)
        year = None if pd.isna(row.year) else int(row.year)
        redial_ids = sorted(by_movielens.get(ml_id, ()), key=lambda r: (-mentions.get(r, 0), r))
        metas = [trusted[r] for r in redial_ids if r in trusted]
        item_id = len(items)
        imdb = getattr(row, "imdb_id", None) if has_imdb else None
        if not (isinstance(imdb, str) and imdb):
            imdb = next((m.imdb_id for m in metas if m.imdb_id), None)
        items.append(
            CatalogItem(
                item_id=item_id,
                title=parse_movielens_title(str(row.title), year).title,
                year=year,
                genres=canonical_genres(tuple(row.genres), *(m.genres for m in metas)),
                directors=_unique(p for m in metas for p in m.directors),
                writers=_unique(p for m in metas for p in m.writers),
                stars=_unique(p for m in metas for p in m.stars),
                tags=tuple(row.tags),
                plot=next((m.plot for m in metas if m.plot), ""),
                movielens_id=ml_id,
                redial_id=redial_ids[0] if redial_ids else None,
                imdb_id=imdb,
                popularity=float(ratings.get(ml_id, 0) + sum(mentions.get(r, 0) for r in redial_ids)),
            )
        )
        aliases.update({r: item_id for r in redial_ids[1:]})

    for movie in sorted(redial_movies, key=lambda m: m.movie_id):
        if movie.movie_id in report.alignments:
            continue
        parsed = parse_redial_name(movie.name)
        meta = trusted.get(movie.movie_id)
        year = parsed.year if parsed.year is not None or meta is None else split_year(meta.name)[1]
        items.append(
            CatalogItem(
                item_id=len(items),
                title=parsed.title,
                year=year,
                genres=canonical_genres(meta.genres) if meta else (),
                directors=_unique(meta.directors) if meta else (),
                writers=_unique(meta.writers) if meta else (),
                stars=_unique(meta.stars) if meta else (),
                plot=meta.plot if meta else "",
                redial_id=movie.movie_id,
                imdb_id=meta.imdb_id if meta and meta.imdb_id else None,
                popularity=float(mentions.get(movie.movie_id, 0)),
            )
        )
    catalog = Catalog(items, redial_aliases=aliases)
    log.info(
        "catalog: %d items (%d MovieLens, %d ReDial-only); %d ReDial movies aligned, mention coverage %.3f",
        len(catalog),
        len(items_frame),
        len(catalog) - len(items_frame),
        report.aligned_movies,
        report.mention_coverage,
    )
    return catalog, report
