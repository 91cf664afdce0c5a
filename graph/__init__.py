"""The item graph and the graph-based candidate generators.

- `graph.item_graph`  the heterogeneous item graph (items, users, attribute nodes; typed edges) built from a
  TrainData, with a fingerprint so it is rebuilt only when the data changes.
- `graph.artifacts`   the item graph as an ArtifactStore artifact (`crs train` stores it; the graph models
  read it through `item_graph(data)` instead of building it again).
- `graph.lightgcn`    LightGCN on the user–item graph.
- `graph.kg_gnn`      LightGCN-style propagation over the joint user–item–attribute graph (cold items,
  attribute-only profiles).
- `graph.ppr`         Personalized PageRank over items, attributes, co-mentions and collaborative edges.
- `graph.training`    the shared BPR training loop with early stopping; `graph.embedding` the shared
  Recommender base of the two GNNs; `graph.adjacency` sparse adjacency helpers.

Every model implements the Recommender contract of recsys/models/base.py. Modules import torch lazily.
"""
