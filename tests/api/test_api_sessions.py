"""Sessions over HTTP: a whole conversation, feedback steering the next turn, reading and ending sessions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.synthetic import BLADE_RUNNER, CLUSTERS, MATRIX, SHINING, SUPERBAD


def start(client: TestClient, user_id: str | None = None) -> str:
    response = client.post("/v1/sessions", json={"user_id": user_id} if user_id else {})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user_id"] == user_id
    return body["session_id"]


def say(client: TestClient, session_id: str, text: str) -> dict:
    response = client.post(f"/v1/sessions/{session_id}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    return response.json()


def test_whole_conversation(client: TestClient) -> None:
    sid = start(client, "alice")
    first = say(client, sid, "I loved The Matrix")
    assert first["session_id"] == sid and first["turn"] == 1
    assert first["action"] == "recommend"
    rec_ids = [r["item_id"] for r in first["recommendations"]]
    # the recommender's neighbours of The Matrix are the other sci-fi movies: they come first
    assert set(rec_ids[:4]) == set(CLUSTERS["sci-fi"]) - {MATRIX}
    assert MATRIX not in rec_ids  # a liked (seen) movie is not recommended back
    for rec in first["recommendations"]:
        assert rec["title"] and rec["explanation"]
        assert rec["provenance"]["itemknn"]["rank"] >= 1
    scores = [r["score"] for r in first["recommendations"]]
    assert scores == sorted(scores, reverse=True)
    assert first["understanding"]["items"][0]["item_id"] == MATRIX
    assert first["understanding"]["items"][0]["polarity"] == "liked"
    assert first["state"]["items"]["liked"]["titles"] == ["The Matrix (1999)"]

    second = say(client, sid, "recommend me something else")
    assert second["turn"] == 2 and second["action"] == "recommend"
    assert not set(rec_ids) & {r["item_id"] for r in second["recommendations"]}  # nothing shown twice

    session = client.get(f"/v1/sessions/{sid}").json()
    assert session["user_id"] == "alice"
    transcript = session["transcript"]
    assert [e["turn"] for e in transcript] == [0, 1, 2]
    assert transcript[0]["user"] is None and transcript[0]["bot"]  # the greeting
    assert [e["user"] for e in transcript[1:]] == ["I loved The Matrix", "recommend me something else"]
    assert transcript[1]["bot"] == first["reply"] and transcript[2]["bot"] == second["reply"]
    assert [r["item_id"] for r in session["last_recommendation"]] == [
        r["item_id"] for r in second["recommendations"]
    ]


def test_feedback_steers_the_next_turn(client: TestClient) -> None:
    firsts = {}
    for liked in (SUPERBAD, SHINING):
        sid = start(client)
        feedback = client.post(f"/v1/sessions/{sid}/feedback", json={"item_id": liked, "kind": "like"})
        assert feedback.status_code == 200, feedback.text
        assert feedback.json()["state"]["items"]["liked"]["count"] == 1
        turn = say(client, sid, "recommend me something")
        assert turn["action"] == "recommend"
        firsts[liked] = [r["item_id"] for r in turn["recommendations"]]
    # liking a comedy brings the other comedies first; liking a horror film, the other horror films
    assert set(firsts[SUPERBAD][:3]) == set(CLUSTERS["comedy"]) - {SUPERBAD}
    assert set(firsts[SHINING][:2]) == set(CLUSTERS["horror"]) - {SHINING}


def test_disliked_feedback_item_never_recommended(client: TestClient) -> None:
    sid = start(client)
    r = client.post(f"/v1/sessions/{sid}/feedback", json={"item_id": BLADE_RUNNER, "kind": "dislike"})
    assert r.status_code == 200
    turn = say(client, sid, "I loved The Matrix")
    ids = [r["item_id"] for r in turn["recommendations"]]
    assert ids and BLADE_RUNNER not in ids
    assert turn["state"]["items"]["disliked"]["titles"] == ["Blade Runner (1982)"]


def test_delete_ends_merges_and_removes_the_session(client: TestClient) -> None:
    sid = start(client, "bob")
    say(client, sid, "I loved The Matrix")
    response = client.delete(f"/v1/sessions/{sid}")
    assert response.status_code == 200
    assert response.json()["state"]["ended"] is True
    assert client.get(f"/v1/sessions/{sid}").status_code == 404
    assert client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"}).status_code == 404
    profile = client.get("/v1/users/bob/profile").json()
    assert [i["item_id"] for i in profile["liked_items"]] == [MATRIX]  # what the session learnt stays


def test_unknown_or_malformed_session_is_404(client: TestClient) -> None:
    for sid in ("0" * 32, "no such session", "x" * 200):
        for method, path, body in (
            ("GET", f"/v1/sessions/{sid}", None),
            ("POST", f"/v1/sessions/{sid}/messages", {"text": "hello"}),
            ("POST", f"/v1/sessions/{sid}/messages/stream", {"text": "hello"}),
            ("POST", f"/v1/sessions/{sid}/feedback", {"item_id": 1, "kind": "like"}),
            ("DELETE", f"/v1/sessions/{sid}", None),
        ):
            response = client.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["code"] == "not_found"


def test_feedback_on_unknown_item_is_404_and_bad_kind_422(client: TestClient) -> None:
    sid = start(client)
    r = client.post(f"/v1/sessions/{sid}/feedback", json={"item_id": 999, "kind": "like"})
    assert r.status_code == 404 and "999" in r.json()["error"]["message"]
    r = client.post(f"/v1/sessions/{sid}/feedback", json={"item_id": 1, "kind": "love"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "kind"


def test_ended_session_refuses_messages_with_409(client: TestClient, api_manager) -> None:
    sid = start(client)
    api_manager.end_session(sid)
    r = client.post(f"/v1/sessions/{sid}/messages", json={"text": "I loved The Matrix"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


def test_session_survives_a_new_app_instance(make_client, api_manager) -> None:
    """State is only in Redis: a second app (as after a restart) continues the conversation."""
    first_app = make_client()
    sid = start(first_app, "carol")
    say(first_app, sid, "I loved The Matrix")
    second_app = make_client()
    turn = say(second_app, sid, "recommend me something else")
    assert turn["turn"] == 2
    assert turn["state"]["items"]["liked"]["titles"] == ["The Matrix (1999)"]
