"""Does the LLM re-ranking help? Measured on held-out ReDial dialogues and in the user simulator.

Both modes hold out `--users` ReDial training dialogues (their conversations removed from the training
data, co-mentions included, as in `python -m dialogue.bench generators`) and fit the fusion (default
`ppr,itemknn`, the cheap part of the system's default) on the rest, so nothing evaluated was seen.

python -m dialogue.llm.rerank_eval redial [--users 40] [--k 10]
    Offline: the seeker's liked movies minus one are the profile (its template text is the profile text),
    the held-out one the target. The fused top-k is judged once by the LLM (P(yes) per candidate) and
    re-ranked for several weights of P(yes) (0 = the fused order), reporting HR@1 / HR@3 / HR@5 /
    MRR@k / NDCG@k (HR@k cannot change: the re-ranker only re-orders the list) and how often the
    target's P(yes) beats the other candidates' (pairwise AUC; 0.5 = no signal).

python -m dialogue.llm.rerank_eval simulate [--users 15] [--max-turns 8]
    Online: the held-out dialogues become simulated users (dialogue.simulation), each talking to the
    system without and with the LLM re-ranking (weight --weight, top-10 judged), paired by user:
    success rate, mean turns to success, Recall@k (dialogue.simulation.stats.arm_metrics).

Slow on purpose-small N: judging costs ~0.5 s per candidate on the 2 shared cores. Results are printed and
written as JSON (--output, default <artifacts>/bench/rerank_<mode>.json).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)


def _held_out(n_users: int, seed: int) -> tuple[Any, Any, list[Any], list[set[int]]]:
    """(catalog, TrainData without the held-out dialogues, the held-out dialogues, their positives)."""
    from recsys.catalog.pipeline import DatasetPaths, prepare_dialogue_data
    from recsys.catalog.train_data import build_train_data, seeker_positives
    from recsys.data.movielens import load_movielens
    from recsys.data.redial import load_redial_dialogues
    from recsys.settings import get_settings

    settings = get_settings()
    catalog = prepare_dialogue_data(settings).catalog
    paths = DatasetPaths.from_settings(settings)
    if paths.redial_dialogues is None:
        raise SystemExit("train_data.jsonl is needed")
    dialogues = load_redial_dialogues(paths.redial_dialogues)

    def positives(d: Any) -> set[int]:
        return {i for r in seeker_positives(d) if (i := catalog.from_redial(r)) is not None}

    eligible = [d for d in dialogues if len(positives(d)) >= 3]
    held = random.Random(seed).sample(eligible, min(n_users, len(eligible)))
    held_ids = {d.conversation_id for d in held}
    kept = [d for d in dialogues if d.conversation_id not in held_ids]
    data = build_train_data(catalog, load_movielens(paths.movielens_dir).interactions, kept)
    return catalog, data, held, [positives(d) for d in held]


def _fit(data: Any, models: str) -> Any:
    from dialogue.system import ModelConfig, fit_fusion

    return fit_fusion(data, ModelConfig.from_names(models), progress=True).recommender


def _runtime() -> Any:
    from dialogue.llm.runtime import LLMConfig, LLMRuntime

    runtime = LLMRuntime(LLMConfig.from_settings(timeout_seconds=600.0))
    runtime.warm_up()
    return runtime


def ranking_metrics(order: Sequence[int], target: int, k: int) -> dict[str, float]:
    """HR@1/3/5, MRR@k and NDCG@k of one list."""
    rank = list(order[:k]).index(target) + 1 if target in order[:k] else 0
    out = {f"hr@{n}": float(0 < rank <= n) for n in (1, 3, 5)}
    out[f"mrr@{k}"] = 1.0 / rank if rank else 0.0
    out[f"ndcg@{k}"] = 1.0 / math.log2(rank + 1) if rank else 0.0
    return out


def blended_order(
    items: Sequence[int], fused: Sequence[float], p_yes: Sequence[float], weight: float
) -> list[int]:
    """The re-ranker's order for `weight` (dialogue.llm.rerank: min-max scaled fused score blended with
    P(yes); ties keep the fused order)."""
    low, high = min(fused), max(fused)
    scaled = [1.0 if high - low < 1e-12 else (s - low) / (high - low) for s in fused]
    combined = [(1 - weight) * s + weight * p for s, p in zip(scaled, p_yes, strict=True)]
    return [items[i] for i in sorted(range(len(items)), key=lambda i: (-combined[i], i))]


def run_redial(users: int, k: int, models: str, seed: int) -> dict[str, Any]:
    """The offline measurement (module docstring)."""
    from dialogue.llm.profile_text import TypedPreferences, template_profile
    from dialogue.llm.rerank import judgement_prompt
    from dialogue.llm.types import Fallback
    from recsys.models.types import Profile

    catalog, data, _held, positives = _held_out(users, seed)
    recommender = _fit(data, models)
    runtime = _runtime()
    rng = np.random.default_rng(seed)
    per_weight: dict[float, list[dict[str, float]]] = {w: [] for w in WEIGHTS}
    pairs_won = pairs = in_list = 0
    seconds: list[float] = []
    for pos in tqdm(positives, desc="held-out users", unit="user"):
        items = sorted(pos)
        target = int(items[rng.integers(len(items))])
        liked = tuple(i for i in items if i != target)
        recs = recommender.recommend(profiles=[Profile(liked_items=liked)], k=k, exclude=[np.array(liked)])[0]
        ids, fused = recs.items.tolist(), recs.scores.tolist()
        text = template_profile(TypedPreferences(liked_items=tuple(catalog[i] for i in liked)))
        result = runtime.score_options([judgement_prompt(catalog[i], text) for i in ids], ("Yes", "No"))
        if isinstance(result, Fallback):
            raise SystemExit(f"the LLM did not answer: {result}")
        seconds.append(result.seconds)
        p_yes = [1.0 / (1.0 + math.exp(no - yes)) for yes, no in result.logprobs]
        if target in ids:
            in_list += 1
            t = ids.index(target)
            others = [p for j, p in enumerate(p_yes) if j != t]
            pairs += len(others)
            pairs_won += sum(1.0 if p_yes[t] > p else 0.5 if p_yes[t] == p else 0.0 for p in others)
        for w in WEIGHTS:
            per_weight[w].append(ranking_metrics(blended_order(ids, fused, p_yes, w), target, k))
    runtime.close()
    table = {
        f"weight={w:g}": {m: round(float(np.mean([r[m] for r in rows])), 4) for m in rows[0]}
        for w, rows in per_weight.items()
    }
    return {
        "mode": "redial-held-out",
        "users": len(positives),
        "k": k,
        "models": models,
        "targets_in_top_k": in_list,
        "pairwise_auc_target_vs_others": round(pairs_won / pairs, 4) if pairs else None,
        "judge_seconds_per_list_median": round(float(np.median(seconds)), 2),
        "metrics": table,
    }


def run_simulation(users: int, max_turns: int, models: str, weight: float, seed: int) -> dict[str, Any]:
    """The online measurement (module docstring)."""
    from dialogue.llm.rerank import LLMReranker
    from dialogue.manager import DialogueManager
    from dialogue.simulation.runner import run_paired
    from dialogue.simulation.simulator import ManagerClient
    from dialogue.simulation.stats import arm_metrics
    from dialogue.simulation.users import users_from_dialogues
    from dialogue.store.redis_store import StateStore
    from dialogue.understanding import RuleExtractor

    catalog, data, held, _ = _held_out(users, seed)
    recommender = _fit(data, models)
    runtime = _runtime()
    extractor = RuleExtractor(catalog, use_embeddings=False)
    store = StateStore.from_settings()
    plain = DialogueManager(recommender, extractor, store, catalog, "default")
    refined = DialogueManager(
        recommender,
        extractor,
        store,
        catalog,
        "default",
        index=plain.index,
        reranker=LLMReranker(runtime, weight=weight, max_candidates=10),
    )
    simulated = users_from_dialogues(held, catalog).users
    started = time.perf_counter()
    out_a, out_b = run_paired(
        simulated, ManagerClient(plain), ManagerClient(refined), catalog, max_turns=max_turns, seed=seed
    )
    runtime.close()
    return {
        "mode": "simulation",
        "users": len(simulated),
        "max_turns": max_turns,
        "models": models,
        "rerank_weight": weight,
        "seconds": round(time.perf_counter() - started, 1),
        "without_llm_rerank": arm_metrics(out_a, max_turns),
        "with_llm_rerank": arm_metrics(out_b, max_turns),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m dialogue.llm.rerank_eval", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    redial = sub.add_parser("redial", help="offline, held-out ReDial dialogues")
    redial.add_argument("--users", type=int, default=40)
    redial.add_argument("--k", type=int, default=10)
    sim = sub.add_parser("simulate", help="paired user simulation with and without the re-ranking")
    sim.add_argument("--users", type=int, default=15)
    sim.add_argument("--max-turns", type=int, default=8)
    sim.add_argument("--weight", type=float, default=0.3)
    for p in (redial, sim):
        p.add_argument("--models", default="ppr,itemknn")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.mode == "redial":
        report = run_redial(args.users, args.k, args.models, args.seed)
    else:
        report = run_simulation(args.users, args.max_turns, args.models, args.weight, args.seed)
    text = json.dumps(report, indent=2)
    print(text)
    from recsys.settings import get_settings

    out = args.output or get_settings().artifacts_dir / "bench" / f"rerank_{args.mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
