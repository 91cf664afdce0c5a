"""One figure over several A/B reports: a panel per report with both arms' success-by-turn curves and
their 95% Wilson bands (the README's overview of the held-out runs).

    python -m dialogue.simulation.overview OUT.png bench-results/simulation/heldout ...
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recsys.errors import DataError


def load_report(directory: Path) -> dict[str, Any]:
    """`directory/report.json`; DataError when it is missing or not a report."""
    path = Path(directory) / "report.json"
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the report: {exc}", path=path) from exc
    if not isinstance(report, dict) or "arms" not in report or "run" not in report:
        raise DataError("not an A/B simulation report (no 'arms' / 'run')", path=path)
    return report


def panel_title(report: dict[str, Any]) -> str:
    """ "<users source> users, <difficulty> user (n = N)"."""
    data = report["run"].get("data", {})
    source = "MovieLens" if "movielens_dir" in data else "ReDial"
    difficulty = report["run"].get("difficulty", {}).get("name", "default")
    return f"{source} held-out users, {difficulty} user (n = {report['run']['users']})"


def arm_label(arm: dict[str, Any], key: str) -> str:
    config = arm.get("config", {})
    return f"{key.upper()}: {config.get('source') or config.get('url') or key}"


def overview(directories: Sequence[Path], out: Path) -> Path:
    """Write the overview PNG of the reports in `directories` to `out`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports = [load_report(d) for d in directories]
    if not reports:
        raise ValueError("no report to plot")
    cols = 2 if len(reports) > 1 else 1
    rows = math.ceil(len(reports) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 3.8 * rows), squeeze=False, sharey=True)
    for ax, report in zip(axes.flat, reports, strict=False):
        turns = report["run"]["turns"]
        xs = list(range(1, turns + 1))
        for key, color in (("a", "tab:blue"), ("b", "tab:orange")):
            arm = report["arms"][key]
            ax.plot(xs, arm["success_by_turn"], marker="o", color=color, label=arm_label(arm, key))
            low, high = arm["success_by_turn_ci95_low"], arm["success_by_turn_ci95_high"]
            ax.fill_between(xs, low, high, color=color, alpha=0.2)
        c = report["comparison"]
        ax.set_title(
            f"{panel_title(report)}\nB - A = {c['success_diff']:+.2f}, p = {c['p_value_success']:.2g}"
        )
        ax.set(xlabel="user turn", ylim=(0, 1), xticks=xs)
        ax.legend(loc="upper left", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("success rate (cumulative)")
    for ax in list(axes.flat)[len(reports) :]:
        ax.axis("off")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(overview([Path(d) for d in argv[1:]], Path(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
