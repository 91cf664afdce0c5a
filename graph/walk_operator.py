"""The sparse products of a random walk with restart, with as little work per step as scipy allows.

`WalkOperator` holds ``scale * P`` (P: column-stochastic transition, ``P[j, i]`` the probability of
moving from i to j; `PersonalizedPageRank.transition_t_`) in two layouts, and the nodes without
out-edges (dangling: their column of P is empty):

- `matvec_add(x, y)`: ``y += scale * P @ x`` in place, through scipy's CSR kernel
  (``scipy.sparse._sparsetools.csr_matvec``, which accumulates into `y`), so a step allocates nothing
  and the restart term can be written into `y` before the product instead of added after it;
- `sparse_matvec_add(x, support, y)`: the same product when x is non-zero on a few nodes only (the
  first step of a walk from a few seeds), from those nodes' scaled out-edges (scipy's CSC kernel on
  the rows of ``P.T`` they select): the first step costs the seeds' degrees instead of every edge.
  (The second step's support touches 3-25% of the edges on the dialogue's graph, but slicing them
  pulls this second copy of the matrix through the cache: slower than the full product, measured.)

The private kernels are used when present (scipy 1.8 - 1.17 at least); without them the products
fall back to ``y += M @ x`` (same result, one temporary vector).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

try:  # y += A @ x without a temporary; private but stable across scipy releases
    from scipy.sparse._sparsetools import csc_matvec as _csc_matvec
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
except ImportError:  # pragma: no cover - depends on the installed scipy
    _csr_matvec = _csc_matvec = None


class WalkOperator:
    """``scale * P`` as CSR (rows: destinations) for full products and as CSR of ``P.T`` (rows:
    sources, i.e. each node's out-edges) for products with a vector of a few non-zeros."""

    def __init__(self, transition_t: sp.spmatrix, scale: float) -> None:
        m = sp.csr_matrix(transition_t, dtype=np.float32, copy=True)
        m.sum_duplicates()
        m.data *= np.float32(scale)
        self.matrix = m
        self.out_edges = sp.csr_matrix(m.T)  # row i: the scaled out-edges of node i
        self.out_edges.sort_indices()
        self.out_degree = np.diff(self.out_edges.indptr)
        self.dangling = np.flatnonzero(self.out_degree == 0)
        self.n_nodes = m.shape[0]

    def sparse_cost(self, support: np.ndarray) -> float:
        """The share of the graph's edges that a product with a vector non-zero on `support` touches."""
        return float(self.out_degree[support].sum()) / max(self.matrix.nnz, 1)

    def matvec_add(self, x: np.ndarray, y: np.ndarray) -> None:
        """``y += scale * P @ x`` in place (float32 vectors of n_nodes)."""
        m = self.matrix
        if _csr_matvec is not None and x.dtype == m.dtype == y.dtype and y.flags.c_contiguous:
            _csr_matvec(self.n_nodes, self.n_nodes, m.indptr, m.indices, m.data, x, y)
        else:
            y += m @ x

    def sparse_matvec_add(self, x: np.ndarray, support: np.ndarray, y: np.ndarray) -> None:
        """``y += scale * P @ x`` when x is zero outside `support`: only those nodes' out-edges."""
        sub = self.out_edges[support]  # rows: the support's out-edges, i.e. the CSC of (P restricted)
        xs = x[support]
        if _csc_matvec is not None and xs.dtype == sub.dtype == y.dtype and y.flags.c_contiguous:
            _csc_matvec(self.n_nodes, len(support), sub.indptr, sub.indices, sub.data, xs, y)
        else:
            y += sub.T @ xs
