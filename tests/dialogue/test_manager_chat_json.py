"""`crs chat --json` carries an explanation on every recommended item and the language profile, from
templates with the LLM set to `none`, and from the (here scripted) LLM when it is on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import dialogue.llm.turn as turn_module
from dialogue.llm.runtime import LLMConfig, LLMRuntime
from dialogue.llm.testing import ScriptedModel
from recsys.cli import app
from recsys.settings import get_settings
from tests.dialogue.test_manager_llm import grounded
from tests.dialogue.world_files import write_world_dataset

MODELS = ["--models", "itemknn,ease"]
SCRIPT = "hi\nI loved The Matrix\nno horror please\nbye\n"


@pytest.fixture
def world_env(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_world_dataset(tmp_path / "data")
    monkeypatch.setenv("CRS_DATA_DIR", str(root))
    monkeypatch.setenv("CRS_REDIS_URL", redis_url)
    get_settings.cache_clear()
    return root


def chat(*args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["chat", "--json", "--no-embeddings", *MODELS, *args], input=SCRIPT)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_chat_json_with_the_llm_off_uses_templates(world_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRS_LLM_MODEL", "none")
    get_settings.cache_clear()
    out = chat("--user-id", "dora")
    assert [t["action"] for t in out][-1] == "goodbye"
    recommended = [t for t in out if t["recommendations"]]
    assert recommended
    for t in recommended:
        assert all(r["explanation"] and r["explanation_source"] == "template" for r in t["recommendations"])
    assert all(isinstance(t["profile"], str) and t["profile"] for t in out)
    assert out[0]["profile"] == "No preferences yet."
    assert out[1]["profile"] == "Liked The Matrix." and out[1]["profile_info"]["updated"]
    assert out[2]["profile"] == "Liked The Matrix; dislikes horror."
    assert out[2]["profile_info"]["version"] == 2


def test_chat_json_with_the_llm_on(world_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = ScriptedModel(grounded)
    runtime = LLMRuntime(LLMConfig(model="scripted"), model=model)
    monkeypatch.setattr(turn_module, "runtime_from_settings", lambda settings: runtime)
    out = chat()
    recommended = [t for t in out if t["recommendations"]]
    assert recommended
    for t in recommended:
        head, tail = t["recommendations"][:3], t["recommendations"][3:]
        assert all(r["explanation_source"] == "llm" for r in head)
        assert all(r["explanation"].startswith(f"You may like {r['title']}") for r in head)
        assert all(r["explanation_source"] == "template" and r["explanation"] for r in tail)
    assert out[1]["profile_info"]["source"] == "llm"
    assert out[1]["profile"] == "Loves The Matrix and films like it."
    assert out[1]["profile_info"]["version"] is None  # an anonymous session: not stored with a user
