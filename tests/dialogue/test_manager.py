"""Whole conversations through the DialogueManager: real rule extractor, fitted fusion, real Redis."""

from __future__ import annotations

import json

import pytest

from dialogue.catalog_index import CatalogIndex
from dialogue.manager import DialogueManager
from dialogue.policy import PolicyConfig
from dialogue.state import (
    BotUttered,
    CritiqueGiven,
    ItemMentioned,
    ItemRejected,
    ItemsRecommended,
    ProfileEdited,
    QuestionAnswered,
    QuestionAsked,
    SlotSet,
    UserUttered,
)
from dialogue.store import StateStore
from dialogue.understanding import RuleExtractor
from recsys.catalog.types import Catalog
from recsys.errors import SessionEndedError, SessionNotFoundError, UnknownItemError, ValidationError
from recsys.models.fusion import FusionRanker
from tests.dialogue.world import HORROR, ID, SCI_FI, WAR


@pytest.fixture
def manager(
    world_fusion: FusionRanker,
    world_extractor: RuleExtractor,
    store: StateStore,
    world: Catalog,
    world_index: CatalogIndex,
) -> DialogueManager:
    return DialogueManager(world_fusion, world_extractor, store, world, "default", index=world_index)


def rec_ids(result) -> list[int]:
    return [r.item_id for r in result.recommendations]


def test_scripted_conversation(manager: DialogueManager) -> None:
    sid = manager.start_session()
    greeting = manager.get_session(sid).transcript
    assert greeting[0]["turn"] == 0 and greeting[0]["user"] is None and "movie" in greeting[0]["bot"]

    r = manager.turn(sid, "hi")
    assert (r.turn, r.action, r.intent) == (1, "ask", "chit_chat")
    assert r.question is not None and r.question.attribute_kind == "genre" and len(r.question.options) == 4
    assert r.question.text in r.reply

    r = manager.turn(sid, "I really don't like horror movies")
    assert r.action == "ask" and r.question is not None and r.question.attribute_kind != "genre"
    assert r.state.disliked_attributes == ("genre:horror",)
    assert "no horror" in r.reply

    r = manager.turn(sid, "I loved The Matrix")
    assert r.action == "recommend"
    shown = rec_ids(r)
    assert len(shown) == 5
    assert set(shown) <= SCI_FI - {ID["The Matrix"]}  # The Matrix's neighbours, known from the data
    for rec in r.recommendations:
        assert rec.title == manager.catalog[rec.item_id].title and rec.explanation
        assert set(rec.provenance) <= {"itemknn", "ease"} and rec.provenance
    assert "you liked The Matrix" in r.reply

    r = manager.turn(sid, "not the first one")
    assert r.action == "recommend"
    assert not set(rec_ids(r)) & set(shown)  # never repeats what was shown

    second = rec_ids(r)[1]
    r = manager.turn(sid, "why the second one?")
    assert r.action == "explain" and r.subjects == (second,)
    assert manager.catalog[second].title in r.reply

    r = manager.turn(sid, "tell me about Blade Runner")
    assert r.action == "answer" and "Ridley Scott" in r.reply and "Harrison Ford" in r.reply

    r = manager.turn(sid, "I hated Saving Private Ryan. show me more")
    assert r.action == "recommend"
    assert ID["Saving Private Ryan"] in [m["item_id"] for m in r.understanding["items"]]
    assert ID["Saving Private Ryan"] not in rec_ids(r) and rec_ids(r)

    everything = manager.get_session(sid)
    shown_all = [
        i for e in manager.store.load_events(sid) if isinstance(e, ItemsRecommended) for i in e.item_ids
    ]
    assert len(shown_all) == len(set(shown_all))  # no item shown twice in the session
    assert not set(shown_all) & HORROR  # the stated dislike is never recommended
    assert [t["turn"] for t in everything.transcript] == list(range(0, 8))

    r = manager.turn(sid, "bye")
    assert r.action == "goodbye"


