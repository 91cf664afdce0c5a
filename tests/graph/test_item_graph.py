"""The heterogeneous item graph: node and edge counts, specific edges, fingerprint, save / load."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graph.item_graph import (
    build_item_graph,
    graph_fingerprint,
    load_item_graph,
    load_or_build_item_graph,
    save_item_graph,
)
from recsys.errors import ArtifactError, ValidationError
from recsys.models.types import TrainData

ATTRS = (
    "genre:drama",  # 0
    "genre:comedy",  # 1
    "director:jane doe",  # 2
    "writer:jane doe",  # 3  (same person as 2)
    "star:bob",  # 4
    "tag:dark",  # 5
    "decade:1990s",  # 6
)


def tiny_data() -> TrainData:
    """3 users x 4 items; item attributes; one co-mention pair given one way only plus a self loop."""
    ui = sp.csr_matrix(
        np.array([[1, 1, 0, 0], [0, 2, 1, 0], [0, 0, 0, 1]], dtype=np.float32)  # 5 interactions
    )
    ia = np.zeros((4, len(ATTRS)), dtype=np.float32)
    ia[0, [0, 2, 6]] = 1  # item 0: drama, directed by jane, 1990s
    ia[1, [1, 3, 4]] = 1  # item 1: comedy, written by jane, stars bob
    ia[2, [0, 1, 5]] = 1  # item 2: drama + comedy, tag dark
    ia[3, [6]] = 1  # item 3: 1990s
    ii = sp.csr_matrix(([3.0, 5.0], ([0, 2], [2, 2])), shape=(4, 4))  # 0->2 (3 times) and a self loop
    return TrainData(
        ui,
        item_ids=np.array([10, 20, 30, 40]),
        user_ids=np.array(["a", "b", "c"]),
        item_attributes=sp.csr_matrix(ia),
        attribute_names=ATTRS,
        item_item=ii,
    )


def edges(graph, edge_type) -> set[tuple[int, int]]:
    ei = graph[edge_type].edge_index
    return set(zip(ei[0].tolist(), ei[1].tolist(), strict=True))


def test_node_types_counts_and_names() -> None:
    g = build_item_graph(tiny_data())
    assert set(g.node_types) == {"item", "user", "genre", "person", "tag", "decade"}
    counts = {t: g[t].num_nodes for t in g.node_types}
    assert counts == {"item": 4, "user": 3, "genre": 2, "person": 2, "tag": 1, "decade": 1}
    assert g["item"].names == ["10", "20", "30", "40"]
    assert g["user"].names == ["a", "b", "c"]
    assert g["genre"].names == ["drama", "comedy"]
    assert g["person"].names == ["jane doe", "bob"]  # director and writer jane are one person node
    assert g.attribute_node_type == ["genre", "genre", "person", "person", "person", "tag", "decade"]
    assert g.attribute_node_index.tolist() == [0, 1, 0, 0, 1, 0, 0]


def test_typed_attribute_edges_with_reverses() -> None:
    g = build_item_graph(tiny_data())
    assert edges(g, ("item", "has_genre", "genre")) == {(0, 0), (1, 1), (2, 0), (2, 1)}
    assert edges(g, ("item", "directed_by", "person")) == {(0, 0)}
    assert edges(g, ("item", "written_by", "person")) == {(1, 0)}
    assert edges(g, ("item", "stars", "person")) == {(1, 1)}
    assert edges(g, ("item", "has_tag", "tag")) == {(2, 0)}
    assert edges(g, ("item", "in_decade", "decade")) == {(0, 0), (3, 0)}
    assert edges(g, ("genre", "rev_has_genre", "item")) == {(0, 0), (1, 1), (0, 2), (1, 2)}
    assert edges(g, ("person", "rev_written_by", "item")) == {(0, 1)}


def test_interaction_edges_keep_weights() -> None:
    g = build_item_graph(tiny_data())
    store = g["user", "rated", "item"]
    weights = dict(zip(map(tuple, store.edge_index.T.tolist()), store.edge_weight.tolist(), strict=True))
    assert weights == {(0, 0): 1.0, (0, 1): 1.0, (1, 1): 2.0, (1, 2): 1.0, (2, 3): 1.0}
    assert edges(g, ("item", "rev_rated", "user")) == {(i, u) for u, i in weights}


def test_co_mentions_are_symmetric_without_self_loops() -> None:
    g = build_item_graph(tiny_data())
    store = g["item", "co_mentioned", "item"]
    assert edges(g, ("item", "co_mentioned", "item")) == {(0, 2), (2, 0)}
    assert store.edge_weight.tolist() == [3.0, 3.0]


def test_no_attributes_no_co_mentions_gives_users_and_items_only() -> None:
    data = TrainData(sp.csr_matrix(np.eye(3, dtype=np.float32)))
    g = build_item_graph(data)
    assert set(g.node_types) == {"item", "user"}
    assert set(g.edge_types) == {("user", "rated", "item"), ("item", "rev_rated", "user")}
    assert g["item"].names == ["0", "1", "2"]


def test_malformed_attribute_name_is_named_in_the_error() -> None:
    data = dataclasses.replace(tiny_data(), attribute_names=(*ATTRS[:-1], "century:1900s"))
    with pytest.raises(ValidationError, match="attribute 6 'century:1900s'"):
        build_item_graph(data)


def test_fingerprint_tracks_the_data() -> None:
    data = tiny_data()
    same = tiny_data()
    assert graph_fingerprint(data) == graph_fingerprint(same)
    ui = data.user_items.toarray()
    ui[2, 0] = 1.0
    changed = [
        dataclasses.replace(data, user_items=sp.csr_matrix(ui)),
        dataclasses.replace(data, item_item=None),
        dataclasses.replace(data, attribute_names=(*ATTRS[:-1], "decade:1980s")),
        dataclasses.replace(data, item_ids=np.array([10, 20, 30, 41])),
    ]
    fps = {graph_fingerprint(d) for d in changed}
    assert len(fps) == len(changed) and graph_fingerprint(data) not in fps


def test_save_load_round_trip(tmp_path: Path) -> None:
    data = tiny_data()
    g = build_item_graph(data)
    path = save_item_graph(g, tmp_path / "graph.pt", graph_fingerprint(data))
    loaded = load_item_graph(path, fingerprint=graph_fingerprint(data))
    assert set(loaded.edge_types) == set(g.edge_types)
    for et in g.edge_types:
        assert torch.equal(loaded[et].edge_index, g[et].edge_index)
        assert torch.equal(loaded[et].edge_weight, g[et].edge_weight)
    assert loaded["person"].names == ["jane doe", "bob"]
    assert loaded.attribute_node_type == g.attribute_node_type


def test_load_errors(tmp_path: Path) -> None:
    data = tiny_data()
    with pytest.raises(ArtifactError, match="no saved item graph"):
        load_item_graph(tmp_path / "missing.pt")
    path = save_item_graph(build_item_graph(data), tmp_path / "graph.pt", graph_fingerprint(data))
    with pytest.raises(ArtifactError, match="stale"):
        load_item_graph(path, fingerprint="0" * 64)
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(ArtifactError, match="cannot read"):
        load_item_graph(tmp_path / "junk.pt")


def test_load_or_build_rebuilds_only_when_the_data_changes(tmp_path: Path) -> None:
    data = tiny_data()
    path = tmp_path / "graph.pt"
    _, rebuilt = load_or_build_item_graph(data, path)
    assert rebuilt
    g, rebuilt = load_or_build_item_graph(tiny_data(), path)
    assert not rebuilt and g["item"].num_nodes == 4
    g, rebuilt = load_or_build_item_graph(dataclasses.replace(data, item_item=None), path)
    assert rebuilt and ("item", "co_mentioned", "item") not in g.edge_types
