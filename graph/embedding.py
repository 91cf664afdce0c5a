"""The shared Recommender base of the LightGCN-style graph embedding models (LightGCN, KG-GNN).

A subclass only says which graph to propagate over (`_adjacency`); this base does the rest: the internal
validation hold-out (or the caller's validation matrix), BPR training with early stopping
(graph/training.py), the final propagation, and numpy scoring. After fit the model holds only numpy arrays
(`user_factors_`, `item_factors_`, `item_fold_in_`), so recommending is a matrix product and `save` /
`load` are the base class's pickle.

Fold-in of ad-hoc profiles. LightGCN's propagated item embeddings live in the user space (a user's final
embedding aggregates its items' embeddings), so a profile's user vector is built from its liked items:

- ``fold_in="mean"``: the weighted mean of the liked items' final embeddings;
- ``fold_in="propagate"``: what LightGCN propagation would give a new user node linked to the liked items
  (its ego embedding taken as zero): sum over layers l=1..L of alpha * sum_i w_i x_i^(l-1) / sqrt(d_u d_i).

Disliked items subtract `disliked_weight` times their own fold-in vector.

"propagate" is the default: on ml-latest-small (profiles = test users' training items) LightGCN scored
Recall@20 0.244 with it and 0.223 with "mean" (0.257 as known users, whose ego embedding it lacks).

Scores are computed one row at a time, so a user's or profile's scores are bit-identical alone or in a batch.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal, Self

import numpy as np
import scipy.sparse as sp

from graph.adjacency import NodeLayout, sym_normalize
from graph.propagation import propagate
from graph.training import TrainConfig, split_holdout, train_bpr
from recsys.errors import ValidationError
from recsys.models.base import Recommender
from recsys.models.implicit_cf import rowwise_scores  # row by row: batch-independent, bit-identical scores
from recsys.models.types import Profile, TrainData

FoldIn = Literal["mean", "propagate"]


class GraphEmbeddingRecommender(Recommender):
    """Users and items embedded by LightGCN propagation over a graph, trained with BPR."""

    name = "graph-embedding"

    def __init__(
        self,
        config: TrainConfig | None = None,
        *,
        fold_in: FoldIn = "propagate",
        disliked_weight: float = 0.25,
        **params: Any,
    ) -> None:
        """`params` override fields of `config` (TrainConfig), e.g. ``LightGCNRecommender(max_epochs=20)``."""
        super().__init__()
        if fold_in not in ("mean", "propagate"):
            raise ValidationError(f"fold_in must be 'mean' or 'propagate', got {fold_in!r}")
        if disliked_weight < 0:
            raise ValidationError(f"disliked_weight must be >= 0, got {disliked_weight}")
        self.config = TrainConfig.from_params(config, **params)
        self.fold_in = fold_in
        self.disliked_weight = float(disliked_weight)
        self._validation: sp.csr_matrix | None = None

    # ---- to implement -------------------------------------------------------------------------------
    @abstractmethod
    def _adjacency(self, data: TrainData) -> tuple[sp.csr_matrix, NodeLayout]:
        """The raw (unnormalised, symmetric) adjacency over all nodes, and its layout. The layout must
        start with "user" then "item" (users are nodes 0..n_users-1 in the training loop)."""

    def _store_extra_factors(self, final: np.ndarray, layout: NodeLayout) -> None:
        """Hook: keep embeddings of other node types (e.g. attributes) after the final propagation."""

    # ---- fitting ------------------------------------------------------------------------------------
    def fit(
        self, data: TrainData, *, show_progress: bool = False, validation: sp.csr_matrix | None = None
    ) -> Self:
        """Fit on `data`. `validation` (n_users x n_items positives held out of `data`) drives early
        stopping; without it, `config.val_fraction` of each user's positives is held out internally
        (and put back into the graph for the final embeddings). val_fraction=0 disables early stopping."""
        if validation is not None:
            validation = sp.csr_matrix(validation, dtype=np.float32)
            if validation.shape != data.user_items.shape:
                raise ValidationError(
                    f"validation has shape {validation.shape}, expected {data.user_items.shape}"
                )
        self._validation = validation
        try:
            return super().fit(data, show_progress=show_progress)
        finally:
            self._validation = None

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        cfg = self.config
        validation, train_data = self._validation, data
        if validation is None and cfg.val_fraction > 0:
            train_ui, validation = split_holdout(
                data.user_items, cfg.val_fraction, np.random.default_rng(cfg.seed)
            )
            train_data = replace(data, user_items=train_ui)
        adj, layout = self._adjacency(train_data)
        if layout.node_types[:2] != ("user", "item"):
            raise ValidationError(f"{self.name}: layout must start with user, item; got {layout.node_types}")
        result = train_bpr(
            sym_normalize(adj),
            train_data.user_items,
            item_offset=layout.offsets["item"],
            config=cfg,
            validation=validation,
            show_progress=show_progress,
            desc=self.name,
        )
        if train_data is not data:  # final embeddings over the full graph (held-out edges put back)
            adj, layout = self._adjacency(data)
        adj_norm = sym_normalize(adj)
        layers = propagate(result.weight, adj_norm, cfg.num_layers)
        alpha = 1.0 / (cfg.num_layers + 1)
        final = (alpha * np.sum(layers, axis=0)).astype(np.float32)
        items = layout.span("item")
        self.user_factors_ = np.ascontiguousarray(final[layout.span("user")])
        self.item_factors_ = np.ascontiguousarray(final[items])
        if self.fold_in == "propagate":
            deg = np.asarray(adj.sum(axis=1), dtype=np.float32).ravel()[items]
            inv_sqrt = np.where(deg > 0, 1.0 / np.sqrt(np.maximum(deg, 1e-12)), 0.0).astype(np.float32)
            before_last = (
                np.sum(layers[:-1], axis=0)[items] if cfg.num_layers else np.zeros_like(final[items])
            )
            self.item_fold_in_ = np.ascontiguousarray(alpha * before_last * inv_sqrt[:, None], np.float32)
        else:
            self.item_fold_in_ = self.item_factors_
        self._store_extra_factors(final, layout)
        self.training_ = {
            "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run,
            "best_metric": result.best_metric,
            "stop_reason": result.stop_reason,
            "seconds": round(result.seconds, 3),
            "cpu_seconds": round(result.cpu_seconds, 3),
            "history": result.history,
        }

    # ---- scoring ------------------------------------------------------------------------------------
    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return rowwise_scores(self.user_factors_[users], self.item_factors_)

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        return rowwise_scores(self._profile_vectors(profiles), self.item_factors_)

    def _fold(self, items: Sequence[int], weights: Sequence[float] | None) -> np.ndarray:
        """The fold-in user vector of a set of items (see the module docstring)."""
        w = np.asarray(weights or (1.0,) * len(items), dtype=np.float32)
        total = max(float(np.abs(w).sum()), 1e-12)
        scale = np.sqrt(total) if self.fold_in == "propagate" else total
        return (w @ self.item_fold_in_[list(items)]) / scale

    def _profile_vectors(self, profiles: Sequence[Profile]) -> np.ndarray:
        """One user vector per profile: liked items folded in, minus disliked_weight x disliked items."""
        out = np.zeros((len(profiles), self.item_factors_.shape[1]), dtype=np.float32)
        for r, p in enumerate(profiles):
            if p.liked_items:
                out[r] = self._fold(p.liked_items, p.item_weights)
            if p.disliked_items and self.disliked_weight:
                out[r] -= self.disliked_weight * self._fold(p.disliked_items, None)
        return out
