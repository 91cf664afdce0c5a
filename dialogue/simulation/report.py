"""The A/B report: report.json (the contract), report.md, per-user outcomes.jsonl and PNG plots.

report.json: `arms` -> {`a`, `b`} -> {config, metrics: success_rate, mean_turns, ...} (the metrics are
also at the arm's top level), `comparison` (stats.compare), `run` (seed, users, turns, versions, data
fingerprint). Wall-clock times live apart, in `timings`, so that one seed gives one report otherwise.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from dialogue.simulation.simulator import DEFAULT_DIFFICULTY, Difficulty, Outcome
from dialogue.simulation.stats import arm_metrics, compare
from dialogue.simulation.users import SimulatedUser


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("crs", "numpy", "scipy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def _sha256_tree(path: Path) -> str:
    """sha256 of a file, or of a directory's files (names and contents, sorted; symlinks followed)."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        h.update(file.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        with file.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def fingerprint(users: Sequence[SimulatedUser], source: Path | None = None) -> dict[str, Any]:
    """Hashes of the users' source (a dialogue file or a MovieLens directory) and of the simulated users
    (ids, targets, openings)."""
    h = hashlib.sha256()
    for u in users:
        h.update(json.dumps(u.to_dict(), sort_keys=True).encode())
    out: dict[str, Any] = {"users_sha256": h.hexdigest()[:16]}
    if source is not None:
        source = Path(source)
        kind = "movielens_dir" if source.is_dir() else "dialogues_file"
        out[kind] = str(source)
        out[kind.replace("_dir", "").replace("_file", "") + "_sha256"] = _sha256_tree(source)
    return out


def build_report(
    a: Sequence[Outcome],
    b: Sequence[Outcome],
    *,
    configs: Mapping[str, Any],
    users: Sequence[SimulatedUser],
    max_turns: int,
    seed: int,
    source: Path | None = None,
    timings: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    difficulty: Difficulty = DEFAULT_DIFFICULTY,
) -> dict[str, Any]:
    """Every figure of a paired run (module docstring); `extra` adds keys to `run`."""
    arms = {}
    for key, outcomes in (("a", a), ("b", b)):
        metrics = arm_metrics(outcomes, max_turns)
        arms[key] = {**metrics, "config": configs[key]}
    return {
        "arms": arms,
        "comparison": compare(a, b, max_turns, seed),
        "run": {
            "seed": seed,
            "users": len(users),
            "turns": max_turns,
            "difficulty": difficulty.to_dict(),
            "versions": versions(),
            "data": fingerprint(users, source),
            **(extra or {}),
        },
        "timings": dict(timings or {}),
    }


def _markdown(report: Mapping[str, Any]) -> str:
    a, b, c, run = report["arms"]["a"], report["arms"]["b"], report["comparison"], report["run"]
    difficulty = run.get("difficulty", {}).get("name", "default")

    def name(arm: Mapping[str, Any]) -> str:
        cfg = arm["config"]
        return cfg.get("url") or cfg.get("source") or "?"

    rows = [
        ("success rate", "success_rate"),
        ("mean turns to success", "mean_turns"),
        ("mean turns (failure = T+1)", "mean_turns_with_failures"),
        ("Recall@k of the last list", "recall_at_k_last"),
        ("rejections / dialogue", "rejections_per_dialogue"),
        ("questions / dialogue", "questions_per_dialogue"),
    ]
    lines = [
        "# A/B simulation report",
        "",
        f"A = `{name(a)}`, B = `{name(b)}`; {run['users']} simulated users, T = {run['turns']} turns, "
        f"seed {run['seed']}, simulated-user difficulty `{difficulty}`.",
        "",
        f"**{c['conclusion']}**",
        "",
        "| metric | A | B |",
        "|---|---|---|",
        *[f"| {label} | {a[key]} | {b[key]} |" for label, key in rows],
        *[
            f"| success by turn {t + 1} | {x} | {y} |"
            for t, (x, y) in enumerate(zip(a["success_by_turn"], b["success_by_turn"], strict=True))
        ],
        "",
        "## Paired comparison (B - A)",
        "",
        f"- success difference: {c['success_diff']} (95% paired bootstrap CI {c['success_diff_ci95']})",
        f"- McNemar exact p = {c['p_value_success']} (discordant: B only {c['discordant']['b_only']}, "
        f"A only {c['discordant']['a_only']})",
        f"- Wilcoxon signed-rank on turns (failure = T+1): p = {c['p_value_turns_wilcoxon']}",
        f"- Cohen's h = {c['cohens_h']}; discordant odds ratio = {c['discordant_odds_ratio']}",
        f"- users needed for 80% power at this effect: {c['users_needed_80_power']}",
        "",
        "![success by turn](success_by_turn.png) ![turns](turns_histogram.png)",
        "",
    ]
    return "\n".join(lines)


def _plots(report: Mapping[str, Any], a: Sequence[Outcome], b: Sequence[Outcome], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    turns = report["run"]["turns"]
    xs = list(range(1, turns + 1))
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, color in (("a", "tab:blue"), ("b", "tab:orange")):
        arm = report["arms"][key]
        ax.plot(xs, arm["success_by_turn"], marker="o", color=color, label=f"{key.upper()}")
        ax.fill_between(
            xs, arm["success_by_turn_ci95_low"], arm["success_by_turn_ci95_high"], color=color, alpha=0.2
        )
    ax.set(xlabel="user turn", ylabel="success rate (cumulative)", title="Success by turn (95% Wilson bands)")
    ax.set_ylim(0, 1)
    ax.set_xticks(xs)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "success_by_turn.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = [x - 0.5 for x in range(1, turns + 3)]
    ax.hist(
        [[o.turns_or_penalty(turns) for o in a], [o.turns_or_penalty(turns) for o in b]],
        bins=bins,
        label=["A", "B"],
    )
    ax.set(xlabel=f"turns to success ({turns + 1} = failure)", ylabel="users", title="Turns to success")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "turns_histogram.png", dpi=100)
    plt.close(fig)


def write_report(report: Mapping[str, Any], a: Sequence[Outcome], b: Sequence[Outcome], out: Path) -> None:
    """report.json, report.md, outcomes.jsonl and the plots into `out` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    (out / "report.md").write_text(_markdown(report))
    with (out / "outcomes.jsonl").open("w") as f:
        for arm, outcomes in (("a", a), ("b", b)):
            for o in outcomes:
                row = {"arm": arm, **{k: v for k, v in vars(o).items()}}
                f.write(json.dumps(row) + "\n")
    _plots(report, a, b, out)