def test_events_are_recorded_with_turn_numbers(manager: DialogueManager) -> None:
    sid = manager.start_session()
    manager.turn(sid, "hello")
    manager.turn(sid, "comedy please")
    manager.turn(sid, "I loved The Matrix")
    manager.turn(sid, "something more recent")
    events = manager.store.load_events(sid)
    kinds = [type(e) for e in events]
    assert kinds[:2] == [kinds[0], BotUttered]  # SessionStarted, greeting
    by_turn: dict[int, list[type]] = {}
    turn = 0
    for e in events[2:]:  # each turn's events are contiguous; SlotSet carries no turn of its own
        turn = getattr(e, "turn", turn)
        by_turn.setdefault(turn, []).append(type(e))
    assert list(by_turn) == [1, 2, 3, 4]
    assert by_turn[1] == [UserUttered, QuestionAsked, BotUttered]
    assert by_turn[2][0] is UserUttered and QuestionAnswered in by_turn[2]  # answered the genre question
    # a new liked item changes the preferences: the language profile is rewritten (ProfileEdited)
    assert by_turn[3] == [UserUttered, ItemMentioned, ProfileEdited, ItemsRecommended, BotUttered]
    assert CritiqueGiven in by_turn[4] and SlotSet in by_turn[4]  # "more recent" narrows the year window
    state = manager.store.load_state(sid)
    assert state.slots.year_min is not None
    last = manager.get_session(sid).last_recommendation
    assert last and all(manager.catalog[i["item_id"]].year >= state.slots.year_min for i in last)


def test_like_x_but_funnier(manager: DialogueManager) -> None:
    sid = manager.start_session()
    r = manager.turn(sid, "something like The Matrix but funnier")
    assert r.action == "recommend"
    assert set(rec_ids(r)[:2]) == {ID["Men in Black"], ID["Galaxy Quest"]}
    assert r.state.critiques[0]["dimension"] == "humor"


def test_rejection_by_reference_and_feedback(manager: DialogueManager) -> None:
    sid = manager.start_session()
    first = rec_ids(manager.turn(sid, "I loved Saving Private Ryan"))
    assert set(first[:3]) <= WAR
    manager.turn(sid, "not the first one")
    assert any(isinstance(e, ItemRejected) and e.item_id == first[0] for e in manager.store.load_events(sid))
    summary = manager.feedback(sid, ID["Casablanca"], "dislike")
    assert summary.items["disliked"]["titles"] == ["Casablanca (1942)"]
    with pytest.raises(UnknownItemError):
        manager.feedback(sid, 999, "like")
    with pytest.raises(ValidationError, match="kind"):
        manager.feedback(sid, 1, "love")
    r = manager.turn(sid, "show me more")
    assert ID["Casablanca"] not in rec_ids(r)


def test_long_term_profile_seeds_the_next_session(manager: DialogueManager) -> None:
    sid = manager.start_session(user_id="ana")
    manager.turn(sid, "I loved Saving Private Ryan but I don't like comedies")
    profile = manager.store.get_profile("ana")  # merged after the turn, before the session ends
    assert ID["Saving Private Ryan"] in profile.liked_items and "genre:comedy" in profile.disliked_attributes
    view = manager.end_session(sid)
    assert view.state.ended and manager.end_session(sid).state.ended  # idempotent
    with pytest.raises(SessionEndedError):
        manager.turn(sid, "hello?")

    sid2 = manager.start_session(user_id="ana")
    assert "Saving Private Ryan" in manager.get_session(sid2).transcript[0]["bot"]
    r = manager.turn(sid2, "recommend me something")
    assert r.action == "recommend"  # the profile is signal enough: no question
    assert set(rec_ids(r)[:3]) <= WAR - {ID["Saving Private Ryan"]}
    assert not any("comedy" in manager.catalog[i].genres for i in rec_ids(r))


def test_stateless_recommendations(manager: DialogueManager) -> None:
    recs = manager.recommend_for([ID["The Matrix"]], [ID["The Shining"]], None, 4)
    assert len(recs) == 4 and {r.item_id for r in recs} <= SCI_FI - {ID["The Matrix"]}
    everything = manager.recommend_for([ID["The Matrix"]], [ID["The Shining"]], None, 50)
    assert ID["The Shining"] not in {r.item_id for r in everything} and len(everything) == 27
    assert all(r.explanation for r in recs)
    with pytest.raises(ValidationError, match="k must be"):
        manager.recommend_for([], [], None, 0)
    with pytest.raises(UnknownItemError):
        manager.recommend_for([12345], [], None, 3)


