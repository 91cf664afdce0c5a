"""Fixtures of the catalog tests (the data itself is in catalog_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.recsys.catalog.catalog_fixtures import write_csv_release, write_redial


@pytest.fixture
def tiny_files(tmp_path: Path) -> tuple[Path, Path]:
    """(MovieLens csv release dir, ReDial dir) on disk."""
    movielens = write_csv_release(tmp_path / "data" / "movielens" / "ml-tiny")
    return movielens, write_redial(tmp_path / "data" / "redial")
