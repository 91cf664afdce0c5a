"""Per-seed PageRank walks, memoised, and their exact mix into the walk of a whole restart distribution.

Why mixing is exact. `PersonalizedPageRank`'s walk from a restart r converges to ``x(r) = y(r) / sum(y(r))``
with ``y(r) = alpha (I - (1 - alpha) P)^-1 r`` (mass reaching a node without out-edges returns to the
restart; tests/graph/test_ppr_walk.py). ``y`` is linear in r, the normalisation is not. For one seed s,
walked on its own, ``x_s = y(e_s) / u_s`` and its mass ``u_s = sum(y(e_s))`` follows from the walk:
with d the dangling nodes, ``1^T P = 1^T - d^T``, so ``u_s = 1 - (1 - alpha) / alpha * d^T y(e_s)``, i.e.

    u_s = 1 / (1 + (1 - alpha) / alpha * x_s[dangling].sum())

and for ``r = sum_s w_s e_s``:  ``x(r) = sum_s w_s u_s x_s / sum_s w_s u_s``.

`SeedWalk` stores ``u_s x_s`` over the item nodes only (the scores read nothing else) and ``u_s``;
`mix_walks` is the formula above. What stays approximate is the power iteration's stopping rule: each
seed is walked to a tolerance 10x tighter than a whole restart's walk was, so the mix is at least as
close to the fixed point as that walk, and the two differ by about the old walk's own error (bounds in
graph/ppr.py and tests/graph/test_ppr_seeds.py).

`SeedWalkCache` is a thread-safe LRU bounded by bytes (one entry: 4 bytes per item plus ~200 bytes).
The walk itself runs outside the lock: two threads needing the same new seed at once may both walk it
(the same deterministic vector), and the second `put` keeps the first entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ENTRY_OVERHEAD = 200  # bytes per entry besides its vector: the dataclass, the dict slot, the array header


@dataclass(frozen=True)
class SeedWalk:
    """One seed's walk: ``u_s * x_s`` restricted to the item nodes (float32, read-only) and ``u_s``."""

    items: np.ndarray
    mass: float

    @classmethod
    def from_walk(cls, walk: np.ndarray, n_items: int, dangling: np.ndarray, alpha: float) -> SeedWalk:
        """From the normalised walk (n_nodes, sums to 1) of a restart at a single node."""
        lost = float(walk[dangling].sum(dtype=np.float64))
        mass = 1.0 / (1.0 + (1.0 - alpha) / alpha * lost)
        items = (walk[:n_items].astype(np.float64) * mass).astype(np.float32)
        items.flags.writeable = False
        return cls(items, mass)

    @property
    def nbytes(self) -> int:
        return int(self.items.nbytes) + ENTRY_OVERHEAD


def mix_walks(walks: Sequence[SeedWalk], weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """The normalised walk over items of the restart ``sum_s weights[s] e_s`` (weights > 0, any scale)."""
    if not len(walks) or len(walks) != len(weights):
        raise ValueError(f"{len(walks)} walks for {len(weights)} weights")
    w = np.asarray(weights, dtype=np.float64)
    total = float(sum(wi * walk.mass for wi, walk in zip(w, walks, strict=True)))
    out = np.multiply(walks[0].items, np.float32(w[0] / total))
    tmp = np.empty_like(out)
    for wi, walk in zip(w[1:], walks[1:], strict=True):
        np.multiply(walk.items, np.float32(wi / total), out=tmp)
        out += tmp
    return out


class SeedWalkCache:
    """LRU of `SeedWalk` by seed node, holding at most `max_bytes` (0: keeps nothing)."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._walks: OrderedDict[int, SeedWalk] = OrderedDict()
        self._lock = threading.Lock()
        self._nbytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._walks)

    def __contains__(self, node: int) -> bool:
        return int(node) in self._walks

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored walks (vectors plus an estimate of per-entry overhead)."""
        return self._nbytes

    def get(self, node: int) -> SeedWalk | None:
        """The stored walk of `node` (now the most recently used), or None."""
        key = int(node)
        with self._lock:
            walk = self._walks.get(key)
            if walk is None:
                self.misses += 1
                return None
            self._walks.move_to_end(key)
            self.hits += 1
            return walk

    def put(self, node: int, walk: SeedWalk) -> SeedWalk:
        """Store `walk` (unless `node` is already there: that entry is kept) and evict the least recently
        used entries beyond `max_bytes`. Returns the stored walk, or `walk` when it does not fit at all."""
        key = int(node)
        if walk.nbytes > self.max_bytes:
            return walk
        with self._lock:
            present = self._walks.get(key)
            if present is not None:
                self._walks.move_to_end(key)
                return present
            self._walks[key] = walk
            self._nbytes += walk.nbytes
            while self._nbytes > self.max_bytes:
                _, old = self._walks.popitem(last=False)
                self._nbytes -= old.nbytes
            return walk

    def clear(self) -> None:
        with self._lock:
            self._walks.clear()
            self._nbytes = 0
