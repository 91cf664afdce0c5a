"""The shared BPR training loop of the graph embedding models (LightGCN, KG-GNN).

Both models are `torch_geometric.nn.models.LightGCN` over a pre-normalised sparse adjacency (computed
once; propagation backends in graph/propagation.py); they differ only in which nodes and edges the
adjacency holds. Training: mini-batches of (user, positive item) pairs, `num_negatives` uniform negative
items per pair (vectorised, re-drawn when a known positive), `LightGCN.recommendation_loss` (BPR + L2 on
the batch's ego embeddings), Adam. Early stopping watches NDCG@k (or Recall@k) on a validation matrix
every `eval_every` epochs, stops after `patience` evaluations without improvement or when `time_budget_s`
is spent, and restores the best weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from graph.metrics import recall_ndcg_at_k, top_k_indices
from graph.propagation import Backend, Propagator
from recsys.errors import ValidationError


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of a BPR-trained LightGCN-style model.

    Defaults were tuned on ml-latest-small (ratings >= 3, random 80/10/10 split per user; test Recall@20 /
    NDCG@10): lr 0.01 / 0.02 / 0.05 -> 0.221 / 0.243 / 0.222 (30 epochs); lambda_reg 1e-4 / 1e-3 / 1e-2 ->
    0.238 / 0.246 / 0.198 (4 negatives); negatives 4 / 8 / 16 -> 0.246 / 0.256 / 0.249 (lambda 1e-3);
    then lr 0.03, lambda 5e-4, 8 negatives -> 0.259 / 0.177 in ~60 epochs, ~65 CPU seconds.
    """

    embedding_dim: int = 64
    num_layers: int = 2  # 2 beat 3 on ml-latest-small (recall@20 0.246 vs 0.230, same budget)
    lr: float = 0.03
    lambda_reg: float = 5e-4
    init_std: float | None = 0.1  # normal(0, init_std) ego embeddings, as in LightGCN; None = xavier
    batch_size: int = 4096
    num_negatives: int = 8  # uniform negatives per positive pair (each a BPR term)
    max_epochs: int = 200
    patience: int = 6  # evaluations without improvement before stopping
    eval_every: int = 2  # epochs between validation evaluations
    eval_k: int = 20
    metric: Literal["ndcg", "recall"] = "ndcg"
    val_fraction: float = 0.1  # internal hold-out when fit() gets no validation matrix; 0 = no early stop
    max_val_users: int = 2000  # validation scores at most this many users (a fixed random sample)
    time_budget_s: float | None = 120.0  # wall-clock cap on training; the best weights so far are kept
    seed: int = 42
    # torch intra-op threads while training (restored after); 1 is fastest on a shared CPU, where two
    # spinning threads made sparse propagation 5x slower in our measurements. None = leave as is.
    torch_threads: int | None = 1
    propagation: Backend = "scipy"  # see graph/propagation.py for the measured alternatives

    def __post_init__(self) -> None:
        positive = (
            "embedding_dim",
            "batch_size",
            "num_negatives",
            "max_epochs",
            "patience",
            "eval_every",
            "eval_k",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ValidationError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_layers < 0:
            raise ValidationError(f"num_layers must be >= 0, got {self.num_layers}")
        if self.lr <= 0 or self.lambda_reg < 0:
            raise ValidationError(f"lr must be > 0 and lambda_reg >= 0 (got {self.lr}, {self.lambda_reg})")
        if not 0.0 <= self.val_fraction < 0.5:
            raise ValidationError(f"val_fraction must be in [0, 0.5), got {self.val_fraction}")
        if self.metric not in ("ndcg", "recall"):
            raise ValidationError(f"metric must be 'ndcg' or 'recall', got {self.metric!r}")
        if self.propagation not in ("scipy", "torch"):
            raise ValidationError(f"propagation must be 'scipy' or 'torch', got {self.propagation!r}")
        if self.time_budget_s is not None and self.time_budget_s <= 0:
            raise ValidationError(f"time_budget_s must be > 0 or None, got {self.time_budget_s}")

    @classmethod
    def from_params(cls, base: TrainConfig | None = None, **params: Any) -> TrainConfig:
        """`base` (or the defaults) with `params` replaced; unknown names raise ValidationError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValidationError(f"unknown training parameter(s) {unknown}; known: {sorted(known)}")
        values = {f.name: getattr(base, f.name) for f in fields(cls)} if base else {}
        return cls(**{**values, **params})


@dataclass
class TrainResult:
    """What a training run did: the best ego embeddings and the history that led to them."""

    weight: np.ndarray  # n_nodes x dim ego embeddings of the best (or last) epoch
    best_epoch: int
    epochs_run: int
    best_metric: float | None
    stop_reason: str  # "patience", "time_budget", "max_epochs"
    seconds: float  # wall clock
    cpu_seconds: float  # this process's CPU time (what an idle machine's wall clock would be, ~)
    history: list[dict[str, float]] = field(default_factory=list)


def split_holdout(
    user_items: sp.csr_matrix, fraction: float, rng: np.random.Generator
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Move a random `fraction` of each user's positives into a validation matrix (vectorised).

    Each user keeps at least one training item; the number held out is fraction * degree, randomly
    rounded, so small users contribute occasionally rather than never.
    """
    ui = sp.csr_matrix(user_items, dtype=np.float32)
    ui.eliminate_zeros()
    deg = np.diff(ui.indptr)
    n_val = np.floor(fraction * deg + rng.random(len(deg))).astype(np.int64)
    n_val = np.clip(n_val, 0, np.maximum(deg - 1, 0))
    rows = np.repeat(np.arange(ui.shape[0]), deg)
    order = np.lexsort((rng.random(ui.nnz), rows))  # random order within each row
    rank = np.empty(ui.nnz, dtype=np.int64)
    rank[order] = np.arange(ui.nnz) - ui.indptr[rows[order]]
    is_val = rank < n_val[rows]
    coo = ui.tocoo()
    train = sp.csr_matrix((coo.data[~is_val], (coo.row[~is_val], coo.col[~is_val])), shape=ui.shape)
    val = sp.csr_matrix((coo.data[is_val], (coo.row[is_val], coo.col[is_val])), shape=ui.shape)
    return train, val


class NegativeSampler:
    """Uniform negative items for (user, positive) pairs, re-drawing known positives a few times."""

    def __init__(self, positives: sp.csr_matrix, rng: np.random.Generator, max_rounds: int = 5) -> None:
        coo = sp.csr_matrix(positives).tocoo()
        self.n_items = positives.shape[1]
        self.keys = np.unique(coo.row.astype(np.int64) * self.n_items + coo.col)
        self.rng = rng
        self.max_rounds = max_rounds

    def _is_positive(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        keys = users * self.n_items + items
        pos = np.searchsorted(self.keys, keys)
        pos = np.minimum(pos, len(self.keys) - 1)
        return self.keys[pos] == keys if len(self.keys) else np.zeros(len(keys), bool)

    def sample(self, users: np.ndarray) -> np.ndarray:
        items = self.rng.integers(0, self.n_items, size=len(users))
        for _ in range(self.max_rounds):
            bad = self._is_positive(users, items)
            if not bad.any():
                break
            items[bad] = self.rng.integers(0, self.n_items, size=int(bad.sum()))
        return items


def make_model(n_nodes: int, config: TrainConfig):
    """A seeded LightGCN over `n_nodes` whose layers expect a pre-normalised adjacency."""
    import torch
    from torch_geometric.nn.models import LightGCN

    torch.manual_seed(config.seed)
    model = LightGCN(n_nodes, config.embedding_dim, config.num_layers, normalize=False)
    if config.init_std is not None:
        torch.nn.init.normal_(model.embedding.weight, std=config.init_std)
    return model


def _validate(
    final: np.ndarray, users: np.ndarray, item_nodes: slice, train: sp.csr_matrix, val: sp.csr_matrix, k: int
) -> tuple[float, float]:
    u = final[users]
    scores = u @ final[item_nodes].T
    seen = train[users]
    scores[seen.nonzero()] = -np.inf
    recall, ndcg = recall_ndcg_at_k(top_k_indices(scores, k), val[users], k)
    return float(np.nanmean(recall)), float(np.nanmean(ndcg))


def train_bpr(
    adj_norm: sp.csr_matrix,
    train: sp.csr_matrix,
    *,
    item_offset: int,
    config: TrainConfig,
    validation: sp.csr_matrix | None = None,
    show_progress: bool = False,
    desc: str = "bpr",
) -> TrainResult:
    """Train LightGCN ego embeddings with BPR on the positives of `train` (users are nodes 0..n_users-1,
    item i is node item_offset + i) over the normalised adjacency `adj_norm` (all nodes).

    With `validation` (n_users x n_items, held-out positives not in `train`), early-stops on it and
    returns the best epoch's weights; without it, trains for max_epochs (or the time budget).
    Runs with `config.torch_threads` torch threads (the previous setting is restored).
    """
    import torch

    previous = torch.get_num_threads()
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    try:
        return _train_bpr(
            adj_norm,
            train,
            item_offset=item_offset,
            config=config,
            validation=validation,
            show_progress=show_progress,
            desc=desc,
        )
    finally:
        torch.set_num_threads(previous)


def _train_bpr(
    adj_norm: sp.csr_matrix,
    train: sp.csr_matrix,
    *,
    item_offset: int,
    config: TrainConfig,
    validation: sp.csr_matrix | None = None,
    show_progress: bool = False,
    desc: str = "bpr",
) -> TrainResult:
    import torch
    from tqdm.auto import tqdm

    start, cpu_start = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(config.seed)
    n_items = train.shape[1]
    model = make_model(adj_norm.shape[0], config)
    embed = Propagator(adj_norm, config.propagation)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    coo = sp.csr_matrix(train).tocoo()
    keep = coo.data > 0
    pos_users, pos_items = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
    if len(pos_users) == 0:
        raise ValidationError(f"{desc}: no positive interactions to train on")
    sampler = NegativeSampler(train, rng)
    item_nodes = slice(item_offset, item_offset + n_items)

    val_users = np.empty(0, np.int64)
    if validation is not None:
        val_users = np.flatnonzero(np.diff(sp.csr_matrix(validation).indptr) > 0)
        if len(val_users) > config.max_val_users:
            val_users = np.sort(rng.choice(val_users, config.max_val_users, replace=False))
    early_stop = len(val_users) > 0

    best_metric, best_epoch, best_weight = -np.inf, 0, None
    history: list[dict[str, float]] = []
    bad_evals, stop_reason, epoch = 0, "max_epochs", 0
    bar = tqdm(range(1, config.max_epochs + 1), desc=desc, disable=not show_progress, leave=False)
    for epoch in bar:
        model.train()
        perm = rng.permutation(len(pos_users))
        total = 0.0
        for lo in range(0, len(perm), config.batch_size):
            idx = perm[lo : lo + config.batch_size]
            users = pos_users[idx]
            negs = sampler.sample(np.repeat(users, config.num_negatives))
            u_t = torch.from_numpy(users)
            p_t = torch.from_numpy(pos_items[idx] + item_offset)
            n_t = torch.from_numpy(negs + item_offset)
            emb = embed(model)
            u_emb = emb[u_t]
            pos_rank = (u_emb * emb[p_t]).sum(dim=-1).repeat_interleave(config.num_negatives)
            neg_rank = (u_emb.repeat_interleave(config.num_negatives, dim=0) * emb[n_t]).sum(dim=-1)
            # the loss divides the L2 term by the number of pairs: scale it back to per-positive
            loss = model.recommendation_loss(
                pos_rank,
                neg_rank,
                node_id=torch.cat([u_t, p_t, n_t]),
                lambda_reg=config.lambda_reg * config.num_negatives,
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        record = {"epoch": float(epoch), "loss": total / len(perm)}
        out_of_time = config.time_budget_s is not None and time.perf_counter() - start >= config.time_budget_s
        if early_stop and (epoch % config.eval_every == 0 or out_of_time or epoch == config.max_epochs):
            model.eval()
            with torch.no_grad():
                final = embed(model).numpy()
            recall, ndcg = _validate(final, val_users, item_nodes, train, validation, config.eval_k)
            record.update(recall=recall, ndcg=ndcg)
            metric = ndcg if config.metric == "ndcg" else recall
            if metric > best_metric:
                best_metric, best_epoch, bad_evals = metric, epoch, 0
                best_weight = model.embedding.weight.detach().numpy().copy()
            else:
                bad_evals += 1
        history.append(record)
        bar.set_postfix({k: round(v, 4) for k, v in record.items() if k != "epoch"})
        if early_stop and bad_evals >= config.patience:
            stop_reason = "patience"
            break
        if out_of_time:
            stop_reason = "time_budget"
            break
    bar.close()
    if best_weight is None:  # no validation: keep the last epoch
        best_weight = model.embedding.weight.detach().numpy().copy()
        best_epoch = epoch
    return TrainResult(
        weight=best_weight,
        best_epoch=best_epoch,
        epochs_run=epoch,
        best_metric=None if not early_stop else float(best_metric),
        stop_reason=stop_reason,
        seconds=time.perf_counter() - start,
        cpu_seconds=time.process_time() - cpu_start,
        history=history,
    )
