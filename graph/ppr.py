"""Personalized PageRank over the item graph: items, attribute nodes, co-mention and collaborative edges.

The walk graph is ``item | genre | person | tag | decade`` from graph/item_graph.py (users left out),
plus, optionally, each item's `collab_neighbors` nearest items by cosine over their user vectors
(implicit's all_pairs_knn), which carries the collaborative signal the attribute edges lack.
From an item, the walker moves along one of three edge kinds — attributes, co-mentions, collaborative
neighbours — chosen with probability proportional to `attribute_weight`, `co_mention_weight`,
`collab_weight` among the kinds the item has, then to a neighbour proportional to edge weight
(co-mention counts as log1p). From an attribute node it moves to one of its items uniformly.

A query's restart distribution holds its liked items (by weight) and liked attribute nodes (sharing
`attribute_seed_share` of the mass when both are present); a known user restarts at its training items.
Power iteration (scipy sparse, one query at a time) runs until the L1 change is below `tol` or
`max_iter` steps; mass reaching a node without out-edges returns to the restart (so the result is
exactly ``y / sum(y)`` for ``y = alpha (I - (1 - alpha) P)^-1 r``, tested in tests/graph/test_ppr_walk.py).
Disliked items and attributes never enter the restart; instead the walk from them is subtracted
(``score = ppr(liked) - disliked_weight * ppr(disliked)``). Scores are divided by
``(in-degree)^popularity_exponent`` to temper the walk's pull towards hubs.

Defaults were measured on ml-latest-small (ratings >= 3, random 80/10/10 per user, genres as attributes;
test Recall@20): restart probability alpha 0.15 -> 0.186, 0.25 -> 0.244, 0.4 -> 0.250, 0.5 -> 0.253,
0.6 -> 0.255 (all with popularity_exponent 0.3); popularity_exponent 0 -> 0.209, 0.3 -> 0.244,
0.5 -> 0.228 (alpha 0.25); 10 / 20 / 50 collaborative neighbours -> 0.240 / 0.244 / 0.233. alpha 0.5
keeps walks short enough for collaborative accuracy and long enough (one attribute hop and back costs
a factor 0.25) for attribute seeds to reach their items' neighbours, and converges in ~10 steps.

Walks are memoised per model (`WALK_CACHE` most recent restart distributions, keyed by their exact
non-zero entries): a dialogue ranks the same seeds several times (the policy's candidate pool, then the
recommendation; again on every turn that does not change the likes), and a walk is deterministic, so a
repeated restart returns the stored vector (read-only) instead of ~10 sparse products over the graph.
Measured on the dialogue's graph (18k nodes, 324k edges, ~9-10 steps per walk from the dialogue's
restarts): a walk costs ~2.5 ms of CPU (the previous loop, like `_walk_reference`, ~2.6 ms back to back;
`_walk` gives the same vectors, max abs difference < 1e-6, by accumulating the product into a buffer
holding the restart term, taking the lost mass from the 37 dangling nodes and following only the seeds'
out-edges on the first step: graph/walk_operator.py); ~0.25 ms of each step is the sparse product
itself, which bounds what any rewrite of this loop can save. Not worth it, measured: liked and disliked
walks as one 2-column product (scipy's csr_matvecs: 1.0 ms a step against 2 x 0.27 ms), sparse products
on the second step too (slicing the out-edges evicts the matrix from cache: slower than the full
product), GMRES on ``(I - (1 - alpha) P) y = alpha r`` (7 products for 40x the power iteration's error).
Since ``y`` is linear in r, walks of single seeds could be memoised and mixed exactly (up to `tol`); not
done: a turn that changes the likes adds a new seed, which costs a walk either way.
A memo hit costs ~0.05 ms (also the whole overhead of a miss), the memo ~9 MB per process;
`python -m dialogue.bench turns --sessions 30` (varied scripts, one session per conversation) hit it
on 155 of 217 walks asked for: the turns that keep the seeds (critiques, rejections, "more",
questions) reuse the walk of the previous turn.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from graph.adjacency import attribute_global_nodes, homogeneous_adjacency, node_layout, row_normalize
from graph.artifacts import item_graph
from graph.item_graph import ATTRIBUTE_NODE_TYPES, KIND_EDGE
from graph.walk_operator import WalkOperator
from recsys.errors import ValidationError
from recsys.models.base import Recommender
from recsys.models.types import Profile, TrainData

ATTRIBUTE_RELATIONS = tuple(rel for _, rel in KIND_EDGE.values())
SPARSE_STEP_MAX_COST = 0.3  # first step from the seeds alone when they touch < 30% of the edges
WALK_CACHE = 128  # memoised walks per model (each n_nodes float32: ~72 KB on the dialogue's 18k nodes)
_UNPICKLED = ("_walks", "_walks_lock", "_walk_ops")  # rebuilt after load, never saved


def collaborative_neighbors(user_items: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """n_items x n_items: each item's k most cosine-similar items over users (no self loops)."""
    from implicit.nearest_neighbours import all_pairs_knn

    # all_pairs_knn compares the columns of a users x items matrix: unit-norm columns give cosine
    ui = sp.csr_matrix(user_items, dtype=np.float64)
    norms = np.sqrt(np.asarray(ui.multiply(ui).sum(axis=0)).ravel())
    ui = sp.csr_matrix(ui @ sp.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0)))
    knn = sp.csr_matrix(all_pairs_knn(ui, k + 1, num_threads=1, show_progress=False), dtype=np.float32)
    knn.setdiag(0)
    knn.data[knn.data < 0] = 0
    knn.eliminate_zeros()
    return knn


