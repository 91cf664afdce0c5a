"""A turn's number is taken with its load (one round trip); a turn that fails before the number used to be
taken (understanding the message) gives it back, so the numbering is what it always was."""

from __future__ import annotations

import pytest

from dialogue.catalog_index import CatalogIndex
from dialogue.manager import DialogueManager
from dialogue.state import UserUttered
from dialogue.store import StateStore
from dialogue.understanding import RuleExtractor
from dialogue.understanding.types import DialogueContext, Understanding
from recsys.catalog.types import Catalog
from recsys.errors import SessionEndedError, ValidationError
from recsys.models.fusion import FusionRanker


class Failing:
    """The rule extractor, except that "boom" breaks it."""

    def __init__(self, inner: RuleExtractor) -> None:
        self.inner = inner

    def extract(self, text: str, context: DialogueContext | None = None) -> Understanding:
        if text == "boom":
            raise RuntimeError("the extractor broke")
        return self.inner.extract(text, context)


@pytest.fixture
def manager(
    world_fusion: FusionRanker,
    world_extractor: RuleExtractor,
    store: StateStore,
    world: Catalog,
    world_index: CatalogIndex,
) -> DialogueManager:
    extractor = Failing(world_extractor)
    return DialogueManager(world_fusion, extractor, store, world, "default", index=world_index)


def test_a_failed_understanding_leaves_the_numbering_unchanged(manager: DialogueManager) -> None:
    sid = manager.start_session()
    assert manager.turn(sid, "hi").turn == 1
    with pytest.raises(RuntimeError, match="broke"):
        manager.turn(sid, "boom")
    with pytest.raises(ValidationError, match="characters long"):
        manager.turn(sid, "x" * 5000)  # over the extractor's limit
    assert manager.turn(sid, "I loved The Matrix").turn == 2
    turns = [e.turn for e in manager.store.load_events(sid) if isinstance(e, UserUttered)]
    assert turns == [1, 2]
    assert manager.store.next_turn(sid) == 3  # the stored counter followed


def test_an_ended_session_refuses_the_turn_without_taking_a_number(manager: DialogueManager) -> None:
    sid = manager.start_session()
    manager.turn(sid, "hi")
    manager.end_session(sid)
    with pytest.raises(SessionEndedError):
        manager.turn(sid, "hello again")
    key = manager.store.keys.session(sid, "turn")
    assert int(manager.store.client.get(key)) == 1
