"""LightGCN (He et al., SIGIR 2020) on the user–item bipartite graph, behind the Recommender contract.

Training, early stopping, fold-in of ad-hoc profiles and scoring are shared with the KG-GNN
(graph/embedding.py, graph/training.py); this model propagates over interactions only, so items without
interactions keep their random initial embeddings and are best served by KG-GNN or PageRank.
"""

from __future__ import annotations

import scipy.sparse as sp

from graph.adjacency import NodeLayout, bipartite_adjacency
from graph.embedding import GraphEmbeddingRecommender
from recsys.models.types import TrainData


class LightGCNRecommender(GraphEmbeddingRecommender):
    """LightGCN over ``user | item`` with BPR loss; scores are dot products of final embeddings."""

    name = "lightgcn"

    def _adjacency(self, data: TrainData) -> tuple[sp.csr_matrix, NodeLayout]:
        layout = NodeLayout(("user", "item"), (data.n_users, data.n_items))
        return bipartite_adjacency(data.user_items), layout
