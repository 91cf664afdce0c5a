"""Turn the catalog and the datasets into the TrainData the dialogue's models are fitted on.

Item axis = catalog ids (`TrainData.item_ids[i] == i`). The parts:

- **user_items** (implicit positives, weight 1.0):
  - one row per MovieLens user with at least one rating >= `min_rating` (default 3.5 on the 0.5..5
    half-star scale, i.e. 3.5/4/4.5/5; on ml-100k/ml-1m's whole stars it means 4 and 5: "liked", not
    merely "watched"), MovieLens ids mapped to catalog ids; `user_ids` = the MovieLens user id;
  - one pseudo-user per ReDial dialogue, so that ReDial-only movies get signal: the seeker's positives
    (`seeker_positives`), mapped through the alignment; `user_ids` = REDIAL_USER_OFFSET + conversation id.
- **item_attributes** (0/1): "genre:", "director:", "writer:", "star:", "tag:" and "decade:" attributes
  (lower-case values). An attribute shared by fewer than `min_attribute_items` items (default 2) is
  dropped: it cannot relate two movies, and people who made a single catalog movie would otherwise be
  most of the columns. Columns are ordered by kind (ATTRIBUTE_KINDS order), then by name.
- **item_item**: co-mention counts: the number of dialogues mentioning both movies (diagonal 0).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys.catalog.types import Catalog, CatalogItem
from recsys.data.types import Dialogue, Interactions
from recsys.models.types import ATTRIBUTE_KINDS, TrainData

log = logging.getLogger(__name__)

REDIAL_USER_OFFSET = 1_000_000_000  # user_ids >= this are ReDial dialogue pseudo-users


@dataclass(frozen=True)
class TrainDataConfig:
    """How the dialogue's TrainData is built (see the module docstring)."""

    min_rating: float = 3.5
    use_movielens: bool = True
    use_redial: bool = True
    min_attribute_items: int = 2
    attribute_kinds: tuple[str, ...] = ATTRIBUTE_KINDS

    def as_params(self) -> dict[str, Any]:
        return {
            "min_rating": self.min_rating,
            "use_movielens": self.use_movielens,
            "use_redial": self.use_redial,
            "min_attribute_items": self.min_attribute_items,
            "attribute_kinds": list(self.attribute_kinds),
        }


def seeker_positives(dialogue: Dialogue) -> set[int]:
    """ReDial ids the seeker likes: questionnaire `liked == 1`, plus movies the seeker mentioned unless the
    questionnaire says disliked (`liked == 0`). The seeker's own answers are used when present, else the
    recommender's answers about the seeker."""
    answers = dialogue.seeker_answers or dialogue.recommender_answers
    liked = {m for m, a in answers.items() if a.liked == 1}
    disliked = {m for m, a in answers.items() if a.liked == 0}
    mentioned = {span.movie_id for msg in dialogue.messages if msg.is_seeker for span in msg.mentions}
    return liked | (mentioned - disliked)


def dialogue_movies(dialogue: Dialogue) -> set[int]:
    """Every ReDial id the dialogue mentions (`movieMentions` and `@id` spans)."""
    ids = set(dialogue.movie_mentions)
    ids.update(span.movie_id for msg in dialogue.messages for span in msg.mentions)
    return ids


def _map_redial(catalog: Catalog, ids: Iterable[int], unknown: set[int]) -> set[int]:
    mapped = set()
    for rid in ids:
        item = catalog.from_redial(rid)
        if item is None:
            unknown.add(rid)
        else:
            mapped.add(item)
    return mapped


def _rows_to_csr(rows: Sequence[Iterable[int]], n_items: int) -> sp.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    cols: list[int] = []
    for i, row in enumerate(rows):
        cols.extend(sorted(row))
        indptr[i + 1] = len(cols)
    indices = np.asarray(cols, dtype=np.int64)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_items))


def movielens_positives(
    catalog: Catalog, interactions: Interactions, min_rating: float
) -> tuple[sp.csr_matrix, np.ndarray]:
    """MovieLens users x catalog items, 1.0 where the rating >= min_rating; (matrix, MovieLens user ids)."""
    frame = interactions.frame
    frame = frame[frame["rating"].to_numpy() >= min_rating]
    lookup = {ml: iid for iid, ml in ((it.item_id, it.movielens_id) for it in catalog) if ml is not None}
    items = frame["item_id"].map(lookup)
    unknown = int(items.isna().sum())
    if unknown:
        log.warning("%d MovieLens ratings are of movies not in the catalog; skipped", unknown)
    keep = items.notna().to_numpy()
    users = frame["user_id"].to_numpy()[keep]
    cols = items.to_numpy()[keep].astype(np.int64)
    user_ids, rows = np.unique(users, return_inverse=True)
    matrix = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(user_ids), len(catalog))
    )
    matrix.data[:] = 1.0  # a repeated (user, movie) pair stays one positive
    return matrix, user_ids.astype(np.int64)


