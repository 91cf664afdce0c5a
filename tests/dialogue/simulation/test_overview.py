"""The overview figure over several reports: titles from the run metadata, clear errors, a PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dialogue.simulation.overview import load_report, main, overview, panel_title
from dialogue.simulation.report import build_report, write_report
from dialogue.simulation.simulator import DIFFICULTIES, Outcome
from dialogue.simulation.users import make_user
from recsys.errors import DataError
from tests.dialogue.simulation.test_users import CATALOG


def _write(out: Path, difficulty: str, source: Path | None = None) -> Path:
    users = [make_user(f"u{i}", CATALOG, [i % 3], "Hi") for i in range(40)]
    a = [Outcome(u.user_id, i % 2 == 0, 1 if i % 2 == 0 else None, 2, 0, 1, 0.0) for i, u in enumerate(users)]
    b = [Outcome(u.user_id, False, None, 3, 0, 3, 0.0) for u in users]
    configs = {"a": {"source": "default"}, "b": {"source": "popularity"}}
    report = build_report(
        a,
        b,
        configs=configs,
        users=users,
        max_turns=3,
        seed=0,
        source=source,
        difficulty=DIFFICULTIES[difficulty],
    )
    write_report(report, a, b, out)
    return out


def test_overview_of_two_reports(tmp_path: Path) -> None:
    movielens = tmp_path / "ml"
    movielens.mkdir()
    (movielens / "ratings.csv").write_text("userId,movieId,rating,timestamp\n")
    first = _write(tmp_path / "one", "default", source=movielens)
    second = _write(tmp_path / "two", "hard")
    assert panel_title(load_report(first)) == "MovieLens held-out users, default user (n = 40)"
    assert panel_title(load_report(second)) == "ReDial held-out users, hard user (n = 40)"
    png = overview([first, second], tmp_path / "fig" / "overview.png")
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 10_000
    assert main([str(tmp_path / "o2.png"), str(first)]) == 0 and (tmp_path / "o2.png").is_file()
    assert main([]) == 2


def test_missing_or_foreign_reports_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read the report") as info:
        load_report(tmp_path)
    assert "report.json" in str(info.value)
    (tmp_path / "report.json").write_text(json.dumps({"something": 1}))
    with pytest.raises(DataError, match="not an A/B simulation report"):
        load_report(tmp_path)
    with pytest.raises(ValueError, match="no report"):
        overview([], tmp_path / "x.png")