def test_errors_and_json(manager: DialogueManager) -> None:
    with pytest.raises(SessionNotFoundError):
        manager.turn("no-such-session", "hello")
    sid = manager.start_session()
    with pytest.raises(ValidationError, match="empty"):
        manager.turn(sid, "   ")
    r = manager.turn(sid, "I loved The Matrix and I like the 90s, but not horror")
    data = json.loads(json.dumps(r.to_dict()))
    assert {
        "session_id",
        "turn",
        "reply",
        "recommendations",
        "question",
        "action",
        "intent",
        "state",
        "understanding",
    } <= set(data)
    first = data["recommendations"][0]
    assert {"item_id", "title", "year", "score", "provenance", "explanation"} <= set(first)
    assert all(set(t) == {"score", "rank"} for t in first["provenance"].values())
    assert data["understanding"]["items"][0]["title"] == "The Matrix (1999)"
    assert data["state"]["items"]["liked"] == {"count": 1, "titles": ["The Matrix (1999)"]}
    assert "decade:1990s" in data["state"]["liked_attributes"]
    assert json.loads(json.dumps(manager.get_session(sid).to_dict()))["transcript"][1]["user"].startswith(
        "I loved"
    )


def test_popularity_policy_recommends_popular_allowed_items(
    world_fusion: FusionRanker, world_extractor: RuleExtractor, store: StateStore, world: Catalog, world_index
) -> None:
    manager = DialogueManager(world_fusion, world_extractor, store, world, "popularity", index=world_index)
    sid = manager.start_session()
    r = manager.turn(sid, "hi, no horror please")
    assert r.action == "recommend" and r.question is None
    expected = [int(i) for i in world_index.by_popularity if int(i) not in HORROR][:5]
    assert rec_ids(r) == expected
    assert all(set(rec.provenance) == {"popularity"} for rec in r.recommendations)


def test_stale_profile_ids_are_ignored(manager: DialogueManager) -> None:
    """A profile written against a bigger catalog (ids that no longer exist) must not break a session."""
    manager.store.update_profile("old", lambda p: (p.liked_items.add(999), p.liked_items.add(ID["Platoon"])))
    sid = manager.start_session(user_id="old")
    assert "Platoon" in manager.get_session(sid).transcript[0]["bot"]
    r = manager.turn(sid, "recommend me something")
    assert r.action == "recommend" and set(rec_ids(r)[:2]) <= WAR


def test_the_question_pool_and_the_recommendation_share_one_ranking(
    world_fusion: FusionRanker,
    world_extractor: RuleExtractor,
    store: StateStore,
    world: Catalog,
    world_index: CatalogIndex,
) -> None:
    # a question is considered (the pool is ranked), none splits well enough, so it recommends
    policy = PolicyConfig(name="no-good-question", min_question_entropy=100.0)
    manager = DialogueManager(world_fusion, world_extractor, store, world, policy, index=world_index)
    calls: list[tuple[object, int, list]] = []
    rank = manager.ranker.rank

    def spy(prefs, k, **kwargs):  # type: ignore[no-untyped-def]
        out = rank(prefs, k, **kwargs)
        calls.append((prefs, k, out))
        return out

    manager.ranker.rank = spy  # type: ignore[method-assign]
    result = manager.turn(manager.start_session(), "I want a comedy to watch")
    assert result.action == "recommend"
    assert [k for _, k, _ in calls] == [policy.question_pool]  # one fusion pass for the whole turn
    prefs, _, pool = calls[0]
    direct = rank(prefs, policy.k)  # what ranking the recommendation on its own gives
    assert rec_ids(result) == [r.item_id for r in direct] == [r.item_id for r in pool[: policy.k]]
    assert [r.score for r in result.recommendations] == pytest.approx([r.score for r in direct], abs=1e-6)
