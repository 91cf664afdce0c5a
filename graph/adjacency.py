"""Homogeneous sparse adjacency matrices cut from the heterogeneous item graph, and their normalisations.

The GNN and PageRank models work on one square matrix over a chosen list of node types laid out one after
another (e.g. ``user | item | genre | person``); `NodeLayout` records where each type starts.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recsys.errors import ValidationError

if TYPE_CHECKING:
    import torch
    from torch_geometric.data import HeteroData

# relation name -> function mapping raw edge weights to the weights used in the adjacency
WeightFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class NodeLayout:
    """Node types in order, with their sizes; node j of type t has global index offsets[t] + j."""

    node_types: tuple[str, ...]
    sizes: tuple[int, ...]

    @property
    def offsets(self) -> dict[str, int]:
        starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(int)
        return dict(zip(self.node_types, starts.tolist(), strict=True))

    @property
    def n_nodes(self) -> int:
        return int(sum(self.sizes))

    def span(self, node_type: str) -> slice:
        """The global index range of one node type."""
        start = self.offsets[node_type]
        return slice(start, start + self.sizes[self.node_types.index(node_type)])


def node_layout(graph: HeteroData, node_types: Sequence[str]) -> NodeLayout:
    """The layout of `node_types` that exist in `graph` (absent types are skipped)."""
    present = [t for t in node_types if t in graph.node_types]
    return NodeLayout(tuple(present), tuple(int(graph[t].num_nodes) for t in present))


def homogeneous_adjacency(
    graph: HeteroData,
    layout: NodeLayout,
    *,
    weight_fns: Mapping[str, WeightFn] | None = None,
    exclude_relations: Sequence[str] = (),
) -> sp.csr_matrix:
    """One square CSR over `layout` holding every edge type whose ends both lie in the layout.

    Reverse edge types are included as stored, so the result is symmetric when the graph is.
    `weight_fns[relation]` maps that relation's raw weights (e.g. ``np.log1p`` for co-mention counts;
    a reverse relation ``rev_x`` uses the function of ``x``). Duplicate edges add up.
    """
    offsets = layout.offsets
    weight_fns = weight_fns or {}
    rows, cols, vals = [], [], []
    for src, rel, dst in graph.edge_types:
        base_rel = rel.removeprefix("rev_")
        if src not in offsets or dst not in offsets or base_rel in exclude_relations:
            continue
        store = graph[src, rel, dst]
        ei = store.edge_index.numpy()
        w = store.edge_weight.numpy() if "edge_weight" in store else np.ones(ei.shape[1], np.float32)
        if base_rel in weight_fns:
            w = weight_fns[base_rel](w)
        rows.append(ei[0] + offsets[src])
        cols.append(ei[1] + offsets[dst])
        vals.append(np.asarray(w, dtype=np.float32))
    n = layout.n_nodes
    if not rows:
        return sp.csr_matrix((n, n), dtype=np.float32)
    adj = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n), dtype=np.float32
    )
    adj.sum_duplicates()
    return adj


def bipartite_adjacency(user_items: sp.csr_matrix) -> sp.csr_matrix:
    """The symmetric ``user | item`` adjacency [[0, R], [R^T, 0]] of an interaction matrix."""
    r = sp.csr_matrix(user_items, dtype=np.float32)
    r.data = np.where(r.data > 0, r.data, 0).astype(np.float32)
    r.eliminate_zeros()
    return sp.bmat([[None, r], [r.T, None]], format="csr", dtype=np.float32)


def sym_normalize(adj: sp.csr_matrix) -> sp.csr_matrix:
    """D^-1/2 A D^-1/2 (LightGCN's normalisation); isolated nodes keep zero rows."""
    if adj.shape[0] != adj.shape[1]:
        raise ValidationError(f"adjacency must be square, got {adj.shape}")
    deg = np.asarray(adj.sum(axis=1), dtype=np.float64).ravel()
    inv = np.zeros_like(deg)
    nz = deg > 0
    inv[nz] = deg[nz] ** -0.5
    d = sp.diags(inv.astype(np.float32))
    return sp.csr_matrix(d @ adj @ d, dtype=np.float32)


def row_normalize(adj: sp.csr_matrix) -> sp.csr_matrix:
    """D^-1 A: each non-empty row sums to 1 (a random-walk transition matrix)."""
    deg = np.asarray(adj.sum(axis=1), dtype=np.float64).ravel()
    inv = np.zeros_like(deg)
    nz = deg > 0
    inv[nz] = 1.0 / deg[nz]
    return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ adj, dtype=np.float32)


def to_torch_csr(adj: sp.csr_matrix) -> torch.Tensor:
    """A scipy CSR as a torch sparse CSR tensor (float32), for torch.sparse.mm propagation."""
    import torch

    adj = sp.csr_matrix(adj, dtype=np.float32)
    adj.sort_indices()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(adj.indptr.astype(np.int64)),
            torch.from_numpy(adj.indices.astype(np.int64)),
            torch.from_numpy(adj.data),
            size=adj.shape,
            check_invariants=False,
        )


def attribute_global_nodes(graph: HeteroData, layout: NodeLayout) -> np.ndarray:
    """For each TrainData attribute index, its node's global index in `layout`."""
    offsets = layout.offsets
    types = list(getattr(graph, "attribute_node_type", []))
    local = graph.attribute_node_index.numpy() if types else np.empty(0, np.int64)
    missing = sorted({t for t in types if t not in offsets})
    if missing:
        raise ValidationError(f"node types {missing} are not in the layout {layout.node_types}")
    return np.array([offsets[t] + int(j) for t, j in zip(types, local, strict=True)], dtype=np.int64)
