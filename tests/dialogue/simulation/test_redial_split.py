"""`--redial-holdout N`: the last N ReDial dialogues are the users and the models never see them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialogue.simulation.redial_split import redial_holdout
from recsys.catalog.types import Catalog
from recsys.cli import app
from recsys.data.redial import load_redial_dialogues
from recsys.errors import ConfigError, DataError
from tests.dialogue.world import CLUSTERS

SCI_FI = CLUSTERS["sci-fi"]


def dialogue_line(cid: int) -> str:
    """Dialogue `cid`: the seeker mentions one sci-fi movie and accepts another (ReDial ids 70000 + i)."""
    cue, target = 70000 + SCI_FI[cid % 8], 70000 + SCI_FI[(cid + 3) % 8]
    return json.dumps(
        {
            "conversationId": cid,
            "initiatorWorkerId": 1,
            "respondentWorkerId": 2,
            "movieMentions": {str(cue): "cue", str(target): "target"},
            "initiatorQuestions": {str(target): {"suggested": 1, "seen": 0, "liked": 1}},
            "respondentQuestions": {},
            "messages": [
                {"messageId": 1, "senderWorkerId": 1, "text": f"I love @{cue}, what else?", "timeOffset": 0},
                {"messageId": 2, "senderWorkerId": 2, "text": f"Try @{target}", "timeOffset": 1},
            ],
        }
    )


def write_redial(directory: Path, n: int) -> Path:
    directory.mkdir(parents=True)
    lines = [dialogue_line(cid) for cid in range(1, n + 1)]
    lines.insert(2, "")  # a blank line is not a dialogue
    (directory / "train_data.jsonl").write_text("\n".join(lines) + "\n")
    (directory / "movies_with_mentions.csv").write_text("movieId,movieName,nbMentions\n")
    (directory / "movie_metadata.json").write_text("{}")
    return directory


def test_last_dialogues_are_held_out_and_the_copy_is_reused(tmp_path: Path) -> None:
    source = write_redial(tmp_path / "redial", 6)
    split = redial_holdout(source, 2, tmp_path / "artifacts")
    assert (split.train_dialogues, split.heldout_dialogues) == (4, 2)
    train = load_redial_dialogues(split.redial_dir / "train_data.jsonl")
    held = load_redial_dialogues(split.heldout_file)
    assert [d.conversation_id for d in train] == [1, 2, 3, 4]
    assert [d.conversation_id for d in held] == [5, 6]
    assert (split.redial_dir / "movies_with_mentions.csv").is_symlink()
    stamp = split.heldout_file.stat().st_mtime_ns
    assert redial_holdout(source, 2, tmp_path / "artifacts") == split
    assert split.heldout_file.stat().st_mtime_ns == stamp
    assert redial_holdout(source, 3, tmp_path / "artifacts").redial_dir != split.redial_dir


def test_bad_holdouts_are_refused(tmp_path: Path) -> None:
    source = write_redial(tmp_path / "redial", 3)
    with pytest.raises(ConfigError, match="cannot hold out 3 of the 3"):
        redial_holdout(source, 3, tmp_path / "artifacts")
    with pytest.raises(ConfigError, match=">= 1"):
        redial_holdout(source, 0, tmp_path / "artifacts")
    with pytest.raises(DataError, match="not found") as info:
        redial_holdout(tmp_path / "nowhere", 1, tmp_path / "artifacts")
    assert "train_data.jsonl" in str(info.value)


def test_cli_simulates_the_heldout_dialogues_on_models_trained_without_them(
    managers, world: Catalog, tmp_path: Path, monkeypatch
) -> None:
    from dialogue.simulation import runner

    aligned = Catalog([dataclasses.replace(item, redial_id=70000 + item.item_id) for item in world])
    seen: list = []

    def fake_build(settings, policies):
        seen.append(settings)
        return [managers[p] for p in policies], aligned

    monkeypatch.setattr(runner, "build_system", fake_build)
    monkeypatch.setenv("CRS_REDIAL_DIR", str(write_redial(tmp_path / "redial", 12)))
    out = tmp_path / "out"
    args = ["simulate", "--arm-a", "default", "--arm-b", "popularity", "--redial-holdout", "8"]
    result = CliRunner().invoke(app, [*args, "--turns", "3", "--output-dir", str(out)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    report = json.loads((out / "report.json").read_text())
    copy = Path(report["run"]["redial_train_dir"])
    assert seen[0].redial_dir == copy
    assert [d.conversation_id for d in load_redial_dialogues(copy / "train_data.jsonl")] == [1, 2, 3, 4]
    assert report["run"]["users"] == 8 and report["run"]["data"]["dialogues_file"].endswith("heldout.jsonl")
    outcomes = [json.loads(line) for line in (out / "outcomes.jsonl").read_text().splitlines()]
    assert {o["user_id"] for o in outcomes} == {f"redial-{cid}" for cid in range(5, 13)}
    res = CliRunner().invoke(app, [*args, "--dialogues", "x.jsonl", "--output-dir", str(out)])
    assert res.exit_code != 0 and "one source of users" in str(res.exception)
