"""Wall-clock measurements of a recommender: training time, one-profile latency, batch throughput.

The one-profile latency mirrors the dialogue's hot path: a single ad-hoc profile (a known user's training
items as liked items) recommended at a time, after a warm-up, reported as p50 / p99 over many users.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys.models.base import Recommender
from recsys.models.types import Profile, TrainData


@dataclass(frozen=True)
class LatencyStats:
    """Per-call latency in milliseconds over `n` timed calls: wall clock, and the process's CPU time
    (which leaves out time the process spent waiting for a core on a busy machine)."""

    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    n: int
    cpu_p50_ms: float = float("nan")
    cpu_p99_ms: float = float("nan")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def time_fit(model: Recommender, data: TrainData, *, show_progress: bool = False, **fit_kwargs: Any) -> float:
    """Fit the model (extra keyword arguments go to its `fit`) and return the wall-clock seconds it took."""
    start = time.perf_counter()
    model.fit(data, show_progress=show_progress, **fit_kwargs)
    return time.perf_counter() - start


def user_profile(user_items: sp.csr_matrix, user: int) -> Profile:
    """A profile whose liked items are a user's training items."""
    row = user_items.indices[user_items.indptr[user] : user_items.indptr[user + 1]]
    return Profile(liked_items=tuple(int(i) for i in row))


def profile_latency(
    model: Recommender,
    user_items: sp.csr_matrix,
    *,
    n_users: int = 200,
    warmup: int = 20,
    k: int = 10,
    seed: int = 0,
) -> LatencyStats:
    """p50 / p99 of `recommend(profiles=[one profile], k=k)` over `n_users` random users with history."""
    candidates = np.flatnonzero(np.diff(user_items.indptr) > 0)
    if len(candidates) == 0:
        raise ValueError("no user with training items to build profiles from")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(candidates, size=n_users, replace=len(candidates) < n_users)
    profiles = [user_profile(user_items, int(u)) for u in chosen]
    for p in profiles[: min(warmup, len(profiles))]:
        model.recommend(profiles=[p], k=k)
    times = np.empty((len(profiles), 2), dtype=np.float64)
    for i, p in enumerate(profiles):
        start, cpu_start = time.perf_counter(), time.process_time()
        model.recommend(profiles=[p], k=k)
        times[i] = (time.perf_counter() - start, time.process_time() - cpu_start)
    ms, cpu_ms = times[:, 0] * 1000.0, times[:, 1] * 1000.0
    return LatencyStats(
        p50_ms=float(np.percentile(ms, 50)),
        p99_ms=float(np.percentile(ms, 99)),
        mean_ms=float(ms.mean()),
        max_ms=float(ms.max()),
        n=len(ms),
        cpu_p50_ms=float(np.percentile(cpu_ms, 50)),
        cpu_p99_ms=float(np.percentile(cpu_ms, 99)),
    )


def batch_throughput(
    model: Recommender,
    n_users: int,
    *,
    batch_size: int = 256,
    k: int = 10,
    repeats: int = 3,
    seed: int = 0,
) -> float:
    """Users per second of `recommend(users=batch, k=k)` on a random batch of known users (median of
    `repeats` timed calls, after one untimed call)."""
    rng = np.random.default_rng(seed)
    batch = rng.choice(n_users, size=min(batch_size, n_users), replace=False)
    model.recommend(batch, k=k)
    times = []
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        model.recommend(batch, k=k)
        times.append(time.perf_counter() - start)
    return float(len(batch) / max(float(np.median(times)), 1e-9))
