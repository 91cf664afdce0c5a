"""The heterogeneous item graph: items, users and attribute nodes, with typed, weighted edges.

Built from a `TrainData` (the same matrices every recommender is fitted on), so the graph models and the
collaborative models see exactly the same data. Node types:

- ``item``   one node per item index (``ids``: the external item ids as strings, ``names``),
- ``user``   one node per user index,
- ``genre``, ``person``, ``tag``, ``decade``: one node per distinct attribute value present. Directors,
  writers and stars share the ``person`` node type (one node per person), told apart by the edge type.

Edge types (each with its reverse ``rev_<relation>``, every edge carrying an ``edge_weight``):
``(item, has_genre, genre)``, ``(item, directed_by, person)``, ``(item, written_by, person)``,
``(item, stars, person)``, ``(item, has_tag, tag)``, ``(item, in_decade, decade)``,
``(user, rated, item)`` (weight = the interaction weight) and ``(item, co_mentioned, item)`` (symmetric,
weight = co-mention count, no self loops).

The graph also records, for every attribute index of the TrainData, the node it became
(``graph.attribute_node_type`` / ``graph.attribute_node_index``), so models can seed or read attribute nodes.

`graph_fingerprint(data)` hashes everything the graph is built from; `load_or_build_item_graph` rebuilds the
saved graph only when the fingerprint changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recsys.errors import ArtifactError, ValidationError
from recsys.models.types import ATTRIBUTE_KINDS, TrainData

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

GRAPH_FORMAT_VERSION = 1

# attribute kind -> (node type, relation item -> attribute node)
KIND_EDGE: dict[str, tuple[str, str]] = {
    "genre": ("genre", "has_genre"),
    "director": ("person", "directed_by"),
    "writer": ("person", "written_by"),
    "star": ("person", "stars"),
    "tag": ("tag", "has_tag"),
    "decade": ("decade", "in_decade"),
}
ATTRIBUTE_NODE_TYPES = ("genre", "person", "tag", "decade")
RATED = ("user", "rated", "item")
CO_MENTIONED = ("item", "co_mentioned", "item")


def parse_attribute(name: str, index: int) -> tuple[str, str]:
    """Split a "kind:value" attribute name; raise ValidationError naming the attribute when malformed."""
    kind, sep, value = name.partition(":")
    if not sep or kind not in KIND_EDGE or not value.strip():
        raise ValidationError(
            f"attribute {index} {name!r} is not 'kind:value' with kind in {', '.join(ATTRIBUTE_KINDS)}"
        )
    return kind, value.strip()


def graph_fingerprint(data: TrainData) -> str:
    """A hex digest of everything `build_item_graph` reads: equal fingerprints give identical graphs."""
    h = hashlib.sha256(f"item-graph-v{GRAPH_FORMAT_VERSION}".encode())

    def add_array(tag: str, arr: np.ndarray | None) -> None:
        h.update(tag.encode())
        if arr is None:
            h.update(b"<none>")
            return
        arr = np.ascontiguousarray(arr)
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        if arr.dtype == object:
            h.update("\x1f".join(map(str, arr.tolist())).encode())
        else:
            h.update(arr.tobytes())

    def add_csr(tag: str, m: sp.csr_matrix | None) -> None:
        if m is None:
            add_array(tag, None)
            return
        m = sp.csr_matrix(m)
        m.sort_indices()
        add_array(f"{tag}.shape", np.asarray(m.shape, dtype=np.int64))
        add_array(f"{tag}.indptr", m.indptr.astype(np.int64))
        add_array(f"{tag}.indices", m.indices.astype(np.int64))
        add_array(f"{tag}.data", m.data.astype(np.float32))

    add_csr("user_items", data.user_items)
    add_csr("item_attributes", data.item_attributes)
    add_csr("item_item", data.item_item)
    add_array("attribute_names", np.asarray(data.attribute_names, dtype=object))
    add_array(
        "item_ids", None if data.item_ids is None else np.asarray(data.item_ids).astype(str).astype(object)
    )
    add_array(
        "user_ids", None if data.user_ids is None else np.asarray(data.user_ids).astype(str).astype(object)
    )
    return h.hexdigest()


def _edge_index(rows: np.ndarray, cols: np.ndarray):
    import torch

    return torch.from_numpy(np.vstack([rows, cols]).astype(np.int64))


def _add_edges(
    graph: HeteroData, src: str, rel: str, dst: str, rows: np.ndarray, cols: np.ndarray, w: np.ndarray
) -> None:
    """Add an edge type and its reverse (``rev_<rel>``) with the same weights."""
    import torch

    weight = torch.from_numpy(np.asarray(w, dtype=np.float32))
    graph[src, rel, dst].edge_index = _edge_index(rows, cols)
    graph[src, rel, dst].edge_weight = weight
    if (src, rel, dst) != (dst, rel, src):
        graph[dst, f"rev_{rel}", src].edge_index = _edge_index(cols, rows)
        graph[dst, f"rev_{rel}", src].edge_weight = weight.clone()


def _symmetric_item_item(ii: sp.csr_matrix) -> sp.coo_matrix:
    """Co-mentions as an undirected graph: max(A, A^T) without self loops or non-positive weights."""
    ii = sp.csr_matrix(ii, dtype=np.float32)
    sym = ii.maximum(ii.T).tocsr()
    sym.setdiag(0)
    sym.eliminate_zeros()
    sym.data[sym.data < 0] = 0
    sym.eliminate_zeros()
    return sym.tocoo()


def build_item_graph(data: TrainData) -> HeteroData:
    """The heterogeneous item graph of `data` (see the module docstring for node and edge types)."""
    import torch
    from torch_geometric.data import HeteroData

    graph = HeteroData()
    n_items, n_users = data.n_items, data.n_users
    item_ids = data.item_ids if data.item_ids is not None else np.arange(n_items)
    user_ids = data.user_ids if data.user_ids is not None else np.arange(n_users)
    graph["item"].num_nodes = n_items
    graph["item"].names = [str(x) for x in item_ids]
    graph["user"].num_nodes = n_users
    graph["user"].names = [str(x) for x in user_ids]

    # attribute nodes: one per distinct (node type, value)
    node_names: dict[str, list[str]] = {t: [] for t in ATTRIBUTE_NODE_TYPES}
    node_lookup: dict[tuple[str, str], int] = {}
    attr_type: list[str] = []
    attr_node = np.empty(data.n_attributes, dtype=np.int64)
    for a, name in enumerate(data.attribute_names):
        kind, value = parse_attribute(name, a)
        ntype = KIND_EDGE[kind][0]
        key = (ntype, value)
        if key not in node_lookup:
            node_lookup[key] = len(node_names[ntype])
            node_names[ntype].append(value)
        attr_type.append(ntype)
        attr_node[a] = node_lookup[key]
    for ntype in ATTRIBUTE_NODE_TYPES:
        if node_names[ntype]:
            graph[ntype].num_nodes = len(node_names[ntype])
            graph[ntype].names = node_names[ntype]
    graph.attribute_names = list(data.attribute_names)
    graph.attribute_node_type = attr_type
    graph.attribute_node_index = torch.from_numpy(attr_node)

    # item -> attribute edges, one edge type per attribute kind
    if data.item_attributes is not None and data.n_attributes:
        ia = data.item_attributes.tocoo()
        keep = ia.data > 0
        items, attrs = ia.row[keep].astype(np.int64), ia.col[keep].astype(np.int64)
        kinds = np.array([parse_attribute(n, i)[0] for i, n in enumerate(data.attribute_names)])
        for kind, (ntype, rel) in KIND_EDGE.items():
            sel = kinds[attrs] == kind
            if sel.any():
                # a person listed twice for one item under the same role collapses to one edge
                pairs = np.unique(np.vstack([items[sel], attr_node[attrs[sel]]]), axis=1)
                _add_edges(graph, "item", rel, ntype, pairs[0], pairs[1], np.ones(pairs.shape[1]))

    ui = data.user_items.tocoo()
    keep = ui.data > 0
    _add_edges(graph, *RATED, ui.row[keep], ui.col[keep], ui.data[keep])

    if data.item_item is not None:
        co = _symmetric_item_item(data.item_item)
        if co.nnz:
            _add_edges(graph, *CO_MENTIONED, co.row, co.col, co.data)
    return graph


def save_item_graph(graph: HeteroData, path: str | Path, fingerprint: str) -> Path:
    """Write `graph` with its fingerprint (torch.save of plain tensors and lists; loads with weights_only)."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": GRAPH_FORMAT_VERSION, "fingerprint": fingerprint, "graph": graph.to_dict()}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_item_graph(path: str | Path, *, fingerprint: str | None = None) -> HeteroData:
    """Read a saved graph; ArtifactError when missing, of another format, or (given `fingerprint`) stale."""
    import torch
    from torch_geometric.data import HeteroData

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: no saved item graph")
    try:
        payload = torch.load(path, weights_only=True)
    except Exception as exc:  # a truncated or foreign file: torch raises many types
        raise ArtifactError(f"{path}: cannot read item graph: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != GRAPH_FORMAT_VERSION:
        raise ArtifactError(
            f"{path}: item graph of format {payload.get('format')!r}, expected {GRAPH_FORMAT_VERSION}"
        )
    if fingerprint is not None and payload["fingerprint"] != fingerprint:
        raise ArtifactError(f"{path}: item graph is stale (built from other data)")
    return HeteroData.from_dict(payload["graph"])


def load_or_build_item_graph(data: TrainData, path: str | Path) -> tuple[HeteroData, bool]:
    """The graph of `data`, loaded from `path` when its fingerprint matches, else built and saved.

    Returns (graph, rebuilt).
    """
    fp = graph_fingerprint(data)
    try:
        return load_item_graph(path, fingerprint=fp), False
    except ArtifactError:  # missing, unreadable, other format or stale: rebuild
        pass
    graph = build_item_graph(data)
    save_item_graph(graph, path, fp)
    return graph, True
