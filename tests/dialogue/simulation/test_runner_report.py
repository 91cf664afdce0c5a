"""Paired runs on the world's managers: same seed -> same report; the report's files and contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialogue.simulation.report import build_report, write_report
from dialogue.simulation.runner import ArmSpec, run_paired, select_users
from dialogue.simulation.simulator import ManagerClient
from recsys.cli import app
from tests.dialogue.simulation.conftest import world_users


def _report(managers, world, seed: int, out: Path) -> dict:
    users = select_users(world_users(world, 60), 30, seed)
    ca, cb = ManagerClient(managers["default"]), ManagerClient(managers["popularity"])
    a, b = run_paired(users, ca, cb, world, max_turns=4, seed=seed, progress=False)
    configs = {"a": ArmSpec(policy="default").describe(), "b": ArmSpec(policy="popularity").describe()}
    report = build_report(a, b, configs=configs, users=users, max_turns=4, seed=seed, timings={"s": 1.0})
    write_report(report, a, b, out)
    return json.loads((out / "report.json").read_text())


def test_same_seed_same_report_and_contract(managers, world, tmp_path: Path) -> None:
    first = _report(managers, world, 3, tmp_path / "one")
    second = _report(managers, world, 3, tmp_path / "two")
    first.pop("timings"), second.pop("timings")
    assert first == second
    for arm in ("a", "b"):
        assert {"success_rate", "mean_turns", "success_by_turn", "config"} <= set(first["arms"][arm])
    assert first["arms"]["a"]["config"]["policy"]["name"] == "default"
    comp = first["comparison"]
    assert len(comp["success_diff_ci95"]) == 2 and 0 <= comp["p_value_success"] <= 1
    assert comp["success_diff"] == pytest.approx(
        first["arms"]["b"]["success_rate"] - first["arms"]["a"]["success_rate"], abs=1e-6
    )
    # the personalised policy finds a cluster-mate's target sooner than the popularity baseline
    assert first["arms"]["a"]["success_by_turn"][0] > first["arms"]["b"]["success_by_turn"][0]
    assert first["run"]["seed"] == 3 and first["run"]["data"]["users_sha256"]
    out = tmp_path / "one"
    for name in ("report.md", "success_by_turn.png", "turns_histogram.png", "outcomes.jsonl"):
        assert (out / name).stat().st_size > 0
    assert (out / "success_by_turn.png").read_bytes()[:4] == b"\x89PNG"
    assert "A/B simulation report" in (out / "report.md").read_text()
    assert len((out / "outcomes.jsonl").read_text().splitlines()) == 60


def test_other_seed_other_users(world) -> None:
    users = world_users(world, 60)
    assert select_users(users, 30, 1) != select_users(users, 30, 2)
    assert select_users(users, 100, 1) == users


def test_cli_rejects_incomplete_arms(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["simulate", "--dialogues", str(tmp_path / "d.jsonl"), "--output-dir", str(tmp_path)]
    res = runner.invoke(app, [*args, "--arm-a", "default"])
    assert res.exit_code != 0 and "--arm-b" in str(res.exception)
    res = runner.invoke(app, [*args, "--server-a", "http://x", "--arm-b", "default"])
    assert res.exit_code != 0 and "--server-b" in str(res.exception)
    res = runner.invoke(app, [*args, "--arm-a", "default", "--arm-b", "nonexistent"])
    assert res.exit_code != 0 and "unknown policy" in str(res.exception)


def test_arm_spec_is_one_thing() -> None:
    with pytest.raises(ValueError):
        ArmSpec()
    with pytest.raises(ValueError):
        ArmSpec(policy="default", server="http://x")


def test_workers_give_the_same_outcomes_as_one_process(managers, world, monkeypatch) -> None:
    """Worker processes (forked) each build their own system; the merged outcomes keep user order."""
    from dialogue.simulation import runner

    built: list[tuple[str, ...]] = []

    def fake_build(settings, policies):
        built.append(tuple(policies))
        return [managers[p] for p in policies], world

    monkeypatch.setattr(runner, "build_system", fake_build)
    users = world_users(world, 12)
    spec_a, spec_b = ArmSpec(policy="default"), ArmSpec(policy="popularity")
    one = runner.run_local(None, spec_a, spec_b, users, max_turns=3, seed=2, workers=1, progress=False)
    two = runner.run_local(None, spec_a, spec_b, users, max_turns=3, seed=2, workers=2, progress=False)
    assert [vars(o) for o in two.a] == [vars(o) for o in one.a]
    assert [vars(o) for o in two.b] == [vars(o) for o in one.b]
    assert two.timings["workers"] == 2 and built == [("default", "popularity")]  # the parent built once
