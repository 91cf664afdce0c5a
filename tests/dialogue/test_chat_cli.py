"""`crs train` and `crs chat` end to end on the tiny world written as dataset files, with the test Redis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from recsys.cli import app
from recsys.errors import ConfigError, ValidationError
from recsys.settings import get_settings
from tests.dialogue.world import MOVIES
from tests.dialogue.world_files import write_world_dataset

MODELS = ["--models", "itemknn,ease"]  # two numpy generators: seconds to train
SCI_FI = {title for title, _y, genres, *_ in MOVIES if "sci-fi" in genres}
HORROR = {title for title, _y, genres, *_ in MOVIES if "horror" in genres}


@pytest.fixture
def world_env(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_world_dataset(tmp_path / "data")
    monkeypatch.setenv("CRS_DATA_DIR", str(root))
    monkeypatch.setenv("CRS_REDIS_URL", redis_url)
    get_settings.cache_clear()
    return root


def run(*args: str, input: str | None = None) -> Any:
    result = CliRunner().invoke(app, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def turns(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_train_then_chat_json(world_env: Path) -> None:
    first = run("train", *MODELS, "--json")
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["built"] is True and summary["generators"] == ["itemknn", "ease"]
    assert summary["catalog_items"] == len(MOVIES)
    again = json.loads(run("train", *MODELS, "--json").stdout.strip().splitlines()[-1])
    assert again["built"] is False and again["artifact"] == summary["artifact"]  # stored: not trained twice

    script = "hi\nI don't like horror movies\n\nI loved The Matrix\nwhy the first one?\nshow me more\nbye\n"
    result = run("chat", "--json", "--no-embeddings", *MODELS, input=script)
    assert result.exit_code == 0, result.output
    out = turns(result.stdout)
    assert len(out) == 6  # one JSON object per non-empty line
    assert [t["turn"] for t in out] == [1, 2, 3, 4, 5, 6]
    assert [t["action"] for t in out] == ["ask", "ask", "recommend", "explain", "recommend", "goodbye"]
    assert all(t["reply"] for t in out)
    first_recs = out[2]["recommendations"]
    assert len(first_recs) == 5
    for rec in first_recs:
        assert {"item_id", "title", "score", "explanation"} <= set(rec) and rec["explanation"]
    assert {r["title"] for r in first_recs} <= SCI_FI - {"The Matrix"}  # The Matrix's neighbours
    shown = [r["title"] for t in out for r in t["recommendations"]]
    assert not set(shown) & HORROR  # the stated dislike never comes up
    assert len(shown) == len(set(shown))
    assert first_recs[0]["title"] in out[3]["reply"]


def test_chat_resumes_a_session(world_env: Path) -> None:
    args = ["chat", "--json", "--no-embeddings", *MODELS, "--session-id", "resume-me", "--user-id", "zoe"]
    first = turns(run(*args, input="I loved Saving Private Ryan\n").stdout)
    assert first[0]["session_id"] == "resume-me" and first[0]["turn"] == 1
    second = turns(run(*args, input="show me more\n").stdout)
    assert second[0]["turn"] == 2  # the same session, continued
    assert second[0]["state"]["items"]["liked"]["titles"] == ["Saving Private Ryan (1998)"]
    before = {r["item_id"] for r in first[0]["recommendations"]}
    assert before and not before & {r["item_id"] for r in second[0]["recommendations"]}
    with pytest.raises(ValidationError, match="session resume-me belongs to zoe, not ian"):
        run(*args[:-1], "ian", input="hello\n")


def test_chat_rejects_an_unknown_policy(world_env: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown policy 'chatty'.*popularity"):
        run("chat", "--json", "--policy", "chatty", input="hi\n")


def test_chat_reports_a_bad_message_and_goes_on(world_env: Path) -> None:
    long = "a" * 5000
    out = turns(
        run("chat", "--json", "--no-embeddings", *MODELS, input=f"{long}\nI loved The Matrix\n").stdout
    )
    assert "limit" in out[0]["error"]
    assert out[1]["action"] == "recommend"
