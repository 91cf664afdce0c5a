"""Shared test fixtures. Tests build their own small data; `shared_data` points at ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.settings import PROJECT_ROOT, get_settings

pytest_plugins = ["tests.redis_fixtures"]

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real shared datasets; tests using it are skipped when they are absent."""
    if not (SHARED_DATA / "movielens" / "ml-latest-small" / "ratings.csv").is_file():
        pytest.skip("shared datasets not present at ../shared/data")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own artifacts directory and fresh settings."""
    monkeypatch.setenv("CRS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    # no language model unless a test asks for one (tests of the real model set it themselves)
    monkeypatch.setenv("CRS_LLM_MODEL", "none")
    for var in ("CRS_REDIS_URL", "CRS_SETTINGS_FILE", "CRS_API_KEYS"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
