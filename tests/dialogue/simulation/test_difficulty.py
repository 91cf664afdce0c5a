"""The "hard" simulated user: patience before critiques, no people, no volunteering, noisy answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from typer.testing import CliRunner

from dialogue.simulation.report import build_report, write_report
from dialogue.simulation.runner import run_paired
from dialogue.simulation.simulator import (
    _DONT_MIND,
    _REJECTIONS,
    DIFFICULTIES,
    Difficulty,
    ManagerClient,
    UserAgent,
    get_difficulty,
    simulate,
)
from dialogue.simulation.users import make_user
from recsys.cli import app
from tests.dialogue.simulation.conftest import world_users
from tests.dialogue.world import ID

HARD = DIFFICULTIES["hard"]


class WrongItems:
    """Always shows two war movies (never the user's sci-fi target)."""

    def start(self) -> str:
        return "s"

    def send(self, session_id: str, text: str) -> Mapping[str, Any]:
        items = [{"item_id": ID["Dunkirk"]}, {"item_id": ID["Platoon"]}]
        return {"action": "recommend", "recommendations": items, "question": None}


def _user(world, seed_id: str = "u"):
    return make_user(seed_id, world, [ID["Blade Runner"]], "Hi, any movie?")


def test_default_user_critiques_at_once_and_names_people(world) -> None:
    out = simulate(_user(world), WrongItems(), world, max_turns=6, seed=0)
    assert out.utterances[1] not in _REJECTIONS  # first rejection is already a critique
    assert any("Ridley Scott" in u or "Harrison Ford" in u for u in out.utterances)


def test_hard_user_waits_and_never_names_people(world) -> None:
    for seed in range(10):
        out = simulate(_user(world), WrongItems(), world, max_turns=6, seed=seed, difficulty=HARD)
        assert out.utterances[1] in _REJECTIONS and out.utterances[2] in _REJECTIONS  # patience 2
        assert out.utterances[3] not in _REJECTIONS  # then one critique per turn: genre or era
        assert any(w in out.utterances[3].lower() for w in ("sci-fi", "thriller", "older", "recent", "newer"))
        assert not any("Ridley" in u or "Harrison" in u for u in out.utterances)
        assert out.rejections == 6 and not out.success  # every list shown was rejected


def _answers(world, difficulty: Difficulty, options: list[str], n: int = 400) -> list[str]:
    question = {"attribute_kind": "genre", "options": options}
    return [UserAgent(_user(world, f"u{i}"), world, 0, difficulty).answer(question) or "" for i in range(n)]


def test_hard_answers_are_noisy_at_the_documented_rate(world) -> None:
    options = ["genre:sci-fi", "genre:comedy", "genre:horror"]
    default = _answers(world, get_difficulty("default"), options)
    assert all("sci-fi" in a for a in default)  # the offered target genre, every time
    hard = _answers(world, HARD, options)
    informative = sum("sci-fi" in a for a in hard) / len(hard)
    dont_mind = sum(a in _DONT_MIND for a in hard) / len(hard)
    wrong = sum(("comedy" in a or "horror" in a) for a in hard) / len(hard)
    assert informative + dont_mind + wrong == pytest.approx(1.0)
    assert 0.63 < informative < 0.77 and 0.10 < dont_mind < 0.20 and 0.10 < wrong < 0.20  # 0.7 / .15 / .15


def test_hard_user_does_not_volunteer_values_that_were_not_offered(world) -> None:
    options = ["genre:comedy", "genre:horror"]  # no target genre offered
    default = _answers(world, get_difficulty("default"), options, n=20)
    assert all("sci-fi" in a for a in default)  # the generous user names its own genre anyway
    quiet = Difficulty("quiet", volunteer=False)
    assert all(a in _DONT_MIND for a in _answers(world, quiet, options, n=20))


def test_hard_users_succeed_less_often_on_the_same_system(managers, world) -> None:
    users = world_users(world, 40)
    client = ManagerClient(managers["default"])
    easy, _ = run_paired(users, client, client, world, max_turns=4, seed=0, progress=False)
    hard, _ = run_paired(users, client, client, world, max_turns=4, seed=0, progress=False, difficulty=HARD)
    rate = lambda outs: sum(o.success for o in outs) / len(outs)  # noqa: E731
    assert rate(hard) <= rate(easy)
    assert sum(o.turns_or_penalty(4) for o in hard) > sum(o.turns_or_penalty(4) for o in easy)


def test_unknown_or_invalid_difficulty_is_refused() -> None:
    with pytest.raises(ValueError, match="valid: default, hard"):
        get_difficulty("nightmare")
    with pytest.raises(ValueError):
        Difficulty("x", answer_noise=1.5)
    args = ["simulate", "--arm-a", "default", "--arm-b", "popularity", "--dialogues", "d.jsonl"]
    res = CliRunner().invoke(app, [*args, "--output-dir", "out", "--difficulty", "nightmare"])
    assert res.exit_code != 0 and "--difficulty" in str(res.exception) and "hard" in str(res.exception)


def test_report_records_the_difficulty(managers, world, tmp_path) -> None:
    users = world_users(world, 30)
    client = ManagerClient(managers["popularity"])
    a, b = run_paired(users, client, client, world, max_turns=3, seed=0, progress=False, difficulty=HARD)
    configs = {"a": {"source": "popularity"}, "b": {"source": "popularity"}}
    report = build_report(a, b, configs=configs, users=users, max_turns=3, seed=0, difficulty=HARD)
    assert report["run"]["difficulty"] == {
        "name": "hard",
        "critique_after": 2,
        "answer_noise": 0.3,
        "reveal_people": False,
        "volunteer": False,
    }
    write_report(report, a, b, tmp_path)
    assert "difficulty `hard`" in (tmp_path / "report.md").read_text()
