"""The MovieLens benchmark behind `crs eval movielens`: every generator and the fusion ranker under one
protocol (recsys.eval.splits), with accuracy, coverage, popularity bias, training time and latency.

Item attributes (used by the KG-GNN and personalized PageRank) come from the MovieLens items table:
genres, user tags (those on at least `min_tag_items` movies) and the release decade.
"""

from __future__ import annotations

import inspect
import os
import platform
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from rich.console import Console

from recsys.data.movielens import load_movielens
from recsys.errors import ConfigError, CRSError
from recsys.eval.evaluate import evaluate_model
from recsys.eval.splits import EvalSplit, SplitProtocol, build_split
from recsys.eval.timing import batch_throughput, profile_latency, time_fit
from recsys.models import registry
from recsys.models.base import Recommender
from recsys.models.fusion import FusionRanker

BENCH_NAMES: tuple[str, ...] = (*registry.MODEL_NAMES, "fusion")
# Small budgets for --quick (smoke runs and tests); keys a model's constructor does not take are ignored.
QUICK_OVERRIDES: dict[str, dict[str, Any]] = {
    "itemknn": {"k_neighbors": 50},
    "als": {"factors": 16, "iterations": 5},
    "bpr": {"factors": 16, "iterations": 10},
    "lightgcn": {"max_epochs": 4, "embedding_dim": 16, "time_budget_s": 5.0},
    "kg_gnn": {"max_epochs": 4, "embedding_dim": 16, "time_budget_s": 5.0},
    "ppr": {"max_iter": 10},
}
GNN_NAMES = ("lightgcn", "kg_gnn")


@dataclass(frozen=True)
class BenchConfig:
    """What to run. `models` may include "fusion" (fused over the run's other models, or `fusion_members`)."""

    dataset_dir: Path
    models: tuple[str, ...] = BENCH_NAMES
    protocol: SplitProtocol = "random"
    seed: int = 42
    threshold: float = 3.0
    core: int = 10
    quick: bool = False
    time_budget: float | None = None  # seconds for the whole run; later models are skipped past it
    ks: tuple[int, ...] = (10, 20)
    fusion_members: tuple[str, ...] | None = None
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    min_tag_items: int = 2
    # Give models that early-stop (the GNNs) the validation split, as RecBole does. Off by default: the
    # fusion learns its weights on that split, and early-stopped models look better there than they are
    # (measured on ml-latest-small: fusion test NDCG@10 -3.7% vs EASE with it, +2.2% without).
    early_stop_on_valid: bool = False

    def __post_init__(self) -> None:
        unknown = [m for m in (*self.models, *(self.fusion_members or ())) if m not in BENCH_NAMES]
        if unknown:
            raise ConfigError(f"unknown model(s) {', '.join(unknown)}; valid: {', '.join(BENCH_NAMES)}")
        if not self.models:
            raise ConfigError("no model to benchmark")
        if self.fusion_members is not None and "fusion" in self.fusion_members:
            raise ConfigError("the fusion cannot be one of its own members")


def movielens_attributes(
    items: pd.DataFrame, *, min_tag_items: int = 2
) -> tuple[sp.csr_matrix, tuple[str, ...]]:
    """Item x attribute 0/1 matrix (rows in `items` order) with "genre:", "tag:" and "decade:" names."""
    per_item: list[list[str]] = []
    tag_counts: dict[str, int] = {}
    for tags in items["tags"]:
        for t in set(tags):
            tag_counts[t] = tag_counts.get(t, 0) + 1
    for genres, tags, year in zip(items["genres"], items["tags"], items["year"], strict=True):
        names = [f"genre:{g.lower()}" for g in genres]
        names += [f"tag:{t}" for t in tags if tag_counts[t] >= min_tag_items]
        if not pd.isna(year):
            names.append(f"decade:{int(year) // 10 * 10}s")
        per_item.append(sorted(set(names)))
    vocab = tuple(sorted({n for names in per_item for n in names}))
    col = {n: i for i, n in enumerate(vocab)}
    rows = [r for r, names in enumerate(per_item) for _ in names]
    cols = [col[n] for names in per_item for n in names]
    mat = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(items), len(vocab)))
    return mat, vocab


def load_split(config: BenchConfig) -> tuple[EvalSplit, dict[str, Any]]:
    """Load the release in `config.dataset_dir`, build attributes and the split; also dataset facts."""
    data = load_movielens(Path(config.dataset_dir))
    attrs, names = movielens_attributes(data.items.frame, min_tag_items=config.min_tag_items)
    split = build_split(
        data.interactions.frame,
        protocol=config.protocol,
        threshold=config.threshold,
        core=config.core,
        seed=config.seed,
        item_attributes=attrs,
        attribute_names=names,
        attribute_item_ids=data.items.frame["item_id"].to_numpy(),
    )
    facts = {
        "path": str(config.dataset_dir),
        "layout": data.layout,
        "n_ratings": len(data.interactions),
        "n_movies": len(data.items),
        "n_attributes": len(names),
        "skipped_rows": dict(data.skipped),
    }
    return split, facts


