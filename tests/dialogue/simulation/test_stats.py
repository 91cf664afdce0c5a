"""Paired statistics with known answers: A/A, a clearly better arm, the too-small refusal, power."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from dialogue.simulation.runner import run_paired
from dialogue.simulation.simulator import ManagerClient, Outcome
from dialogue.simulation.stats import arm_metrics, compare, mcnemar_sample_size
from dialogue.simulation.users import make_user
from tests.dialogue.simulation.conftest import world_users


def outcome(i: int, turn: int | None) -> Outcome:
    return Outcome(f"u{i}", turn is not None, turn, turn or 5, 0, 0, 1.0 if turn else 0.0)


class Oracle:
    """Shows each session's target on the first turn (targets registered per session, in order)."""

    def __init__(self, items: list[int]) -> None:
        self.items = items
        self.sessions: list[int] = []

    def start(self) -> str:
        self.sessions.append(len(self.sessions))
        return str(len(self.sessions) - 1)

    def send(self, session_id: str, text: str) -> Mapping[str, Any]:
        target = self.items[int(session_id)]
        return {"action": "recommend", "recommendations": [{"item_id": target}], "question": None}


class Never:
    """Always shows the same item that no user wants."""

    def start(self) -> str:
        return "s"

    def send(self, session_id: str, text: str) -> Mapping[str, Any]:
        return {"action": "recommend", "recommendations": [{"item_id": 28}], "question": None}


def test_arm_metrics_known_values() -> None:
    outs = [outcome(0, 1), outcome(1, 3), outcome(2, None), outcome(3, None)]
    m = arm_metrics(outs, max_turns=3)
    assert m["success_rate"] == 0.5 and m["successes"] == 2
    assert m["success_by_turn"] == [0.25, 0.25, 0.5]
    assert m["mean_turns"] == 2.0 and m["mean_turns_with_failures"] == (1 + 3 + 4 + 4) / 4
    assert m["recall_at_k_last"] == 0.5
    lo, hi = m["success_rate_ci95"]
    assert lo < 0.5 < hi


def test_clearly_better_arm_is_detected(world) -> None:
    users = [make_user(f"u{i}", world, [i % 28], "Hi, any movie?") for i in range(40)]
    oracle = Oracle([u.targets[0] for u in users])
    a, b = run_paired(users, Never(), oracle, world, max_turns=3, seed=1, progress=False)
    assert [o.success for o in a] == [False] * 40 and [o.success_turn for o in b] == [1] * 40
    c = compare(a, b, max_turns=3, seed=1)
    assert c["success_diff"] == 1.0 and c["success_diff_ci95"] == [1.0, 1.0]
    assert c["p_value_success"] == pytest.approx(2 * 0.5**40)
    assert c["p_value_turns_wilcoxon"] < 0.05
    assert c["verdict"] == "b_better" and c["significant"]
    assert c["cohens_h"] == pytest.approx(math.pi)


def test_aa_run_is_not_significant(managers, world) -> None:
    users = world_users(world, 30)
    ma = ManagerClient(managers["popularity"])
    a, b = run_paired(users, ma, ma, world, max_turns=4, seed=0, progress=False)
    assert [vars(x) for x in a] == [vars(y) for y in b]  # same user, same dice, same system
    c = compare(a, b, max_turns=4, seed=0)
    assert c["success_diff"] == 0.0 and c["p_value_success"] == 1.0 and not c["significant"]
    assert c["verdict"] == "insufficient_data"  # no discordant pair at all


def test_aa_with_noise_is_not_significant() -> None:
    """Two arms drawn from the same success distribution (seeded): no significant difference."""
    rng = np.random.default_rng(7)
    a = [outcome(i, 1 if rng.random() < 0.5 else None) for i in range(300)]
    b = [outcome(i, 1 if rng.random() < 0.5 else None) for i in range(300)]
    c = compare(a, b, max_turns=3, seed=7)
    assert c["discordant"]["a_only"] + c["discordant"]["b_only"] >= 10
    assert c["p_value_success"] > 0.05 and c["verdict"] == "no_significant_difference"
    lo, hi = c["success_diff_ci95"]
    assert lo < 0 < hi


def test_too_small_sample_is_refused() -> None:
    a = [outcome(i, None) for i in range(12)]
    b = [outcome(i, 1) for i in range(12)]
    c = compare(a, b, max_turns=3, seed=0)
    assert c["p_value_success"] < 0.05  # significant on its face ...
    assert c["verdict"] == "insufficient_data" and not c["significant"]  # ... but too few users
    assert "12 users" in c["conclusion"]


def test_mismatched_users_are_rejected() -> None:
    with pytest.raises(ValueError, match="same users"):
        compare([outcome(0, 1)], [outcome(1, 1)], max_turns=3, seed=0)


def test_mcnemar_sample_size_known_value() -> None:
    # (1.959964 * sqrt(0.3) + 0.841621 * sqrt(0.29))^2 / 0.01 = 233.09 -> 234
    assert mcnemar_sample_size(0.2, 0.1) == 234
    assert mcnemar_sample_size(0.1, 0.1) is None
