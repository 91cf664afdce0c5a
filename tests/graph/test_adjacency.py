"""Homogeneous adjacency cut from the item graph, its normalisations, and the ranking metrics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from graph.adjacency import (
    attribute_global_nodes,
    homogeneous_adjacency,
    node_layout,
    row_normalize,
    sym_normalize,
)
from graph.item_graph import build_item_graph
from graph.metrics import recall_ndcg_at_k, top_k_indices
from recsys.errors import ValidationError
from tests.graph.test_item_graph import tiny_data


def test_layout_offsets_and_joint_adjacency() -> None:
    g = build_item_graph(tiny_data())
    layout = node_layout(g, ("user", "item", "genre", "person", "tag", "decade", "missing"))
    assert layout.node_types == ("user", "item", "genre", "person", "tag", "decade")
    assert layout.offsets == {"user": 0, "item": 3, "genre": 7, "person": 9, "tag": 11, "decade": 12}
    assert layout.n_nodes == 13 and layout.span("item") == slice(3, 7)
    adj = homogeneous_adjacency(g, layout, weight_fns={"co_mentioned": np.log1p})
    assert (adj != adj.T).nnz == 0  # reverse edges make it symmetric
    assert adj[1, 3 + 1] == 2.0  # user 1 rated item 1 with weight 2
    assert adj[3 + 0, 3 + 2] == pytest.approx(np.log1p(3.0))  # co-mention count 3 -> log1p
    assert adj[3 + 0, 9 + 0] == 1.0  # item 0 directed by jane (person 0)
    assert adj[3 + 1, 9 + 0] == 1.0  # item 1 written by jane
    # 5 ratings + 1 co-mention pair + 10 item-attribute edges (3 + 3 + 3 + 1), each stored both ways
    assert adj.nnz == 2 * (5 + 1 + 10)
    nodes = attribute_global_nodes(g, layout)
    assert nodes.tolist() == [7, 8, 9, 9, 10, 11, 12]


def test_excluding_relations_and_node_types() -> None:
    g = build_item_graph(tiny_data())
    layout = node_layout(g, ("item", "genre"))
    adj = homogeneous_adjacency(g, layout, exclude_relations=("co_mentioned",))
    assert adj.shape == (6, 6) and adj.nnz == 2 * 4  # only the 4 item-genre edges
    with pytest.raises(ValidationError, match="not in the layout"):
        attribute_global_nodes(g, layout)  # person / tag / decade attributes have no node here


def test_normalisations() -> None:
    a = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=np.float32))
    s = sym_normalize(a).toarray()
    np.testing.assert_allclose(s[0, 1], 1 / np.sqrt(2 * 1))
    np.testing.assert_allclose(s, s.T)
    r = row_normalize(sp.csr_matrix(np.array([[0, 2, 6], [0, 0, 0], [1, 0, 0]], dtype=np.float32)))
    np.testing.assert_allclose(r.toarray(), [[0, 0.25, 0.75], [0, 0, 0], [1, 0, 0]])
    with pytest.raises(ValidationError, match="square"):
        sym_normalize(sp.csr_matrix((2, 3)))


def test_recall_and_ndcg_known_values() -> None:
    scores = np.array([[0.9, 0.8, 0.1, 0.5], [0.1, 0.2, 0.3, 0.4]], dtype=np.float32)
    top = top_k_indices(scores, 2)
    assert top.tolist() == [[0, 1], [3, 2]]
    truth = sp.csr_matrix(np.array([[0, 1, 1, 0], [0, 0, 0, 0]], dtype=np.float32))
    recall, ndcg = recall_ndcg_at_k(top, truth, 2)
    assert recall[0] == pytest.approx(0.5)  # item 1 found of {1, 2}
    assert ndcg[0] == pytest.approx((1 / np.log2(3)) / (1 + 1 / np.log2(3)))
    assert np.isnan(recall[1]) and np.isnan(ndcg[1])  # no relevant item: left out of averages
