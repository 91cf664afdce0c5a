"""One-profile recommend latency of every candidate generator and of the fusion rankers on MovieLens.

Loads a MovieLens release once (the `crs eval movielens` split: ratings >= 3, 10-core, random 80/10/10),
fits the chosen generators on its training part, then times `recommend(profiles=[one profile], k=10)` for
`--n-profiles` random users (a user's training items as the profile's liked items, as the benchmark and
the dialogue do), after a warm-up. Reported per model: p50 / p99 / max wall-clock and p50 / p99 CPU time
in milliseconds. Two fusions are timed over the fitted generators: "fusion" (every generator, equal
weights: the worst case of `crs eval movielens`'s tuned fusion) and "fusion_dialogue" (the dialogue's
default, PageRank weighted twice + ItemKNN + KG-GNN, dialogue/system.py).

    python scripts/bench_recommend.py [--models als,bpr,ppr] [--n-profiles 500] [--quick] [--json out.json]

Wall-clock figures include time spent waiting for a core: run it on a quiet machine (the load average
before and after is printed and stored). --quick fits small models (fewer factors / epochs): fast, but
the GNN and factor models' latency depends on the embedding size, so the target is checked without it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from recsys.eval.movielens_bench import QUICK_OVERRIDES, BenchConfig, load_split  # noqa: E402
from recsys.eval.timing import LatencyStats, profile_latency  # noqa: E402
from recsys.models import registry  # noqa: E402
from recsys.models.base import Recommender  # noqa: E402
from recsys.models.fusion import FusionRanker  # noqa: E402

DEFAULT_DATASET = Path("/work/shared/data/movielens/ml-latest-small")
DIALOGUE_FUSION = {"ppr": 2.0, "itemknn": 1.0, "kg_gnn": 1.0}  # dialogue/system.py DEFAULT_GENERATORS
TARGET_MS = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset-dir", type=Path, default=DEFAULT_DATASET)
    parser.add_argument(
        "--models",
        default=",".join(registry.MODEL_NAMES),
        help=f"comma-separated generators to fit and time (default: {', '.join(registry.MODEL_NAMES)})",
    )
    parser.add_argument("--n-profiles", type=int, default=500, help="timed one-profile calls per model")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per model first")
    parser.add_argument("--quick", action="store_true", help="small models (smoke run; not for the target)")
    parser.add_argument("--no-fusion", action="store_true", help="time the generators only")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    args.model_names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.model_names if m not in registry.MODEL_NAMES]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; valid: {', '.join(registry.MODEL_NAMES)}")
    if args.n_profiles < 1 or args.warmup < 0:
        parser.error("--n-profiles must be >= 1 and --warmup >= 0")
    return args


def fit_models(
    args: argparse.Namespace, split: Any, console: Console
) -> dict[str, tuple[Recommender, float]]:
    """Fit each requested generator on the split's training data: name -> (model, fit seconds)."""
    fitted: dict[str, tuple[Recommender, float]] = {}
    for name in args.model_names:
        params: dict[str, Any] = {}
        if args.quick:
            accepted = registry.parameters(name)
            params = {k: v for k, v in QUICK_OVERRIDES.get(name, {}).items() if k in accepted}
        model = registry.create(name, seed=args.seed, **params)
        console.print(f"fitting {name} ...")
        start = time.perf_counter()
        model.fit(split.train)
        fitted[name] = (model, time.perf_counter() - start)
    return fitted


def fusions(fitted: dict[str, tuple[Recommender, float]]) -> dict[str, FusionRanker]:
    """The equal-weight fusion of every fitted generator, and the dialogue's fusion when its members ran."""
    models = {n: m for n, (m, _) in fitted.items()}
    out: dict[str, FusionRanker] = {}
    if len(models) > 1:
        out["fusion"] = FusionRanker(models).fit(next(iter(models.values())).data)
    if all(n in models for n in DIALOGUE_FUSION):
        members = {n: models[n] for n in DIALOGUE_FUSION}
        out["fusion_dialogue"] = FusionRanker(members, weights=DIALOGUE_FUSION).fit(members["ppr"].data)
    return out


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    split, facts = load_split(BenchConfig(dataset_dir=args.dataset_dir, seed=args.seed))
    p = split.protocol
    console.print(
        f"{facts['path']}: {p['n_users']} users, {p['n_items']} items, {p['n_interactions']} positives"
    )
    fitted = fit_models(args, split, console)
    timed: dict[str, Recommender] = {n: m for n, (m, _) in fitted.items()}
    if not args.no_fusion:
        timed.update(fusions(fitted))
    load_before = load_average()
    stats: dict[str, LatencyStats] = {}
    for name, model in timed.items():
        console.print(f"timing {name} ({args.n_profiles} profiles) ...")
        stats[name] = profile_latency(
            model, split.train.user_items, n_users=args.n_profiles, warmup=args.warmup, seed=args.seed
        )
    load_after = load_average()

    table = Table(title=f"one-profile recommend, k=10, {args.n_profiles} profiles (ms)")
    for col in ("model", "fit s", "p50", "p99", "max", "cpu p50", "cpu p99", f"p99 < {TARGET_MS:g}"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, s in stats.items():
        fit_s = f"{fitted[name][1]:.1f}" if name in fitted else "-"
        ok = "yes" if s.p99_ms < TARGET_MS else "[red]NO[/]"
        table.add_row(
            name, fit_s, *(f"{v:.2f}" for v in (s.p50_ms, s.p99_ms, s.max_ms, s.cpu_p50_ms, s.cpu_p99_ms)), ok
        )
    Console().print(table)
    console.print(f"load average (1, 5, 15 min): before timing {load_before}, after {load_after}")
    if args.json:
        report = {
            "dataset": facts["path"],
            "quick": args.quick,
            "n_profiles": args.n_profiles,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "fit_seconds": {n: round(s, 3) for n, (_, s) in fitted.items()},
            "latency_ms": {n: s.as_dict() for n, s in stats.items()},
        }
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if all(s.p99_ms < TARGET_MS for s in stats.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
