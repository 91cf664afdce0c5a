"""Benchmark of the graph candidate generators on MovieLens ml-latest-small (a development tool).

    python -m graph.benchmark [--ratings-dir DIR] [--models als,lightgcn,kg_gnn,ppr] [--max-epochs N]
                              [--no-time-budget]

Protocol: ratings >= 3 are positives; each user's positives are split 80/10/10 at random (seeded) into
train / validation / test; movies.csv genres are the attributes ("genre:<lowercase>"). Models fit on train
(the GNNs early-stop on the validation split), and are scored on test with the train items filtered:
Recall@20 and NDCG@10, plus fit seconds and the p99 latency of one-profile recommend (k=20, profile = a
test user's train items). Prints one table; the figures in the graph package's report come from here.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from graph.metrics import recall_ndcg_at_k, top_k_indices
from recsys.models.base import Recommender
from recsys.models.types import Profile, TrainData


def split_per_user(
    ui: sp.csr_matrix, fractions: tuple[float, float, float], seed: int
) -> tuple[sp.csr_matrix, ...]:
    """Randomly split each user's positives into len(fractions) matrices (rounded cumulative cut-offs)."""
    rng = np.random.default_rng(seed)
    ui = sp.csr_matrix(ui)
    deg = np.diff(ui.indptr)
    rows = np.repeat(np.arange(ui.shape[0]), deg)
    order = np.lexsort((rng.random(ui.nnz), rows))
    rank = np.empty(ui.nnz, dtype=np.int64)
    rank[order] = np.arange(ui.nnz) - ui.indptr[rows[order]]
    frac = rank / np.maximum(deg[rows], 1)
    coo = ui.tocoo()
    cuts = np.cumsum((0.0, *fractions))
    parts = []
    for lo, hi in itertools.pairwise(cuts):
        sel = (frac >= lo) & (frac < hi) if hi < cuts[-1] else frac >= lo
        parts.append(sp.csr_matrix((coo.data[sel], (coo.row[sel], coo.col[sel])), shape=ui.shape))
    return tuple(parts)


def load_movielens(ratings_dir: Path, seed: int = 42) -> tuple[TrainData, sp.csr_matrix, sp.csr_matrix]:
    """(train data with genre attributes, validation positives, test positives) of ml-latest-small."""
    import pandas as pd

    ratings = pd.read_csv(ratings_dir / "ratings.csv")
    movies = pd.read_csv(ratings_dir / "movies.csv")
    pos = ratings[ratings["rating"] >= 3.0]
    users = np.sort(pos["userId"].unique())
    items = np.sort(pos["movieId"].unique())
    u = np.searchsorted(users, pos["userId"].to_numpy())
    i = np.searchsorted(items, pos["movieId"].to_numpy())
    ui = sp.csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=(len(users), len(items)))
    train, val, test = split_per_user(ui, (0.8, 0.1, 0.1), seed)
    genres = movies.set_index("movieId")["genres"].reindex(items).fillna("")
    names = sorted({g.lower() for gs in genres for g in gs.split("|") if g and g != "(no genres listed)"})
    col = {n: c for c, n in enumerate(names)}
    rows, cols = [], []
    for r, gs in enumerate(genres):
        for g in gs.split("|"):
            if g.lower() in col:
                rows.append(r)
                cols.append(col[g.lower()])
    ia = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(items), len(names)))
    data = TrainData(
        train,
        item_ids=items,
        user_ids=users,
        item_attributes=ia,
        attribute_names=tuple(f"genre:{n}" for n in names),
    )
    return data, val, test


def evaluate(model: Recommender, data: TrainData, test: sp.csr_matrix) -> dict[str, float]:
    """Recall@20 and NDCG@10 of known-user recommendations, train items filtered."""
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    scores = np.array(model.score_users(users), dtype=np.float32)
    scores[data.user_items[users].nonzero()] = -np.inf
    top = top_k_indices(scores, 20)
    recall, _ = recall_ndcg_at_k(top, test[users], 20)
    _, ndcg = recall_ndcg_at_k(top, test[users], 10)
    return {"recall@20": float(np.nanmean(recall)), "ndcg@10": float(np.nanmean(ndcg))}


def evaluate_fold_in(model: Recommender, data: TrainData, test: sp.csr_matrix) -> dict[str, float]:
    """The same metrics when each test user is an ad-hoc profile of their train items (fold-in)."""
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    profiles = [Profile(liked_items=tuple(int(i) for i in data.user_items[u].indices)) for u in users]
    scores = np.array(model.score_profiles(profiles), dtype=np.float32)
    scores[data.user_items[users].nonzero()] = -np.inf
    top = top_k_indices(scores, 20)
    recall, _ = recall_ndcg_at_k(top, test[users], 20)
    _, ndcg = recall_ndcg_at_k(top, test[users], 10)
    return {"fold_recall@20": float(np.nanmean(recall)), "fold_ndcg@10": float(np.nanmean(ndcg))}


