"""The turn body the API sends without re-validation (`TurnResult.to_dict()` via `api.turns.turn_body`) is
exactly what validating it as the documented TurnPublic and dumping it in JSON mode gives: same keys, same
key order, same values, same JSON text. Checked on real turns of every action (with and without a user
profile) and on generated turns (provenance, questions, profiles, critiques, odd numbers)."""

from __future__ import annotations

import json
from typing import Any

import hypothesis.strategies as st
from fastapi.testclient import TestClient
from hypothesis import given, settings

from api.schemas import TurnPublic
from api.turns import turn_body, turn_events
from dialogue.manager import DialogueManager
from dialogue.results import ProfileView, QuestionView, RecommendedItem, StateSummary, TurnResult

CONVERSATION = [
    "hi",
    "I loved The Matrix",
    "something more recent",
    "why Inception?",
    "who directed Alien?",
    "I like comedy",
    "not horror please",
    "tell me about Titanic",
    "older than that",
    "I hate Superbad",
    "thanks, bye",
]


def _validated(body: dict[str, Any]) -> dict[str, Any]:
    return TurnPublic.model_validate(body).model_dump(mode="json")


def _assert_contract(result: TurnResult) -> dict[str, Any]:
    fast = turn_body(result)
    slow = _validated(fast)
    assert fast == slow
    # key order too: the JSON text sent is byte for byte what the pydantic path would send
    assert json.dumps(fast) == json.dumps(slow)
    return fast


def test_real_turns_of_every_action_match_the_documented_model(api_manager: DialogueManager) -> None:
    actions: set[str] = set()
    for user in (None, "turn-body-user"):
        session_id = api_manager.start_session(user)
        for text in CONVERSATION:
            body = _assert_contract(api_manager.turn(session_id, text))
            actions.add(body["action"])
            assert body["profile_info"] is not None and body["profile"] == body["profile_info"]["text"]
    assert {"recommend", "ask", "explain", "answer"} <= actions


def test_the_body_is_a_fresh_copy(api_manager: DialogueManager) -> None:
    session_id = api_manager.start_session(None)
    result = api_manager.turn(session_id, "I loved The Matrix")
    body = turn_body(result)
    assert body["recommendations"], "the tiny world recommends after a liked movie"
    body["state"]["items"]["liked"]["titles"].append("changed")
    body["recommendations"][0]["provenance"].clear()
    assert turn_body(result) == result.to_dict() != body


def test_a_mapping_is_validated_like_before() -> None:
    body = turn_body({"session_id": "s", "turn": 1, "reply": "hello", "action": "ask"})
    assert body["recommendations"] == [] and body["question"] is None and body["profile_info"] is None


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_score = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 6))
_provenance = st.dictionaries(
    st.sampled_from(["itemknn", "ease", "graph", "popularity"]),
    st.fixed_dictionaries({"score": _score | st.integers(-5, 5), "rank": st.integers(1, 500)}),
    max_size=3,
)
_item = st.builds(
    RecommendedItem,
    item_id=st.integers(0, 10**6),
    title=_text,
    year=st.none() | st.integers(1900, 2030),
    score=_score,
    provenance=_provenance,
    explanation=_text,
    genres=st.lists(_text, max_size=3).map(tuple),
    explanation_source=st.sampled_from(["template", "llm"]),
)
_titles = st.fixed_dictionaries({"count": st.integers(0, 50), "titles": st.lists(_text, max_size=3)})
_critique = st.fixed_dictionaries(
    {
        "dimension": st.sampled_from(["year", "popularity", "genre"]),
        "direction": st.sampled_from(["more", "less"]),
        "reference_item": st.none() | st.integers(0, 100),
        "reference_title": st.none() | _text,
        "turn": st.integers(0, 30),
    }
)
_state = st.builds(
    StateSummary,
    turn=st.integers(0, 30),
    items=st.dictionaries(st.sampled_from(["liked", "disliked", "seen", "shown"]), _titles, max_size=4),
    liked_attributes=st.lists(_text, max_size=3).map(tuple),
    disliked_attributes=st.lists(_text, max_size=3).map(tuple),
    critiques=st.lists(_critique, max_size=2).map(tuple),
    questions_asked=st.lists(st.sampled_from(["genre", "decade", "director"]), max_size=3).map(tuple),
    pending_question=st.none() | st.sampled_from(["genre", "decade"]),
    slots=st.fixed_dictionaries(
        {
            "n_recommendations": st.integers(1, 20),
            "include_seen": st.booleans(),
            "year_min": st.none() | st.integers(1900, 2030),
        }
    ),
    ended=st.booleans(),
)
_understanding = st.fixed_dictionaries(
    {
        "intent": st.sampled_from(["recommend", "inform", "ask_about"]),
        "intents": st.lists(st.sampled_from(["recommend", "inform"]), max_size=2),
        "items": st.lists(
            st.fixed_dictionaries({"item_id": st.none() | st.integers(0, 99), "surface": _text}), max_size=2
        ),
    }
)
_turn = st.builds(
    TurnResult,
    session_id=st.text("0123456789abcdef", min_size=1, max_size=32),
    turn=st.integers(1, 100),
    reply=_text,
    action=st.sampled_from(["recommend", "ask", "explain", "answer", "goodbye"]),
    intent=st.none() | st.sampled_from(["recommend", "inform"]),
    recommendations=st.lists(_item, max_size=4).map(tuple),
    question=st.none()
    | st.builds(
        QuestionView, attribute_kind=st.just("genre"), text=_text, options=st.lists(_text).map(tuple)
    ),
    subjects=st.lists(st.integers(0, 99), max_size=3).map(tuple),
    state=st.none() | _state,
    understanding=st.just({}) | _understanding,
    notes=st.lists(_text, max_size=2).map(tuple),
    profile=st.none()
    | st.builds(
        ProfileView,
        text=_text,
        source=st.sampled_from(["llm", "template", "user", "stored"]),
        updated=st.booleans(),
        version=st.none() | st.integers(0, 9),
        edited_by_user=st.booleans(),
    ),
)


@settings(max_examples=200, deadline=None)
@given(_turn)
def test_generated_turns_match_the_documented_model(result: TurnResult) -> None:
    body = _assert_contract(result)
    for rec in body["recommendations"]:  # provenance scores are floats, like TracePublic says
        assert all(
            isinstance(t["score"], float) and isinstance(t["rank"], int) for t in rec["provenance"].values()
        )


def test_http_turn_body_and_the_stream_carry_the_same_turn(client: TestClient) -> None:
    session_id = client.post("/v1/sessions", json={}).json()["session_id"]
    response = client.post(f"/v1/sessions/{session_id}/messages", json={"text": "I loved The Matrix"})
    assert response.status_code == 200
    body = response.json()
    assert body == _validated(body) and body["recommendations"]
    assert list(body) == list(TurnPublic.model_fields)
    # the SSE frames of a body are built from the same dict: the last one is the whole turn
    frames = list(turn_events(body))
    assert json.loads(frames[-1].split("data: ", 1)[1]) == body
    ranks = [json.loads(f.split("data: ", 1)[1])["rank"] for f in frames if "event: recommendation" in f]
    assert ranks == list(range(1, len(body["recommendations"]) + 1))


def test_openapi_still_documents_turn_public(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    ok = schema["paths"]["/v1/sessions/{session_id}/messages"]["post"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TurnPublic"}
    documented = schema["components"]["schemas"]["TurnPublic"]["properties"]
    assert list(documented) == list(TurnPublic.model_fields)
