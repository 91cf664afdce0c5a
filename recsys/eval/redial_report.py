"""The ReDial benchmark's markdown summary (the JSON is written by recsys.eval.report.write_json)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from recsys.eval.report import write_text

_COLUMNS = ("recall@1", "recall@10", "recall@50", "ndcg@10", "mrr@10")


def _row(name: str, figures: dict[str, Any]) -> str:
    cells = []
    for protocol in ("full", "dedup"):
        f = figures[protocol]
        cells += [f"{f[c]:.3f}" for c in _COLUMNS]
    return f"| {name} | " + " | ".join(cells) + " |"


def markdown(report: dict[str, Any]) -> str:
    """Results (system, baselines, ablations, published figures), fusion, protocol, timing."""
    p = report["protocol"]
    header = " | ".join(f"{proto} {c}" for proto in ("full", "dedup") for c in _COLUMNS)
    lines = [
        "# ReDial benchmark",
        "",
        f"Test: {p['test_dialogues']} dialogues, {p['test_samples']['full']} samples "
        f"({p['test_samples']['dedup']} dedup, {p['test_unknown_targets']} unknown targets counted as "
        f"misses); {p['n_ranked_items']} ranked ReDial movies. Training: {p['train_dialogues']} dialogues "
        f"(fusion tuned on {p['validation_dialogues']} of them, {p['validation_samples']['full']} samples).",
        "",
        f"| System | {header} |",
        "|---|" + "---:|" * (2 * len(_COLUMNS)),
        _row("**fusion (system)**", report),
    ]
    lines += [_row(f"baseline: {n}", f) for n, f in report["baselines"].items()]
    if "dedup_no_exclusion" in report:
        f = report["dedup_no_exclusion"]
        cells = " | ".join(f"{f[c]:.3f}" for c in _COLUMNS)
        lines.append(f"| system's full ranking on the dedup samples (nothing excluded) | {'| ' * 5}{cells} |")
    lines += [_row(f"ablation: {n}", f) for n, f in report["ablations"].items()]
    lines += ["", "Published (R@1 / R@10 / R@50; trained on all 10,006 training dialogues):", ""]
    for protocol in ("full", "dedup"):
        for name, f in report["published"][protocol].items():
            lines.append(
                f"- {protocol} {name}: {f['recall@1']:.3f} / {f['recall@10']:.3f} / {f['recall@50']:.3f}"
            )
    fusion = report["fusion"]
    weights = ", ".join(f"{n} {w:g}" for n, w in fusion["weights"].items())
    boost = fusion["boost"]
    check = fusion["check"]
    lines += [
        "",
        "## Fusion",
        "",
        f"{fusion['method']} (rrf_k {fusion['rrf_k']:g}), depth {fusion['depth']}; weights: {weights}. "
        f"Repeat boost: seeker {boost['seeker']:g}, recommender {boost['recommender']:g}, "
        f"decay {boost['decay']:g}.",
        f"Check against FusionRanker.recommend: {check.get('identical_full', 0)}/"
        f"{check.get('samples_full', 0)} full and {check.get('identical_dedup', 0)}/"
        f"{check.get('samples_dedup', 0)} dedup rankings identical.",
        "",
        "## Protocol",
        "",
        f"- samples: {p['samples']}",
        f"- full: {p['full']}",
        f"- dedup: {p['dedup']}",
        f"- {p['unknown_targets']}",
        "",
        "## Timing",
        "",
        ", ".join(f"{k} {v:.0f}s" for k, v in report["timing"].items()),
        "",
    ]
    if report.get("skipped"):
        lines += ["Skipped: " + "; ".join(f"{k}: {v}" for k, v in report["skipped"].items()), ""]
    stages = [report["generators"][s] for s in ("validation_fit", "final_fit")]
    failed = {
        n: i["error"]
        for stage in stages
        if isinstance(stage, dict)
        for n, i in stage.items()
        if i.get("status") == "failed"
    }
    if failed:
        lines += ["## Failed generators", ""] + [f"- {n}: {e}" for n, e in failed.items()] + [""]
    return "\n".join(lines)


def write_markdown(report: dict[str, Any], path: str | Path) -> Path:
    return write_text(markdown(report), path)


def protocol_block(inputs: Any, candidates: np.ndarray, tuning: Any, test: Any, k: int) -> dict[str, Any]:
    """The report's `protocol` block: definitions and counts (inputs: RedialInputs, tuning: the validation
    phase, test: the encoded test samples)."""
    n_unknown = int((test.targets < 0).sum())
    return {
        "samples": "one per movie @-mentioned in a recommender message (a movie repeated within one "
        "message counts once); the system sees only the earlier messages (texts and mentions); "
        "questionnaires are not used",
        "ranked_items": "every catalog item of a ReDial movie (movies_with_mentions.csv)",
        "n_ranked_items": len(candidates),
        "unknown_targets": f"{n_unknown} test targets have a ReDial id the catalog does not know: "
        "counted as misses",
        "full": "all samples; nothing excluded: context movies stay rankable and get a repeat boost",
        "dedup": "samples whose movie was not mentioned earlier in the dialogue; every ranking "
        "(system, baselines, ablations) excludes the context movies it knows of "
        "(`dedup_no_exclusion`: the system's full ranking scored on the same samples)",
        "k": k,
        "train_dialogues": len(inputs.train),
        "fit_dialogues": len(tuning.fit_part),
        "validation_dialogues": len(tuning.valid_part),
        "validation_samples": {"full": len(tuning.valid.samples), "dedup": int(tuning.valid.dedup.sum())},
        "test_dialogues": len(inputs.test),
        "test_samples": {"full": len(test.samples), "dedup": int(test.dedup.sum())},
        "test_unknown_targets": n_unknown,
        "files": {name: str(path) for name, path in inputs.paths.items()},
        "metadata_entries": len(inputs.metadata),
    }


def config_block(config: Any) -> dict[str, Any]:
    """The run's RedialBenchConfig as JSON-friendly values."""
    out = asdict(config)
    for key in ("train", "test", "movielens_dir", "movies", "metadata"):
        out[key] = None if out[key] is None else str(out[key])
    out["generators"] = list(config.generators)
    return out