def profile_latency(model: Recommender, data: TrainData, n: int = 300, seed: int = 0) -> dict[str, float]:
    """Milliseconds of `recommend(profiles=[one profile], k=20)` (profile = up to 20 train items of a
    random user, plus one liked attribute when the data has attributes): wall p50 / p99 and CPU p99
    (the CPU time is what an uncontended machine would see; a shared box inflates wall time)."""
    rng = np.random.default_rng(seed)
    users = rng.choice(data.n_users, size=n)
    wall, cpu = [], []
    for u in users:
        attrs = (int(rng.integers(data.n_attributes)),) if data.n_attributes else ()
        p = Profile(
            liked_items=tuple(int(i) for i in data.user_items[u].indices[:20]), liked_attributes=attrs
        )
        t0, c0 = time.perf_counter(), time.process_time()
        model.recommend(profiles=[p], k=20)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {
        "p50_ms": float(np.percentile(wall, 50)),
        "p99_ms": float(np.percentile(wall, 99)),
        "cpu_p99_ms": float(np.percentile(cpu, 99)),
    }


def synthetic_catalog(n_items: int = 10_000, n_users: int = 2_000, seed: int = 0) -> TrainData:
    """A 10k-item stand-in for latency checks: ~50 positives per user (popularity skewed), 20 genres,
    directors / stars / decades, and ReDial-like co-mentions."""
    rng = np.random.default_rng(seed)
    pop = rng.permutation(1.0 / np.arange(1, n_items + 1) ** 0.8)  # Zipf-like item popularity
    pop /= pop.sum()
    rows = np.repeat(np.arange(n_users), 50)
    cols = rng.choice(n_items, size=len(rows), p=pop)
    ui = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))
    ui.data[:] = 1.0
    kinds = [("genre", 20, 2), ("director", 3000, 1), ("star", 6000, 3), ("decade", 10, 1)]
    names: list[str] = []
    a_rows, a_cols = [], []
    for kind, n_values, per_item in kinds:
        for i in range(n_items):
            for v in rng.choice(n_values, size=per_item, replace=False):
                a_rows.append(i)
                a_cols.append(len(names) + int(v))
        names += [f"{kind}:{kind}{v}" for v in range(n_values)]
    ia = sp.csr_matrix((np.ones(len(a_rows), np.float32), (a_rows, a_cols)), shape=(n_items, len(names)))
    ia.data[:] = 1.0
    pairs = rng.integers(0, n_items, size=(30_000, 2))
    ii = sp.csr_matrix(
        (np.ones(len(pairs), np.float32), (pairs[:, 0], pairs[:, 1])), shape=(n_items, n_items)
    )
    return TrainData(ui, item_attributes=ia, attribute_names=tuple(names), item_item=ii + ii.T)


class _ALSBaseline(Recommender):
    """implicit's CPU ALS (factors=64), the collaborative baseline of this benchmark only."""

    name = "als"

    def __init__(self, factors: int = 64, iterations: int = 15, regularization: float = 0.01) -> None:
        super().__init__()
        self.params = {"factors": factors, "iterations": iterations, "regularization": regularization}

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        als = AlternatingLeastSquares(**self.params, random_state=42)
        als.fit(data.user_items, show_progress=show_progress)
        self.user_factors_, self.item_factors_ = als.user_factors, als.item_factors
        self._als = als

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _score_profiles(self, profiles) -> np.ndarray:  # type: ignore[no-untyped-def]
        from recsys.models.base import profiles_to_csr

        rows = profiles_to_csr(profiles, self.n_items)
        vecs = self._als.recalculate_user(np.arange(len(profiles)), rows)
        return np.atleast_2d(vecs) @ self.item_factors_.T


def model_factories(
    max_epochs: int | None, *, time_budget: bool = True
) -> dict[str, Callable[[TrainData], Recommender]]:
    from graph.kg_gnn import KGGNNRecommender
    from graph.lightgcn import LightGCNRecommender
    from graph.ppr import PersonalizedPageRank

    extra: dict[str, object] = {} if max_epochs is None else {"max_epochs": max_epochs}
    if not time_budget:
        extra["time_budget_s"] = None
    return {
        "als": lambda d: _ALSBaseline(factors=64),
        "lightgcn": lambda d: LightGCNRecommender(**extra),
        "kg_gnn": lambda d: KGGNNRecommender(**extra),
        "ppr": lambda d: PersonalizedPageRank(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ratings-dir", type=Path, default=None)
    parser.add_argument("--models", default="als,lightgcn,kg_gnn,ppr")
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument(
        "--no-time-budget", action="store_true", help="lift the GNNs' wall-clock cap (on a shared CPU)"
    )
    args = parser.parse_args(argv)
    if args.ratings_dir is None:
        from recsys.settings import get_settings

        args.ratings_dir = get_settings().movielens_path
    data, val, test = load_movielens(args.ratings_dir)
    print(f"users={data.n_users} items={data.n_items} train={data.user_items.nnz} test={test.nnz}")
    factories = model_factories(args.max_epochs, time_budget=not args.no_time_budget)
    for name in args.models.split(","):
        model = factories[name](data)
        t0, c0 = time.perf_counter(), time.process_time()
        if hasattr(model, "config"):
            model.fit(data, validation=val, show_progress=True)  # type: ignore[call-arg]
        else:
            model.fit(data, show_progress=True)
        fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
        row = {"fit_s": fit_s, "fit_cpu_s": fit_cpu, **evaluate(model, data, test)}
        row.update(evaluate_fold_in(model, data, test))
        row.update(profile_latency(model, data))
        info = getattr(model, "training_", None)
        extra = f" best_epoch={info['best_epoch']} epochs={info['epochs_run']}" if info else ""
        print(f"{name:10s} " + " ".join(f"{k}={v:.4f}" for k, v in row.items()) + extra, flush=True)


if __name__ == "__main__":
    main()
