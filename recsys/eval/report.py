"""Benchmark reports: the JSON file, a markdown summary and a PNG chart (matplotlib, Agg backend)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

_COLUMNS = (
    ("recall@10", "Recall@10", "{:.4f}"),
    ("ndcg@10", "NDCG@10", "{:.4f}"),
    ("recall@20", "Recall@20", "{:.4f}"),
    ("ndcg@20", "NDCG@20", "{:.4f}"),
    ("mrr@10", "MRR@10", "{:.4f}"),
    ("coverage@10", "Cov@10", "{:.3f}"),
    ("mean_popularity@10", "Pop@10", "{:.1f}"),
    ("train_seconds", "Train s", "{:.1f}"),
    ("recommend_p50_ms", "p50 ms", "{:.2f}"),
    ("recommend_p99_ms", "p99 ms", "{:.2f}"),
    ("recommend_cpu_p99_ms", "CPU p99 ms", "{:.2f}"),
    ("batch_users_per_s", "Users/s", "{:.0f}"),
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(report: dict[str, Any], path: str | Path) -> Path:
    """Write the report as indented JSON (NaN / inf become null); parent directories are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(report), indent=2) + "\n", encoding="utf-8")
    return path


def markdown(report: dict[str, Any]) -> str:
    """A human-readable summary: results table, targets, fusion tuning, protocol and environment."""
    p = report["protocol"]
    lines = [
        f"# MovieLens benchmark: {Path(report['dataset']['path']).name}",
        "",
        f"Protocol: {p['split']}, ratings >= {p['threshold']} as positives, {p['core']}-core, "
        f"seed {p['seed']}; "
        f"{p['n_users']} users, {p['n_items']} items, {p['n_interactions']} interactions "
        f"(train {p['n_train']}, valid {p['n_valid']}, test {p['n_test']}); {p['ranking']}.",
        "",
        "| Model | " + " | ".join(title for _, title, _ in _COLUMNS) + " |",
        "|---|" + "---:|" * len(_COLUMNS),
    ]
    for name, row in report["models"].items():
        if row.get("status") != "ok":
            lines.append(f"| {name} | {row.get('status')}: {row.get('error') or row.get('reason', '')} |")
            continue
        cells = [fmt.format(row[key]) if row.get(key) is not None else "-" for key, _, fmt in _COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Targets", ""]
    t = report.get("targets", {})
    fvb = t.get("fusion_vs_best_single")
    if fvb:
        gain = fvb["relative_gain"]
        lines.append(
            f"- Fusion vs best single model ({fvb['best_single']}): NDCG@10 {fvb['fusion_ndcg@10']:.4f} vs "
            f"{fvb['best_single_ndcg@10']:.4f} ({gain:+.1%}); "
            f"target +5%: {'met' if fvb['met_5pct'] else 'NOT met'}"
        )
    for gnn, ok in t.get("gnn_beats_als", {}).items():
        lines.append(f"- {gnn} beats ALS on NDCG@10: {'yes' if ok else 'no'}")
    for key, clock in (("p99_under_10ms", "wall clock"), ("cpu_p99_under_10ms", "CPU time")):
        slow = [n for n, ok in t.get(key, {}).items() if not ok]
        verdict = "met by all models" if not slow else "not met by " + ", ".join(slow)
        lines.append(f"- One-profile recommend p99 < 10 ms ({clock}): {verdict}")
    fusion = report["models"].get("fusion", {}).get("fusion")
    if fusion:
        tuning = fusion["tuning"]
        lines += [
            "",
            "## Fusion",
            "",
            f"Members: {', '.join(fusion['members'])}. Chosen on validation {tuning['metric']} "
            f"({tuning['n_users']} users): **{tuning['chosen']['label']}**, weights "
            + ", ".join(f"{n} {w:g}" for n, w in fusion["weights"].items())
            + ".",
            "",
            "| Candidate | validation " + tuning["metric"] + " |",
            "|---|---:|",
        ]
        lines += [f"| {n} alone | {s:.4f} |" for n, s in tuning["singles"].items()]
        lines += [f"| {c['label']} | {c['score']:.4f} |" for c in tuning["candidates"]]
    env = report["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    lines += [
        "",
        "## Environment",
        "",
        f"Python {env['python']} on {env['platform']}, {env['usable_cores']} usable cores; {versions}. "
        f"Total run time {report['total_seconds']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def write_text(text: str, path: str | Path) -> Path:
    """Write a report file (UTF-8), creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_markdown(report: dict[str, Any], path: str | Path) -> Path:
    return write_text(markdown(report), path)


def write_png(report: dict[str, Any], path: str | Path) -> Path:
    """Bar charts: Recall@10 / NDCG@10 per model, and one-profile p99 latency against the 10 ms target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {n: r for n, r in report["models"].items() if r.get("status") == "ok"}
    names = list(rows)
    x = np.arange(len(names))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    for offset, key in ((-0.2, "recall@10"), (0.2, "ndcg@10")):
        ax1.bar(x + offset, [rows[n][key] for n in names], width=0.4, label=key)
    ax1.set_xticks(x, names, rotation=30, ha="right")
    ax1.set_title("Accuracy on the test split")
    ax1.legend()
    for offset, key, label in (
        (-0.2, "recommend_p99_ms", "wall clock"),
        (0.2, "recommend_cpu_p99_ms", "CPU time"),
    ):
        values = [rows[n].get(key) or np.nan for n in names]
        ax2.bar(x + offset, values, width=0.4, label=label)
    ax2.axhline(10.0, color="tab:red", linestyle="--", label="10 ms target")
    ax2.set_xticks(x, names, rotation=30, ha="right")
    ax2.set_yscale("log")
    ax2.set_ylabel("ms")
    ax2.set_title("One-profile recommend latency (p99)")
    ax2.legend()
    fig.suptitle(f"MovieLens {Path(report['dataset']['path']).name} ({report['protocol']['split']})")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