class PersonalizedPageRank(Recommender):
    """Random walk with restart from a profile's liked items and attributes over the item graph."""

    name = "ppr"
    uses_attributes = True

    def __init__(
        self,
        *,
        alpha: float = 0.5,
        max_iter: int = 30,
        tol: float = 1e-4,
        collab_neighbors: int = 20,
        attribute_weight: float = 0.5,
        co_mention_weight: float = 1.0,
        collab_weight: float = 1.0,
        attribute_seed_share: float = 0.5,
        disliked_weight: float = 0.5,
        popularity_exponent: float = 0.3,
    ) -> None:
        super().__init__()
        if not 0.0 < alpha < 1.0:
            raise ValidationError(f"alpha (restart probability) must be in (0, 1), got {alpha}")
        if max_iter < 1 or tol <= 0 or collab_neighbors < 0:
            raise ValidationError("max_iter must be >= 1, tol > 0 and collab_neighbors >= 0")
        if not 0.0 <= attribute_seed_share <= 1.0:
            raise ValidationError(f"attribute_seed_share must be in [0, 1], got {attribute_seed_share}")
        weights = (attribute_weight, co_mention_weight, collab_weight, disliked_weight, popularity_exponent)
        if min(weights) < 0:
            raise ValidationError("edge-kind weights, disliked_weight and popularity_exponent must be >= 0")
        self.alpha, self.max_iter, self.tol = float(alpha), int(max_iter), float(tol)
        self.collab_neighbors = int(collab_neighbors)
        self.kind_weights = {
            "attribute": float(attribute_weight),
            "co_mention": float(co_mention_weight),
            "collab": float(collab_weight),
        }
        self.attribute_seed_share = float(attribute_seed_share)
        self.disliked_weight = float(disliked_weight)
        self.popularity_exponent = float(popularity_exponent)

    # ---- fitting ------------------------------------------------------------------------------------
    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        for name in ("_walks", "_walk_ops"):  # walks over the previous graph
            self.__dict__.pop(name, None)
        graph = item_graph(data)  # the stored graph when training fetched it
        layout = node_layout(graph, ("item", *ATTRIBUTE_NODE_TYPES))
        n, n_items = layout.n_nodes, data.n_items
        blocks = {
            "attribute": homogeneous_adjacency(graph, layout, exclude_relations=("co_mentioned",)),
            "co_mention": homogeneous_adjacency(
                graph, layout, weight_fns={"co_mentioned": np.log1p}, exclude_relations=ATTRIBUTE_RELATIONS
            ),
        }
        if self.collab_neighbors and data.user_items.nnz:
            knn = collaborative_neighbors(data.user_items, self.collab_neighbors)
            blocks["collab"] = sp.block_diag([knn, sp.csr_matrix((n - n_items, n - n_items))], format="csr")
        # mix the row-normalised kinds per item row, weighted among the kinds the item has; attribute
        # rows only have attribute edges and always keep them (so attribute seeds can walk)
        transition = sp.csr_matrix((n, n), dtype=np.float32)
        is_item = np.arange(n) < n_items
        for kind, block in blocks.items():
            has = np.diff(sp.csr_matrix(block).indptr) > 0
            w_rows = np.where(is_item, self.kind_weights[kind], 1.0) * has
            transition = transition + sp.diags(w_rows.astype(np.float32)) @ row_normalize(block)
        transition = row_normalize(sp.csr_matrix(transition, dtype=np.float32))
        self.transition_t_ = sp.csr_matrix(transition.T, dtype=np.float32)
        self.n_nodes_ = n
        self.attribute_nodes_ = attribute_global_nodes(graph, layout)
        in_degree = np.asarray(transition.sum(axis=0), dtype=np.float64).ravel()[:n_items]
        self.item_discount_ = (
            np.power(np.maximum(in_degree, 1e-3), -self.popularity_exponent).astype(np.float32)
            if self.popularity_exponent
            else np.ones(n_items, dtype=np.float32)
        )

    # ---- walking ------------------------------------------------------------------------------------
    def pagerank(self, restart: np.ndarray) -> np.ndarray:
        """The PPR vector (n_nodes) of one restart distribution (n_nodes, summing to 1).

        One query at a time (a sparse matrix-vector product per step), so a query's result never depends
        on the other queries of a batch.
        """
        r = np.asarray(restart, dtype=np.float32)
        seeds = np.flatnonzero(r)
        key = (seeds.tobytes(), r[seeds].tobytes())
        walks, lock = self._memo()
        with lock:
            if key in walks:
                walks.move_to_end(key)
                return walks[key]
        x = self._walk(r)
        x.flags.writeable = False
        with lock:
            walks[key] = x
            while len(walks) > WALK_CACHE:
                walks.popitem(last=False)
        return x

    def _walk(self, r: np.ndarray) -> np.ndarray:
        """Power iteration from `r`: ``x <- (1 - alpha) P x + (alpha + lost) r`` until the L1 change < tol.

        The same iterates as the textbook form (`_walk_reference`), computed with less work per step:
        the product accumulates into a buffer already holding the restart term, with ``(1 - alpha)``
        folded into a copy of the matrix; the lost mass comes from the few dangling nodes instead of a
        sum over the product; and the first step, from a restart of a few seeds, only follows those
        seeds' out-edges.
        """
        ops = self._walk_operator()
        a = self.alpha
        x = r.copy()
        new, diff = np.empty_like(r), np.empty_like(r)
        seeds = np.flatnonzero(r)
        for step in range(self.max_iter):
            # mass reaching nodes without out-edges: the share of x at dangling nodes, plus any drift of
            # sum(x) from 1 (exactly what ``1 - a - sum((1 - a) P x)`` measures)
            lost = (1.0 - a) * (1.0 - float(x.sum()) + float(x[ops.dangling].sum()))
            np.multiply(r, a + max(lost, 0.0), out=new)
            if step == 0 and ops.sparse_cost(seeds) < SPARSE_STEP_MAX_COST:
                ops.sparse_matvec_add(x, seeds, new)  # x == r: only the seeds' out-edges
            else:
                ops.matvec_add(x, new)
            np.subtract(new, x, out=diff)
            delta = float(np.abs(diff, out=diff).sum())
            x, new = new, x
            if delta < self.tol:
                break
        return x

    def _walk_reference(self, r: np.ndarray) -> np.ndarray:
        """The textbook power iteration `_walk` computes faster (kept for tests and benchmarks)."""
        x = r.copy()
        a = self.alpha
        for _ in range(self.max_iter):
            new = (1.0 - a) * (self.transition_t_ @ x)
            lost = 1.0 - a - float(new.sum())  # mass stuck at nodes without out-edges
            new += (a + max(lost, 0.0)) * r
            delta = float(np.abs(new - x).sum())
            x = new
            if delta < self.tol:
                break
        return x

    def _walk_operator(self) -> WalkOperator:
        ops = self.__dict__.get("_walk_ops")
        if ops is None:  # built on first use (and after load): derived from transition_t_, never saved
            ops = self.__dict__.setdefault("_walk_ops", WalkOperator(self.transition_t_, 1.0 - self.alpha))
        return ops

    def _memo(self) -> tuple[OrderedDict[tuple[bytes, bytes], np.ndarray], threading.Lock]:
        memo = self.__dict__.get("_walks")
        if memo is None:  # the lock first: whoever sees the memo also finds its lock
            self.__dict__.setdefault("_walks_lock", threading.Lock())
            memo = self.__dict__.setdefault("_walks", OrderedDict())
        return memo, self.__dict__["_walks_lock"]

    def _state(self) -> dict[str, Any]:
        return {k: v for k, v in super()._state().items() if k not in _UNPICKLED}

    def _restart(
        self, items: Sequence[int], weights: Sequence[float] | None, attrs: Sequence[int]
    ) -> np.ndarray:
        """A restart distribution over nodes (zeros when there are no seeds)."""
        r = np.zeros(self.n_nodes_, dtype=np.float32)
        if not len(items) and not len(attrs):  # most profiles have no disliked seeds
            return r
        item_r = np.zeros(self.n_nodes_, dtype=np.float32)
        if len(items):
            w = np.clip(
                np.asarray(weights if weights is not None else [1.0] * len(items), np.float32), 0, None
            )
            np.add.at(item_r, np.asarray(items, dtype=np.int64), w)
        attr_r = np.zeros(self.n_nodes_, dtype=np.float32)
        if len(attrs):
            np.add.at(attr_r, self.attribute_nodes_[list(attrs)], 1.0)
        si, sa = float(item_r.sum()), float(attr_r.sum())
        share = self.attribute_seed_share if si > 0 and sa > 0 else (1.0 if sa > 0 else 0.0)
        if si > 0:
            r += (1.0 - share) * item_r / si
        if sa > 0:
            r += share * attr_r / sa
        return r

    def _item_scores(self, restarts: list[np.ndarray]) -> np.ndarray:
        """Discounted item scores (len(restarts) x n_items); an all-zero restart scores zero."""
        n_items = len(self.item_discount_)
        scores = np.zeros((len(restarts), n_items), dtype=np.float32)
        for row, r in enumerate(restarts):
            if r.any():
                scores[row] = self.pagerank(r)[:n_items] * self.item_discount_
        return scores

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        ui = self.data.user_items
        return self._item_scores([self._restart(ui[u].indices, ui[u].data, ()) for u in users])

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        liked = [self._restart(p.liked_items, p.item_weights, p.liked_attributes) for p in profiles]
        disliked = [self._restart(p.disliked_items, None, p.disliked_attributes) for p in profiles]
        scores = self._item_scores(liked + disliked)
        out = scores[: len(profiles)]
        if self.disliked_weight:
            out -= self.disliked_weight * scores[len(profiles) :]
        return out