def environment() -> dict[str, Any]:
    """Versions and CPU facts of the machine the benchmark ran on."""
    versions = {}
    for pkg in ("numpy", "scipy", "pandas", "torch", "torch-geometric", "implicit"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "versions": versions,
    }
    if "torch" in sys.modules:
        env["torch_threads"] = sys.modules["torch"].get_num_threads()
    if hasattr(os, "getloadavg"):  # wall-clock latencies are only comparable on a quiet machine
        env["load_average_1_5_15min"] = [round(x, 2) for x in os.getloadavg()]
    return env


def _overrides(name: str, config: BenchConfig) -> dict[str, Any]:
    """Quick-mode budgets the model accepts, then the user's explicit overrides (checked by the registry)."""
    out: dict[str, Any] = {}
    if config.quick:
        accepted = registry.parameters(name)
        out.update({k: v for k, v in QUICK_OVERRIDES.get(name, {}).items() if k in accepted})
    out.update(config.overrides.get(name, {}))
    return out


def _measure(model: Recommender, split: EvalSplit, config: BenchConfig) -> dict[str, Any]:
    """Test and validation metrics, one-profile latency and batch throughput of a fitted model."""
    test = evaluate_model(model, split, stage="test", ks=config.ks)
    valid = evaluate_model(model, split, stage="valid", ks=(10,))
    lat = profile_latency(
        model,
        split.train.user_items,
        n_users=30 if config.quick else 200,
        warmup=5 if config.quick else 20,
        seed=config.seed,
    )
    out: dict[str, Any] = {key: test[key] for key in sorted(test)}
    out["valid_ndcg@10"] = valid["ndcg@10"]
    out["recommend_p50_ms"] = lat.p50_ms
    out["recommend_p99_ms"] = lat.p99_ms
    out["recommend_mean_ms"] = lat.mean_ms
    out["recommend_cpu_p50_ms"] = lat.cpu_p50_ms
    out["recommend_cpu_p99_ms"] = lat.cpu_p99_ms
    out["batch_users_per_s"] = batch_throughput(
        model, split.n_users, batch_size=256, repeats=1 if config.quick else 3, seed=config.seed
    )
    return out


def _fusion_members(config: BenchConfig, fitted: dict[str, Recommender]) -> dict[str, Recommender]:
    names = config.fusion_members or tuple(n for n in registry.MODEL_NAMES if n in fitted)
    missing = [n for n in names if n not in fitted]
    if missing:
        raise ConfigError(
            f"fusion members {missing} were not fitted in this run (failed, skipped or not selected)"
        )
    if not names:
        raise ConfigError("the fusion needs at least one fitted generator")
    return {n: fitted[n] for n in names}


def _tuning_options(config: BenchConfig) -> dict[str, Any]:
    if config.quick:
        return {"grid": (0.0, 1.0, 2.0), "rounds": 1, "max_users": 200, "rrf_ks": (60,)}
    return {"rrf_ks": (10, 60), "depths": (100,), "max_users": 2000, "min_gain": 0.01}


