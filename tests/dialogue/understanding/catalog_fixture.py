"""A small fixed catalog for the understanding tests and the labelled set (data: test_catalog.tsv).

About 80 real movies with hand-written metadata, chosen for the tricky cases: titles that are common
words ("Up", "It", "Her", "Heat", "Crash", "Frozen", "Go", "Big", "Taken", "Signs"), two movies with the
same title ("It" 1990/2017, "The Lion King" 1994/2019), leading articles, colons, hyphens, digits and
accents, a title that is a mood phrase ("Scary Movie"), people sharing a last name (Christopher and
Jonathan Nolan) and a star whose first name is a title ("Annabelle" Wallis). Items are referred to in the
labelled set by their display name, "Heat (1995)". ReDial ids are 100000 + catalog id (so "@100004" is
Heat); id 999999 is deliberately unknown.
"""

from __future__ import annotations

from pathlib import Path

from recsys.catalog.types import Catalog, CatalogItem
from recsys.errors import DataError

TABLE = Path(__file__).with_name("test_catalog.tsv")
REDIAL_OFFSET = 100_000


def _split(field: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in field.split(";") if p.strip())


def build_test_catalog(path: Path = TABLE) -> Catalog:
    """The fixed test catalog (deterministic: same ids every time)."""
    items: list[CatalogItem] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 8:
            raise DataError(f"expected 8 tab-separated fields, found {len(fields)}", path=path, line=lineno)
        title, year, genres, directors, stars, writers, tags, popularity = fields
        i = len(items)
        items.append(
            CatalogItem(
                item_id=i,
                title=title,
                year=int(year),
                genres=tuple(genres.split()),
                directors=_split(directors),
                writers=_split(writers),
                stars=_split(stars),
                tags=_split(tags),
                popularity=float(popularity),
                redial_id=REDIAL_OFFSET + i,
            )
        )
    return Catalog(items)


def id_by_display(catalog: Catalog) -> dict[str, int]:
    """Display name -> catalog id (every display name in the test catalog is unique)."""
    return {it.display: it.item_id for it in catalog}
