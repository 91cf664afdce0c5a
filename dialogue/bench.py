"""Benchmarks of the dialogue system on the real data (run once, by hand; results go in the report).

python -m dialogue.bench turns [--sessions 40] [--models itemknn,ppr,kg_gnn] [--output out.json]
    Latency of whole turns (understanding + state in Redis + policy + recommendation + reply; no LLM)
    on the shared catalog with the embedded Redis: p50 / p90 / p99 / max, overall and per action.
    Scripted sessions mix likes, dislikes, critiques, questions, "why?" and rejections; the first
    session warms up (model loads) and is not counted.

python -m dialogue.bench generators [--users 400] [--models ...] [--output out.json]
    Which generators the dialogue's fusion should combine: held-out ReDial dialogues (their
    dialogues are removed from the training data, co-mentions included), the seeker's liked movies
    minus one as the profile, the held-out one as the target: HR@10, NDCG@10, latency per profile,
    fit time, for each generator alone, for equal-weight fusions of them, and for the weighted
    fusions given with --weighted "ppr=2,itemknn=1;...".
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50 / p90 / p99 / max / mean of millisecond samples (nearest-rank percentiles)."""
    data = sorted(samples_ms)
    if not data:
        return {}

    def rank(p: float) -> float:
        return data[min(len(data) - 1, max(0, int(np.ceil(p / 100 * len(data))) - 1))]

    return {
        "n": len(data),
        "p50": round(rank(50), 2),
        "p90": round(rank(90), 2),
        "p99": round(rank(99), 2),
        "max": round(data[-1], 2),
        "mean": round(statistics.fmean(data), 2),
    }


# ---------------------------------------------------------------------- turn latency
def _script(rng: random.Random, titles: Sequence[str]) -> list[str]:
    """One scripted session: openers, likes, dislikes, critiques, questions, rejections, goodbye."""
    liked, other = rng.sample(list(titles), 2)
    genre = rng.choice(["comedy", "drama", "action", "sci-fi", "thriller", "romance"])
    avoid = rng.choice(["horror", "musicals", "westerns", "war movies"])
    return [
        rng.choice(["hi", "hello there", "can you recommend a movie?"]),
        f"I like {genre} but not {avoid}",
        f"I loved {liked}",
        rng.choice(["something more recent", "less violent please", "something funnier", "older ones"]),
        "why the first one?",
        "not the second one",
        f"I didn't like {other}",
        "show me more",
        "tell me about the first one",
        "bye",
    ]


