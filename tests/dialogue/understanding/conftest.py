"""Fixtures for the understanding tests: the fixed test catalog and a rules-only extractor over it."""

from __future__ import annotations

import pytest

from dialogue.understanding import RuleExtractor
from recsys.catalog.types import Catalog

from .catalog_fixture import build_test_catalog, id_by_display


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return build_test_catalog()


@pytest.fixture(scope="session")
def ids(catalog: Catalog) -> dict[str, int]:
    """Display name ("Heat (1995)") -> catalog id."""
    return id_by_display(catalog)


@pytest.fixture(scope="session")
def extractor(catalog: Catalog) -> RuleExtractor:
    """Rules only: no embedding model is loaded."""
    return RuleExtractor(catalog, use_embeddings=False)