def run_benchmark(config: BenchConfig, *, progress: bool = False) -> dict[str, Any]:
    """Run the benchmark and return the report (recsys.eval.report writes files from it).

    progress: status lines (rich) and the models' own progress bars (tqdm) on stderr.
    """
    console = Console(stderr=True, quiet=not progress)
    started = time.perf_counter()
    split, facts = load_split(config)
    p = split.protocol
    console.print(
        f"[bold]{facts['path']}[/] ({facts['layout']}): {p['n_users']} users, {p['n_items']} items, "
        f"{p['n_interactions']} positives after filtering; split {p['split']}"
    )
    # Generators the run needs: the selected ones, plus fusion members that were not selected.
    wanted = [n for n in registry.MODEL_NAMES if n in config.models]
    if "fusion" in config.models:
        extra = config.fusion_members or (() if wanted else registry.MODEL_NAMES)
        wanted += [n for n in registry.MODEL_NAMES if n in extra and n not in wanted]
    steps = len(wanted) + ("fusion" in config.models)
    results: dict[str, dict[str, Any]] = {}
    fitted: dict[str, Recommender] = {}
    for i, name in enumerate(wanted, start=1):
        if _over_budget(config, started):
            results[name] = {"status": "skipped", "reason": f"time budget of {config.time_budget:g}s used up"}
            console.print(f"[yellow][{i}/{steps}] {name}: skipped (time budget)[/]")
            continue
        console.print(f"[{i}/{steps}] {name}: fitting")
        try:
            model = registry.create(name, seed=config.seed, **_overrides(name, config))
            takes_validation = "validation" in inspect.signature(model.fit).parameters
            extra = {"validation": split.valid} if config.early_stop_on_valid and takes_validation else {}
            fit_s = time_fit(model, split.train, show_progress=progress, **extra)
            row = {"status": "ok", "train_seconds": fit_s, **_measure(model, split, config)}
        except (CRSError, ImportError, MemoryError, RuntimeError, ValueError) as exc:
            results[name] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            console.print(f"[red][{i}/{steps}] {name}: failed: {exc}[/]")
            continue
        row["params"] = registry.public_params(model)
        training = getattr(model, "training_", None)  # e.g. the GNNs' early-stopping summary
        if isinstance(training, dict):
            row["training"] = {k: v for k, v in training.items() if k != "history"}
        fitted[name], results[name] = model, row
        console.print(f"    {_summary(row)}")
    if "fusion" in config.models and _over_budget(config, started):
        results["fusion"] = {"status": "skipped", "reason": f"time budget of {config.time_budget:g}s used up"}
        console.print(f"[yellow][{steps}/{steps}] fusion: skipped (time budget)[/]")
    elif "fusion" in config.models:
        console.print(f"[{steps}/{steps}] fusion: tuning weights on the validation split")
        try:
            results["fusion"] = _run_fusion(config, split, fitted, results)
            console.print(f"    {_summary(results['fusion'])}")
        except (CRSError, ValueError) as exc:
            results["fusion"] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            console.print(f"[red]fusion: failed: {exc}[/]")
    report = {
        "benchmark": "movielens",
        "dataset": facts,
        "protocol": {
            **split.protocol,
            "early_stopping": "validation split"
            if config.early_stop_on_valid
            else "models hold out part of the training data (the validation split tunes the fusion)",
        },
        "quick": config.quick,
        "config": config_dict(config),
        "models": {n: results[n] for n in BENCH_NAMES if n in results},
        "environment": environment(),
        "total_seconds": time.perf_counter() - started,
    }
    report["targets"] = targets(report["models"])
    return report


def _over_budget(config: BenchConfig, started: float) -> bool:
    return config.time_budget is not None and time.perf_counter() - started > config.time_budget


def _run_fusion(
    config: BenchConfig, split: EvalSplit, fitted: dict[str, Recommender], results: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    members = _fusion_members(config, fitted)
    fusion = FusionRanker(members)
    fusion.fit(split.train)  # members are already fitted: nothing is refitted
    result = fusion.tune(split.valid, seed=config.seed, **_tuning_options(config))
    row: dict[str, Any] = {"status": "ok"}
    row["train_seconds"] = sum(results[n]["train_seconds"] for n in members) + result.seconds
    row.update(_measure(fusion, split, config))
    row["tuning_seconds"] = result.seconds
    row["fusion"] = {
        "members": list(members),
        "method": fusion.method,
        "rrf_k": fusion.rrf_k,
        "depth": fusion.depth,
        "weights": dict(zip(fusion.generator_names, fusion.weights.tolist(), strict=True)),
        "tuning": result.as_dict(),
    }
    return row


def _summary(row: dict[str, Any]) -> str:
    return (
        f"ndcg@10 {row['ndcg@10']:.4f}  recall@10 {row['recall@10']:.4f}  train {row['train_seconds']:.1f}s  "
        f"p99 {row['recommend_p99_ms']:.2f} ms  {row['batch_users_per_s']:.0f} users/s"
    )


def targets(models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The project's targets, checked on measured numbers (None when a needed model did not run)."""
    ok = {n: r for n, r in models.items() if r.get("status") == "ok"}
    singles = {n: r["ndcg@10"] for n, r in ok.items() if n != "fusion"}
    out: dict[str, Any] = {}
    if "fusion" in ok and singles:
        best = max(singles, key=lambda n: singles[n])
        gain = ok["fusion"]["ndcg@10"] / singles[best] - 1.0 if singles[best] > 0 else None
        out["fusion_vs_best_single"] = {
            "best_single": best,
            "best_single_ndcg@10": singles[best],
            "fusion_ndcg@10": ok["fusion"]["ndcg@10"],
            "relative_gain": gain,
            "met_5pct": gain is not None and gain >= 0.05,
        }
    if "als" in ok and any(g in ok for g in GNN_NAMES):
        out["gnn_beats_als"] = {g: ok[g]["ndcg@10"] > ok["als"]["ndcg@10"] for g in GNN_NAMES if g in ok}
    out["p99_under_10ms"] = {n: r["recommend_p99_ms"] < 10.0 for n, r in ok.items()}
    out["cpu_p99_under_10ms"] = {n: r["recommend_cpu_p99_ms"] < 10.0 for n, r in ok.items()}
    return out


def config_dict(config: BenchConfig) -> dict[str, Any]:
    """The configuration as JSON-friendly values."""
    out = asdict(config)
    out["dataset_dir"] = str(config.dataset_dir)
    return out
