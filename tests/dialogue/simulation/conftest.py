"""Fixtures of the simulation harness's tests: simulated users of the small movie world
(tests.dialogue.world) and managers of two policies over it, on the real test Redis."""

from __future__ import annotations

import pytest

from dialogue.catalog_index import CatalogIndex
from dialogue.manager import DialogueManager
from dialogue.simulation.users import SimulatedUser, make_user
from dialogue.store import StateStore
from dialogue.understanding import RuleExtractor
from recsys.catalog.types import Catalog
from recsys.models.fusion import FusionRanker
from tests.dialogue.world import CLUSTERS, MOVIES


def world_users(catalog: Catalog, n: int = 40) -> list[SimulatedUser]:
    """Users whose target is one movie; the opening names another movie of its cluster and the
    target itself (which the user must not repeat: the opening is scrubbed)."""
    users = []
    pairs = [(t, c) for members in CLUSTERS.values() for t in members for c in members if c != t]
    for i, (target, cue) in enumerate(pairs[:n]):
        opening = f"I loved {MOVIES[cue][0]} and {MOVIES[target][0]}, what else?"
        users.append(make_user(f"u{i}", catalog, [target], opening))
    return users


@pytest.fixture
def managers(
    world_fusion: FusionRanker,
    world_extractor: RuleExtractor,
    store: StateStore,
    world: Catalog,
    world_index: CatalogIndex,
) -> dict[str, DialogueManager]:
    return {
        p: DialogueManager(world_fusion, world_extractor, store, world, p, index=world_index)
        for p in ("default", "popularity")
    }
