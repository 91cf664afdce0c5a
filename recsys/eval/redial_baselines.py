"""Baselines of the ReDial benchmark, computed without any model or text understanding.

- popularity: the ReDial movies by number of `@` mentions in the training dialogues (ties: item id).
- repeat: the movies `@`-mentioned in the context, most recent first (within a message, the later
  mention first), then popularity. This is the strategy that inflates `full`: recommenders often
  repeat a movie that was just discussed.

Both follow the benchmark's exclusion policy: `dedup` rankings leave out the context's movies (for
`repeat` this leaves popularity).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.catalog.types import Catalog
from recsys.eval.redial_metrics import target_ranks
from recsys.eval.redial_samples import RedialSample


def popularity_order(counts: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Candidate items by count (descending), ties by item id (ascending)."""
    candidates = np.asarray(candidates, dtype=np.int64)
    order = np.lexsort((candidates, -np.asarray(counts, dtype=np.float64)[candidates]))
    return candidates[order]


def context_movies(sample: RedialSample, catalog: Catalog) -> list[int]:
    """Catalog ids of the movies `@`-mentioned before the sample's message, most recent first."""
    out: dict[int, None] = {}
    for message in reversed(sample.context):
        for span in reversed(message.mentions):
            item = catalog.from_redial(span.movie_id)
            if item is not None:
                out.setdefault(item, None)
    return list(out)


def popularity_rankings(
    order: np.ndarray, exclusions: Sequence[Sequence[int]] | None, n_samples: int, k: int
) -> list[np.ndarray]:
    """The popularity top-k of each sample (the excluded items of each sample left out)."""
    if exclusions is None:
        top = order[:k]
        return [top] * n_samples
    out = []
    for excluded in exclusions:
        head = order[: k + len(excluded)]
        out.append(head[~np.isin(head, np.asarray(excluded, dtype=np.int64))][:k])
    return out


def repeat_rankings(
    samples: Sequence[RedialSample],
    catalog: Catalog,
    order: np.ndarray,
    k: int,
    *,
    candidates: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Context movies (most recent first), then popularity; only candidate items, top-k."""
    allowed = None
    if candidates is not None:
        allowed = set(np.asarray(candidates, dtype=np.int64).tolist())
    out = []
    for sample in samples:
        ctx = [i for i in context_movies(sample, catalog) if allowed is None or i in allowed]
        head = order[: k + len(ctx)]
        rest = head[~np.isin(head, np.asarray(ctx, dtype=np.int64))]
        out.append(np.concatenate([np.asarray(ctx, dtype=np.int64), rest])[:k])
    return out


def baseline_ranks(
    samples: Sequence[RedialSample],
    catalog: Catalog,
    candidates: np.ndarray,
    counts: np.ndarray,
    targets: np.ndarray,
    exclusions: Sequence[np.ndarray],
    dedup: np.ndarray,
    k: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Target ranks of every baseline: name -> (ranks on all samples, ranks on the dedup samples).

    exclusions: per sample, the context movies a `dedup` ranking leaves out; dedup: mask of dedup samples.
    """
    order = popularity_order(counts, candidates)
    rows = np.flatnonzero(dedup)
    dedup_targets = np.asarray(targets)[rows]
    pop_full = popularity_rankings(order, None, len(samples), k)
    pop_dedup = target_ranks(
        popularity_rankings(order, [exclusions[i] for i in rows], len(rows), k), dedup_targets
    )
    repeat_full = repeat_rankings(samples, catalog, order, k, candidates=candidates)
    return {
        "popularity": (target_ranks(pop_full, targets), pop_dedup),
        "repeat": (target_ranks(repeat_full, targets), pop_dedup),  # dedup: the context is excluded
    }