def redial_positives(catalog: Catalog, dialogues: Sequence[Dialogue]) -> tuple[sp.csr_matrix, np.ndarray]:
    """One pseudo-user per dialogue with at least one positive; (matrix, REDIAL_USER_OFFSET + conv. id)."""
    unknown: set[int] = set()
    rows, ids = [], []
    for dialogue in dialogues:
        items = _map_redial(catalog, seeker_positives(dialogue), unknown)
        if items:
            rows.append(items)
            ids.append(REDIAL_USER_OFFSET + dialogue.conversation_id)
    if unknown:
        log.warning("%d ReDial movie ids in the dialogues are not in the catalog; skipped", len(unknown))
    return _rows_to_csr(rows, len(catalog)), np.asarray(ids, dtype=np.int64)


def item_attribute_values(item: CatalogItem) -> list[str]:
    """Every attribute name of one item ("genre:sci-fi", "director:lana wachowski", "decade:1990s")."""
    names = [f"genre:{g}" for g in item.genres]
    names += [f"director:{p.lower()}" for p in item.directors]
    names += [f"writer:{p.lower()}" for p in item.writers]
    names += [f"star:{p.lower()}" for p in item.stars]
    names += [f"tag:{t.lower()}" for t in item.tags]
    if item.year:
        names.append(f"decade:{item.year // 10 * 10}s")
    return list(dict.fromkeys(names))


def item_attributes(
    catalog: Catalog, min_items: int = 2, kinds: Sequence[str] = ATTRIBUTE_KINDS
) -> tuple[sp.csr_matrix, tuple[str, ...]]:
    """The 0/1 item x attribute matrix and its column names (attributes of >= min_items items)."""
    per_item = [[n for n in item_attribute_values(item) if n.split(":", 1)[0] in kinds] for item in catalog]
    counts = Counter(n for names in per_item for n in names)
    order = {kind: i for i, kind in enumerate(ATTRIBUTE_KINDS)}
    frequent = (n for n, c in counts.items() if c >= min_items)
    kept = sorted(frequent, key=lambda n: (order[n.split(":", 1)[0]], n))
    column = {n: i for i, n in enumerate(kept)}
    rows = [{column[n] for n in names if n in column} for names in per_item]
    return _rows_to_csr(rows, len(kept)), tuple(kept)


def co_mentions(catalog: Catalog, dialogues: Sequence[Dialogue]) -> sp.csr_matrix:
    """Items x items: in how many dialogues both movies are mentioned (symmetric, zero diagonal)."""
    unknown: set[int] = set()
    rows = [_map_redial(catalog, dialogue_movies(d), unknown) for d in dialogues]
    incidence = _rows_to_csr(rows, len(catalog))
    counts = (incidence.T @ incidence).tocsr()
    counts.setdiag(0)
    counts.eliminate_zeros()
    return counts.astype(np.float32)


def build_train_data(
    catalog: Catalog,
    interactions: Interactions | None,
    dialogues: Sequence[Dialogue] | None,
    config: TrainDataConfig | None = None,
) -> TrainData:
    """The dialogue's TrainData over the catalog (see the module docstring for every part)."""
    config = config or TrainDataConfig()
    blocks, user_ids = [], []
    if config.use_movielens and interactions is not None:
        matrix, ids = movielens_positives(catalog, interactions, config.min_rating)
        blocks.append(matrix)
        user_ids.append(ids)
    if config.use_redial and dialogues is not None:
        matrix, ids = redial_positives(catalog, dialogues)
        blocks.append(matrix)
        user_ids.append(ids)
    user_items = sp.vstack(blocks).tocsr() if blocks else sp.csr_matrix((0, len(catalog)), dtype=np.float32)
    attributes, names = item_attributes(catalog, config.min_attribute_items, config.attribute_kinds)
    item_item = co_mentions(catalog, dialogues) if dialogues is not None else None
    return TrainData(
        user_items=user_items,
        item_ids=np.arange(len(catalog), dtype=np.int64),
        user_ids=np.concatenate(user_ids) if user_ids else np.zeros(0, dtype=np.int64),
        item_attributes=attributes,
        attribute_names=names,
        item_item=item_item,
    )


def describe_train_data(data: TrainData) -> dict[str, Any]:
    """Counts for a summary: users by source, interactions, attributes by kind, co-mention pairs."""
    user_ids = data.user_ids if data.user_ids is not None else np.zeros(0, dtype=np.int64)
    redial_users = int((user_ids >= REDIAL_USER_OFFSET).sum())
    kinds = Counter(name.split(":", 1)[0] for name in data.attribute_names)
    return {
        "users": data.n_users,
        "movielens_users": data.n_users - redial_users,
        "redial_users": redial_users,
        "items": data.n_items,
        "interactions": int(data.user_items.nnz),
        "items_with_interactions": int((data.item_popularity() > 0).sum()),
        "attributes": data.n_attributes,
        "attributes_by_kind": {kind: kinds.get(kind, 0) for kind in ATTRIBUTE_KINDS},
        "co_mention_pairs": int(data.item_item.nnz // 2) if data.item_item is not None else 0,
    }