def bench_turns(sessions: int = 40, models: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Turn latency on the shared data (see the module docstring)."""
    from dialogue.system import build_manager, load_model_config, train_models

    started = time.perf_counter()
    config = load_model_config(models=models) if models else None
    trained = train_models(config=config, progress=True)
    manager = build_manager(trained=trained, llm=False)  # turn latency without the language model
    setup_s = time.perf_counter() - started
    titles = [manager.catalog[int(i)].title for i in manager.index.by_popularity[:500]]
    rng = random.Random(seed)
    samples: dict[str, list[float]] = defaultdict(list)
    overall: list[float] = []
    cpu: list[float] = []  # this process's CPU time per turn (without waiting for the CPU or Redis)
    created: list[str] = []
    spent: dict[str, float] = defaultdict(float)  # milliseconds inside each part during the current turn
    parts: dict[str, list[float]] = defaultdict(list)
    _timed(manager.ranker, "rank", "ranking", spent)
    _timed(manager.extractor, "extract", "understanding", spent)
    for name in (
        "load_state",
        "load_state_for_turn",
        "give_back_turn",
        "next_turn",
        "append_events",
        "merge_session",
        "get_profile",
    ):
        _timed(manager.store, name, "redis", spent)
    try:
        for s in range(sessions + 1):
            sid = manager.start_session(user_id=f"bench-{seed}-{s}" if s % 2 else None)
            created.append(sid)
            for text in _script(rng, titles):
                spent.clear()
                t0, c0 = time.perf_counter(), time.process_time()
                result = manager.turn(sid, text)
                ms = (time.perf_counter() - t0) * 1000
                if s > 0:  # session 0 warms up
                    samples[result.action].append(ms)
                    overall.append(ms)
                    cpu.append((time.process_time() - c0) * 1000)
                    for part in ("ranking", "understanding", "redis"):
                        parts[part].append(spent[part])
                    parts["rest"].append(ms - sum(spent.values()))
    finally:
        for sid in created:
            manager.store.delete_session(sid)
        for s in range(sessions + 1):
            if s % 2:
                manager.store.delete_user(f"bench-{seed}-{s}")
    return {
        "catalog_items": len(manager.catalog),
        "generators": list(manager.recommender.generators),
        "setup_seconds": round(setup_s, 2),
        "models_built": trained.built,
        "turns": percentiles(overall),
        "turns_cpu_ms": percentiles(cpu),
        "by_action": {action: percentiles(v) for action, v in sorted(samples.items())},
        "parts_ms": {part: percentiles(v) for part, v in parts.items()},
        "load_average": list(os.getloadavg()),
        "cpus": os.cpu_count(),
    }


def _timed(obj: Any, method: str, part: str, spent: dict[str, float]) -> None:
    """Wrap `obj.method` (an instance attribute shadowing the bound method) to add its time to spent[part]."""
    inner = getattr(obj, method)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[part] += (time.perf_counter() - t0) * 1000

    setattr(obj, method, wrapper)


# ---------------------------------------------------------------------- generator choice
def _held_out_data(n_users: int, seed: int) -> tuple[Any, list[set[int]]]:
    """TrainData without `n_users` held-out ReDial dialogues, and those dialogues' seeker positives."""
    from recsys.catalog.pipeline import DatasetPaths, prepare_dialogue_data
    from recsys.catalog.train_data import build_train_data, seeker_positives
    from recsys.data.movielens import load_movielens
    from recsys.data.redial import load_redial_dialogues
    from recsys.settings import get_settings

    settings = get_settings()
    prepared = prepare_dialogue_data(settings)
    catalog = prepared.catalog
    paths = DatasetPaths.from_settings(settings)
    if paths.redial_dialogues is None:
        raise SystemExit("train_data.jsonl is needed for the generator benchmark")
    dialogues = load_redial_dialogues(paths.redial_dialogues)
    rng = random.Random(seed)

    def positives(d: Any) -> set[int]:
        return {i for r in seeker_positives(d) if (i := catalog.from_redial(r)) is not None}

    eligible = [d for d in dialogues if len(positives(d)) >= 3]
    held = rng.sample(eligible, min(n_users, len(eligible)))
    held_ids = {d.conversation_id for d in held}
    kept = [d for d in dialogues if d.conversation_id not in held_ids]
    data = build_train_data(catalog, load_movielens(paths.movielens_dir).interactions, kept)
    return data, [positives(d) for d in held]


def _weighted(spec: str) -> list[dict[str, float]]:
    """ "ppr=2,itemknn=1;ppr=1,kg_gnn=1" -> [{"ppr": 2, "itemknn": 1}, {"ppr": 1, "kg_gnn": 1}]."""
    out = []
    for combo in filter(None, (c.strip() for c in spec.split(";"))):
        weights = {}
        for part in combo.split(","):
            name, _, value = part.partition("=")
            weights[name.strip()] = float(value or 1.0)
        out.append(weights)
    return out


def bench_generators(
    n_users: int = 400, models: str = "itemknn,ppr,kg_gnn", seed: int = 0, weighted: str = ""
) -> dict[str, Any]:
    """HR@10 / NDCG@10 of each generator and of fusions, on held-out dialogues (module docstring)."""
    from itertools import combinations

    from dialogue.system import ModelConfig, fit_fusion
    from recsys.models.fusion import FusionRanker
    from recsys.models.types import Profile

    data, held = _held_out_data(n_users, seed)
    rng = np.random.default_rng(seed)
    queries = []
    for pos in held:
        items = sorted(pos)
        target = int(items[rng.integers(len(items))])
        queries.append((Profile(liked_items=tuple(i for i in items if i != target)), target))
    trained = fit_fusion(data, ModelConfig.from_names(models), progress=True)
    gens = trained.recommender.generators
    names = list(gens)
    combos: list[dict[str, float]] = [{n: 1.0} for n in names]
    combos += [dict.fromkeys(c, 1.0) for r in range(2, len(names) + 1) for c in combinations(names, r)]
    combos += _weighted(weighted)
    report: dict[str, Any] = {"users": len(queries), "fit_seconds": trained.fit_seconds, "results": {}}
    for combo in combos:
        label = "+".join(n if w == 1.0 else f"{n}*{w:g}" for n, w in combo.items())
        if len(combo) == 1:
            model = gens[next(iter(combo))]
        else:
            model = FusionRanker({n: gens[n] for n in combo}, weights=combo).fit(data)
        hits, ndcg, times = [], [], []
        for profile, target in queries:
            t0 = time.perf_counter()
            items = model.recommend(profiles=[profile], k=10)[0].items.tolist()
            times.append((time.perf_counter() - t0) * 1000)
            rank = items.index(target) + 1 if target in items else 0
            hits.append(1.0 if rank else 0.0)
            ndcg.append(1.0 / np.log2(rank + 1) if rank else 0.0)
        report["results"][label] = {
            "hr@10": round(float(np.mean(hits)), 4),
            "ndcg@10": round(float(np.mean(ndcg)), 4),
            "latency_ms": percentiles(times),
        }
        print(f"{label:34s} {report['results'][label]}", file=sys.stderr, flush=True)
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dialogue.bench", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    turns = sub.add_parser("turns", help="turn latency on the shared data")
    turns.add_argument("--sessions", type=int, default=40)
    turns.add_argument("--models", default=None, help="generators, e.g. itemknn,ppr (default: the system's)")
    gens = sub.add_parser("generators", help="which generators to fuse")
    gens.add_argument("--users", type=int, default=400)
    gens.add_argument("--models", default="itemknn,ppr,kg_gnn")
    gens.add_argument("--weighted", default="", help='extra weighted fusions: "ppr=2,itemknn=1;..."')
    for p in (turns, gens):
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--output", type=Path, default=None, help="also write the JSON report here")
    args = parser.parse_args(argv)
    if args.command == "turns":
        report = bench_turns(args.sessions, args.models, args.seed)
    else:
        report = bench_generators(args.users, args.models, args.seed, args.weighted)
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
