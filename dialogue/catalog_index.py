"""Fast look-ups over the catalog that the dialogue's ranking, policy and replies need on every turn.

Built once per process from the Catalog (and the recommender's TrainData, for the attribute indices the
models know): each item's attribute names ("genre:comedy", "director:christopher nolan", ... exactly as
`recsys.catalog.train_data.item_attribute_values` names them), the inverted index attribute -> items,
release years and their percentile ranks, popularity percentile ranks, and the item groups critiques act
on ("violent", "dark", "scary", "funny").
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from recsys.catalog.train_data import item_attribute_values
from recsys.catalog.types import Catalog, CatalogItem
from recsys.models.types import TrainData

# Item groups that critiques act on: genres and tag substrings (tags are lower-case, free-form).
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # group: (genres, tag substrings)
    "violent": (("war", "horror", "crime", "action"),
                ("violen", "gore", "gory", "bloody", "brutal", "bloodshed")),
    "scary": (("horror",), ("scary", "horror", "creepy", "terrifying", "zombie", "slasher")),
    "suspense": (("thriller", "mystery"), ("suspense", "tense")),
    "funny": (("comedy",), ("funny", "comedy", "hilarious", "humor", "humour")),
    "dark": (("film-noir",), ("dark", "disturbing", "bleak", "noir", "depressing", "grim", "gritty")),
    "light": (("comedy", "family", "animation", "musical"),
              ("feel-good", "heartwarming", "uplifting", "lighthearted")),
}  # fmt: skip
_PEOPLE = {"director": "directors", "writer": "writers", "star": "stars"}


def _percentile_ranks(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Rank of each valid value among the valid ones, in [0, 1] (ties share their mean); 0.5 elsewhere."""
    out = np.full(len(values), 0.5, dtype=np.float64)
    idx = np.flatnonzero(valid)
    if len(idx) == 1:
        out[idx] = 1.0
    elif len(idx) > 1:
        _, inverse, counts = np.unique(values[idx], return_inverse=True, return_counts=True)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])  # 0-based rank of each value's first copy
        mean_rank = first + (counts - 1) / 2.0
        out[idx] = mean_rank[inverse] / (len(idx) - 1.0)
    return out


class CatalogIndex:
    """Per-item attributes, the inverted attribute index, years, popularity and critique groups."""

    def __init__(self, catalog: Catalog, train_data: TrainData | None = None) -> None:
        started = time.perf_counter()
        self.catalog = catalog
        n = len(catalog)
        self.item_attributes: list[frozenset[str]] = [frozenset(item_attribute_values(it)) for it in catalog]
        postings: dict[str, list[int]] = defaultdict(list)
        for item_id, names in enumerate(self.item_attributes):
            for name in names:
                postings[name].append(item_id)
        self._postings = {name: np.asarray(ids, dtype=np.int64) for name, ids in postings.items()}
        self.years = np.array([it.year if it.year else np.nan for it in catalog], dtype=np.float64)
        self.year_rank = _percentile_ranks(self.years, ~np.isnan(self.years))
        if train_data is not None and train_data.n_items == n:
            popularity = train_data.item_popularity().astype(np.float64)
        else:
            popularity = np.array([it.popularity for it in catalog], dtype=np.float64)
        self.popularity = popularity
        self.popularity_rank = _percentile_ranks(np.log1p(popularity), np.ones(n, dtype=bool))
        self.by_popularity = np.lexsort((np.arange(n), -popularity)).astype(np.int64)
        self.model_attributes: dict[str, int] = (
            {name: i for i, name in enumerate(train_data.attribute_names)} if train_data is not None else {}
        )
        self.groups: dict[str, np.ndarray] = {name: self._group(*spec) for name, spec in GROUPS.items()}
        self._by_kind: dict[int, dict[str, tuple[str, ...]]] = {}
        self.build_seconds = time.perf_counter() - started

    def __len__(self) -> int:
        return len(self.catalog)

    def item(self, item_id: int) -> CatalogItem:
        return self.catalog[item_id]

    def items_with(self, attribute: str) -> np.ndarray:
        """Catalog ids of the items that have `attribute` (empty when no item has it)."""
        return self._postings.get(attribute, np.empty(0, dtype=np.int64))

    def items_with_any(self, attributes: Iterable[str]) -> np.ndarray:
        """Catalog ids having at least one of `attributes` (sorted, unique)."""
        parts = [self.items_with(a) for a in attributes]
        parts = [p for p in parts if len(p)]
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    def knows(self, attribute: str) -> bool:
        """Whether any catalog item has `attribute`."""
        return attribute in self._postings

    def attribute_indices(self, attributes: Iterable[str]) -> tuple[int, ...]:
        """Model attribute indices of those attributes the models know (the others are skipped)."""
        return tuple(self.model_attributes[a] for a in attributes if a in self.model_attributes)

    def values_of(self, item_id: int, kind: str) -> list[str]:
        """The item's attributes of one kind ("genre" -> ["genre:action", "genre:crime"])."""
        prefix = f"{kind}:"
        return sorted(a for a in self.item_attributes[item_id] if a.startswith(prefix))

    def attributes_by_kind(self, item_id: int) -> Mapping[str, tuple[str, ...]]:
        """The item's attributes grouped by kind (the text before the first ":"; names without one are left
        out), each group in the iteration order of `item_attributes[item_id]`. Built on first use per item
        and kept (a question looks at the same popular items again and again); do not modify it."""
        grouped = self._by_kind.get(item_id)
        if grouped is None:
            lists: dict[str, list[str]] = {}
            for name in self.item_attributes[item_id]:
                kind, sep, _ = name.partition(":")
                if sep:
                    lists.setdefault(kind, []).append(name)
            grouped = self._by_kind[item_id] = {kind: tuple(names) for kind, names in lists.items()}
        return grouped

    def display(self, attribute: str) -> str:
        """A readable value: "director:christopher nolan" -> "Christopher Nolan", "genre:drama" -> "drama"."""
        kind, _, value = attribute.partition(":")
        if kind in _PEOPLE:
            items = self.items_with(attribute)
            if len(items):
                people = getattr(self.catalog[int(items[0])], _PEOPLE[kind])
                return next((p for p in people if p.lower() == value), value.title())
            return value.title()
        return value

    def median_year(self, items: Sequence[int]) -> int | None:
        """Median release year of `items` (None when none has a year)."""
        years = self.years[np.asarray(items, dtype=np.int64)] if len(items) else np.empty(0)
        years = years[~np.isnan(years)]
        return int(np.median(years)) if len(years) else None

    def _group(self, genres: Sequence[str], tag_parts: Sequence[str]) -> np.ndarray:
        """Items in any of `genres` or with a tag containing any of `tag_parts`."""
        names = [f"genre:{g}" for g in genres]
        names += [
            name for name in self._postings if name.startswith("tag:") and any(p in name for p in tag_parts)
        ]
        return self.items_with_any(names)
