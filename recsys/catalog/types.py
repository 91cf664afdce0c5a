"""The one movie catalog: every item the system can talk about, with dense ids 0..n-1.

Catalog item ids are the item axis of every model trained for the dialogue, so a catalog id is also
a model item index.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from recsys.errors import UnknownItemError


@dataclass(frozen=True)
class CatalogItem:
    item_id: int  # dense catalog id, 0..n-1
    title: str  # display title without the year, articles in natural order ("The Matrix")
    year: int | None = None
    genres: tuple[str, ...] = ()  # lower-case ("sci-fi", "comedy")
    directors: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    stars: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # lower-case
    plot: str = ""
    movielens_id: int | None = None
    redial_id: int | None = None
    imdb_id: str | None = None  # "tt0114709"
    popularity: float = 0.0  # number of ratings + mentions seen in training data

    @property
    def display(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass
class Catalog:
    """Items in id order, with lookups from the source datasets' ids."""

    items: Sequence[CatalogItem]
    # Extra ReDial ids -> catalog id: ReDial has several ids for one film (duplicates); each resolves here.
    redial_aliases: Mapping[int, int] = field(default_factory=dict)
    _by_movielens: dict[int, int] = field(init=False, repr=False)
    _by_redial: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for i, item in enumerate(self.items):
            if item.item_id != i:
                raise ValueError(f"catalog ids must be dense and ordered: position {i} has id {item.item_id}")
        self._by_movielens = {it.movielens_id: it.item_id for it in self.items if it.movielens_id is not None}
        self._by_redial = {it.redial_id: it.item_id for it in self.items if it.redial_id is not None}
        for redial_id, item_id in self.redial_aliases.items():
            self[item_id]  # raises UnknownItemError for an id outside the catalog
            self._by_redial.setdefault(int(redial_id), int(item_id))

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[CatalogItem]:
        return iter(self.items)

    def __getitem__(self, item_id: int) -> CatalogItem:
        if not 0 <= item_id < len(self.items):
            raise UnknownItemError(f"item {item_id} is not in the catalog (ids 0..{len(self.items) - 1})")
        return self.items[item_id]

    def from_movielens(self, movielens_id: int) -> int | None:
        return self._by_movielens.get(movielens_id)

    def from_redial(self, redial_id: int) -> int | None:
        return self._by_redial.get(redial_id)
