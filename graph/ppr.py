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

A profile's walk is mixed from its seeds' walks (graph/ppr_cache.py): the fixed point is linear in the
restart up to its normalisation, so each seed node is walked once on its own (to `tol` / 10), kept in a
per-process LRU (`SeedWalkCache`, ~48 KB per seed on the dialogue's 12k items, bounded by the setting
`ppr_seed_cache_mb`, default 32 MB: ~680 seeds) and the walk of ``r = sum w_s e_s`` is ``sum w_s u_s x_s /
sum w_s u_s`` (u_s: the seed's mass before normalisation). A turn whose seeds were all walked before (by
this session or another: popular movies and genres recur) costs ~0.06 ms of vector additions instead of a
~3.5 ms walk; a new seed costs one walk (~3.8 ms, ~11 steps: 1.1-1.2x a walk at `tol`). Replaying ReDial's
train mentions in order (12k first mentions per dialogue, 3.1k movies), 51% of the mentioned movies are
already cached with 680 seeds (66% with 1360). `warm_seed_cache` walks the genres, decades and most
popular items ahead (238 walks: 0.8-1.1 s of CPU). The mix is closer to the fixed point than the single
walk at `tol` it replaces (~4x on the dialogue's graph): the two differ by that walk's own truncation
error (L1 < 5e-5 over the items, < 2e-6 on any score), below the gaps the top of the ranking reads
(tests/graph/test_ppr_real.py: the same top 20 for 240 of 240 profiles on the real catalog, the top 100
for 230, the others swapping near-ties; through the fusion's depth-100 cut, 957 of 960 benchmark turns
recommended the same list). Restarts of more than `MAX_MIXED_SEEDS` seeds take one walk to `tol` / 10
instead, and known users (`score_users`, offline evaluation) keep the single walk at `tol`, unchanged.

One walk costs ~2.5-3.5 ms of CPU on the dialogue's graph (18k nodes, 324k edges, ~9-10 steps at `tol`;
the previous loop, like `_walk_reference`, slightly more; `_walk` gives the same vectors, max abs
difference < 1e-6, by accumulating the product into a buffer holding the restart term, taking the lost
mass from the 37 dangling nodes and following only the seeds' out-edges on the first step:
graph/walk_operator.py); ~0.25 ms of each step is the sparse product itself. Not worth it, measured:
liked and disliked walks as one 2-column product (scipy's csr_matvecs: 1.0 ms a step against
2 x 0.27 ms), sparse products on the second step too (slicing the out-edges evicts the matrix from
cache: slower than the full product), GMRES on ``(I - (1 - alpha) P) y = alpha r`` (7 products for 40x
the power iteration's error), a sparse LU of that matrix (14 s to factor, 10M non-zeros, 22 ms a solve).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

from graph.adjacency import attribute_global_nodes, homogeneous_adjacency, node_layout, row_normalize
from graph.artifacts import item_graph
from graph.item_graph import ATTRIBUTE_NODE_TYPES, KIND_EDGE
from graph.ppr_cache import ENTRY_OVERHEAD, SeedWalk, SeedWalkCache, mix_walks
from graph.walk_operator import WalkOperator
from recsys.errors import ValidationError
from recsys.models.base import Recommender
from recsys.models.types import Profile, TrainData
from recsys.settings import get_settings

ATTRIBUTE_RELATIONS = tuple(rel for _, rel in KIND_EDGE.values())
SPARSE_STEP_MAX_COST = 0.3  # first step from the seeds alone when they touch < 30% of the edges
SEED_TOL_FACTOR = 0.1  # a seed is walked to tol / 10: its mix lands closer to the fixed point than one walk
MAX_MIXED_SEEDS = 32  # restarts with more seeds take one walk of their own (a new seed costs ~a walk)
SEED_CACHE_MB = 32.0  # default bound of a model's seed walks (setting `ppr_seed_cache_mb`): ~680 seeds
_UNPICKLED = ("_seed_walks", "_walk_ops")  # rebuilt after load, never saved


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
        for name in _UNPICKLED:  # walks over the previous graph
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
    def pagerank(self, restart: np.ndarray, *, tol: float | None = None) -> np.ndarray:
        """The PPR vector (n_nodes) of one restart distribution (n_nodes, summing to 1), walked to `tol`
        (default: the model's). One query, one walk: the result never depends on other queries."""
        return self._walk(np.asarray(restart, dtype=np.float32), tol)

    def seed_walk(self, node: int) -> SeedWalk:
        """The walk restarting at one node (to ``tol * SEED_TOL_FACTOR``), from the cache or walked now."""
        cache = self.seed_cache
        walk = cache.get(node)
        if walk is None:
            r = np.zeros(self.n_nodes_, dtype=np.float32)
            r[node] = 1.0
            x = self._walk(r, self.tol * SEED_TOL_FACTOR)
            ops = self._walk_operator()
            walk = cache.put(node, SeedWalk.from_walk(x, len(self.item_discount_), ops.dangling, self.alpha))
        return walk

    def item_walk(self, nodes: np.ndarray, mass: np.ndarray) -> np.ndarray:
        """The PPR vector over the item nodes of the restart with `mass` at `nodes` (see `_restart_seeds`),
        mixed from the seeds' walks; more than `MAX_MIXED_SEEDS` seeds take one walk to the same tol."""
        if len(nodes) > MAX_MIXED_SEEDS:
            r = np.zeros(self.n_nodes_, dtype=np.float32)
            r[nodes] = mass
            return self._walk(r, self.tol * SEED_TOL_FACTOR)[: len(self.item_discount_)]
        return mix_walks([self.seed_walk(int(s)) for s in nodes], mass)

    def warm_seed_cache(
        self,
        n_popular: int = 200,
        attribute_kinds: Sequence[str] = ("genre", "decade"),
        *,
        show_progress: bool = False,
    ) -> int:
        """Walk every attribute of `attribute_kinds` and the `n_popular` most popular items now (e.g. at
        start-up, ~3.7 ms each on the dialogue's graph) so that the turns naming them find their walks;
        stops where the cache is full. Returns the number of walks computed."""
        kinds = set(attribute_kinds)
        attrs = [i for i, name in enumerate(self.data.attribute_names) if name.split(":", 1)[0] in kinds]
        items = np.argsort(-self.data.item_popularity(), kind="stable")[: max(int(n_popular), 0)]
        nodes = [int(self.attribute_nodes_[a]) for a in attrs] + [int(i) for i in items]
        room = self.seed_cache.max_bytes // (4 * len(self.item_discount_) + ENTRY_OVERHEAD)
        free = max(room - len(self.seed_cache), 0)  # more would evict this warm-up's own walks
        todo = [n for n in dict.fromkeys(nodes) if n not in self.seed_cache][:free]
        for node in tqdm(todo, desc="ppr seed walks", unit="walk", disable=not show_progress):
            self.seed_walk(node)
        return len(todo)

    @property
    def seed_cache(self) -> SeedWalkCache:
        """This process's cache of seed walks (built on first use, and after load; never saved)."""
        cache = self.__dict__.get("_seed_walks")
        if cache is None:
            mb = float(get_settings().ppr_seed_cache_mb)
            cache = self.__dict__.setdefault("_seed_walks", SeedWalkCache(int(mb * 2**20)))
        return cache

    def _walk(self, r: np.ndarray, tol: float | None = None) -> np.ndarray:
        """Power iteration from `r`: ``x <- (1 - alpha) P x + (alpha + lost) r`` until the L1 change < tol
        (default: the model's `tol`), at most `max_iter` steps.

        The same iterates as the textbook form (`_walk_reference`), computed with less work per step:
        the product accumulates into a buffer already holding the restart term, with ``(1 - alpha)``
        folded into a copy of the matrix; the lost mass comes from the few dangling nodes instead of a
        sum over the product; and the first step, from a restart of a few seeds, only follows those
        seeds' out-edges.
        """
        ops = self._walk_operator()
        a, tol = self.alpha, self.tol if tol is None else tol
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
            if delta < tol:
                break
        return x

    def _walk_reference(self, r: np.ndarray, tol: float | None = None) -> np.ndarray:
        """The textbook power iteration `_walk` computes faster (kept for tests and benchmarks)."""
        tol = self.tol if tol is None else tol
        x = r.copy()
        a = self.alpha
        for _ in range(self.max_iter):
            new = (1.0 - a) * (self.transition_t_ @ x)
            lost = 1.0 - a - float(new.sum())  # mass stuck at nodes without out-edges
            new += (a + max(lost, 0.0)) * r
            delta = float(np.abs(new - x).sum())
            x = new
            if delta < tol:
                break
        return x

    def _walk_operator(self) -> WalkOperator:
        ops = self.__dict__.get("_walk_ops")
        if ops is None:  # built on first use (and after load): derived from transition_t_, never saved
            ops = self.__dict__.setdefault("_walk_ops", WalkOperator(self.transition_t_, 1.0 - self.alpha))
        return ops

    def _state(self) -> dict[str, Any]:
        return {k: v for k, v in super()._state().items() if k not in _UNPICKLED}

    def _restart_seeds(
        self, items: Sequence[int], weights: Sequence[float] | None, attrs: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """A restart distribution as its non-zero nodes (ascending) and their mass (float32, summing to 1;
        both empty without seeds): the items by weight (repeats add up), the attributes' nodes equally,
        sharing `attribute_seed_share` of the mass when both are present."""
        if weights is not None and len(weights) != len(items):
            raise ValidationError(f"{len(weights)} item weights for {len(items)} items")
        by_item: dict[int, np.float32] = {}  # dicts: a profile has a few seeds, np.unique costs more
        zero = np.float32(0.0)
        for i, item in enumerate(items):
            w = np.float32(1.0 if weights is None else weights[i])
            by_item[int(item)] = by_item.get(int(item), zero) + (w if w > 0 else zero)
        by_attr: dict[int, int] = {}  # attributes may share a node (a director who also wrote)
        for node in self.attribute_nodes_[np.asarray(attrs, dtype=np.int64)].tolist():
            by_attr[node] = by_attr.get(node, 0) + 1
        item_nodes = np.array(sorted(by_item), dtype=np.int64)
        item_w = np.array([by_item[i] for i in item_nodes.tolist()], dtype=np.float32)
        attr_nodes = np.array(sorted(by_attr), dtype=np.int64)
        attr_w = np.array([by_attr[n] for n in attr_nodes.tolist()], dtype=np.float32)
        si, sa = float(item_w.sum()), float(attr_w.sum())
        share = self.attribute_seed_share if si > 0 and sa > 0 else (1.0 if sa > 0 else 0.0)
        mass = np.concatenate(
            [(1.0 - share) * item_w / si if si > 0 else item_w * 0, share * attr_w / sa if sa > 0 else attr_w]
        )
        nodes = np.concatenate([item_nodes, attr_nodes])
        keep = mass > 0
        return nodes[keep], mass[keep].astype(np.float32)

    def _restart(
        self, items: Sequence[int], weights: Sequence[float] | None, attrs: Sequence[int]
    ) -> np.ndarray:
        """`_restart_seeds` as a dense vector over the nodes (zeros when there are no seeds)."""
        r = np.zeros(self.n_nodes_, dtype=np.float32)
        nodes, mass = self._restart_seeds(items, weights, attrs)
        r[nodes] = mass
        return r

    def _item_scores(self, seeds: list[tuple[np.ndarray, np.ndarray]], *, mixed: bool) -> np.ndarray:
        """Discounted item scores (len(seeds) x n_items) of restarts given as (nodes, mass), no seeds
        scoring zero. `mixed`: from the seeds' cached walks (profiles), else one walk per restart at
        `tol` (known users: the same vectors as before seed walks existed)."""
        n_items = len(self.item_discount_)
        scores = np.zeros((len(seeds), n_items), dtype=np.float32)
        for row, (nodes, mass) in enumerate(seeds):
            if not len(nodes):
                continue
            if mixed:
                walk = self.item_walk(nodes, mass)
            else:
                r = np.zeros(self.n_nodes_, dtype=np.float32)
                r[nodes] = mass
                walk = self.pagerank(r)[:n_items]
            np.multiply(walk, self.item_discount_, out=scores[row])
        return scores

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        ui = self.data.user_items
        seeds = [self._restart_seeds(ui[u].indices, ui[u].data, ()) for u in users]
        return self._item_scores(seeds, mixed=False)

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        liked = [self._restart_seeds(p.liked_items, p.item_weights, p.liked_attributes) for p in profiles]
        scores = self._item_scores(liked, mixed=True)
        if self.disliked_weight:
            disliked = [self._restart_seeds(p.disliked_items, None, p.disliked_attributes) for p in profiles]
            if any(len(nodes) for nodes, _ in disliked):
                scores -= self.disliked_weight * self._item_scores(disliked, mixed=True)
        return scores
