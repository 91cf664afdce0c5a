"""Fixtures of the dialogue manager's tests: the small movie world of `tests.dialogue.world`, fitted once
per test session (ItemKNN alone, and a fusion of ItemKNN + EASE), the rule extractor
over it, and a StateStore on the real test Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from dialogue.catalog_index import CatalogIndex
from dialogue.store import StateStore
from dialogue.understanding import RuleExtractor
from recsys.catalog.types import Catalog
from recsys.models.ease import EASE
from recsys.models.fusion import FusionRanker
from recsys.models.itemknn import ItemKNN
from recsys.models.types import TrainData
from tests.dialogue.world import world_catalog, world_train_data


@pytest.fixture(scope="session")
def world() -> Catalog:
    return world_catalog()


@pytest.fixture(scope="session")
def world_data(world: Catalog) -> TrainData:
    return world_train_data(world)


@pytest.fixture(scope="session")
def world_knn(world_data: TrainData) -> ItemKNN:
    return ItemKNN(k_neighbors=20).fit(world_data)


@pytest.fixture(scope="session")
def world_fusion(world_data: TrainData) -> FusionRanker:
    """ItemKNN + EASE: two pure-numpy generators (the graph models would import torch: seconds)."""
    return FusionRanker({"itemknn": ItemKNN(k_neighbors=20), "ease": EASE(l2=5.0)}).fit(world_data)


@pytest.fixture(scope="session")
def world_index(world: Catalog, world_data: TrainData) -> CatalogIndex:
    return CatalogIndex(world, world_data)


@pytest.fixture(scope="session")
def world_extractor(world: Catalog) -> RuleExtractor:
    return RuleExtractor(world, use_embeddings=False)


@pytest.fixture
def store(redis_client: redis.Redis) -> Iterator[StateStore]:
    """A StateStore on the (flushed) test Redis."""
    yield StateStore(redis_client, ttl_seconds=600)
