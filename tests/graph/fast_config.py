"""Small, quick training settings shared by the GNN tests (a few hundred interactions, 16 dimensions)."""

from __future__ import annotations

from typing import Any

FAST: dict[str, Any] = {
    "embedding_dim": 16,
    "num_layers": 2,
    "lr": 0.05,
    "batch_size": 128,
    "max_epochs": 60,
    "eval_every": 2,
    "patience": 4,
    "time_budget_s": None,
}
