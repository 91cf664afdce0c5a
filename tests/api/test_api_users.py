"""User profiles over HTTP: read after a conversation, replace, patch, optimistic concurrency, erasure."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient

from tests.api.synthetic import ANCHORMAN, BLADE_RUNNER, MATRIX, SUPERBAD


def ids(items: list[dict]) -> list[int]:
    return [i["item_id"] for i in items]


def talk(client: TestClient, user_id: str, text: str = "I loved The Matrix") -> str:
    sid = client.post("/v1/sessions", json={"user_id": user_id}).json()["session_id"]
    assert client.post(f"/v1/sessions/{sid}/messages", json={"text": text}).status_code == 200
    return sid


def test_new_user_has_an_empty_profile(client: TestClient) -> None:
    profile = client.get("/v1/users/newbie/profile").json()
    assert profile["user_id"] == "newbie" and profile["version"] == 0
    assert profile["profile_text"] is None and profile["liked_items"] == []


def test_profile_learns_from_the_conversation(client: TestClient) -> None:
    talk(client, "alice")
    profile = client.get("/v1/users/alice/profile").json()
    assert ids(profile["liked_items"]) == [MATRIX]
    assert profile["liked_items"][0]["title"] == "The Matrix"
    assert profile["version"] >= 1


def test_put_replaces_text_and_preferences(client: TestClient) -> None:
    talk(client, "alice")
    inferred = client.get("/v1/users/alice/profile").json()["profile_version"]  # the conversation wrote one
    body = {
        "profile_text": "Loves witty comedies; no horror.",
        "liked_items": [SUPERBAD, ANCHORMAN],
        "disliked_items": [BLADE_RUNNER],
        "liked_attributes": ["genre:comedy", "star:Bill Murray"],
        "disliked_attributes": ["genre:horror"],
    }
    r = client.put("/v1/users/alice/profile", json=body)
    assert r.status_code == 200, r.text
    profile = r.json()
    assert profile == client.get("/v1/users/alice/profile").json()
    assert profile["profile_text"] == "Loves witty comedies; no horror."
    assert profile["edited_by_user"] is True and profile["profile_version"] == inferred + 1
    assert ids(profile["liked_items"]) == [SUPERBAD, ANCHORMAN]  # The Matrix was replaced
    assert ids(profile["disliked_items"]) == [BLADE_RUNNER]
    assert ids(profile["seen_items"]) == []  # PUT: lists left out are emptied
    assert profile["liked_attributes"] == ["genre:comedy", "star:bill murray"]
    assert profile["disliked_attributes"] == ["genre:horror"]


def test_edited_profile_steers_recommendations(client: TestClient) -> None:
    client.put("/v1/users/erin/profile", json={"liked_items": [SUPERBAD]})
    r = client.post("/v1/recommendations", json={"user_id": "erin", "k": 2})
    assert set(ids(r.json()["recommendations"])) <= {5, ANCHORMAN, 8}  # other comedies


def test_patch_changes_only_what_is_sent(client: TestClient) -> None:
    talk(client, "bob")
    before = client.get("/v1/users/bob/profile").json()
    r = client.patch("/v1/users/bob/profile", json={"profile_text": "Into 90s thrillers."})
    after = r.json()
    version = before["profile_version"] + 1  # the conversation's inferred profile is `before`
    assert after["profile_text"] == "Into 90s thrillers." and after["profile_version"] == version
    assert after["liked_items"] == before["liked_items"]
    # same text again: no new profile version
    again = client.patch("/v1/users/bob/profile", json={"profile_text": "Into 90s thrillers."}).json()
    assert again["profile_version"] == version
    # disliking a liked item moves it (last word wins)
    moved = client.patch("/v1/users/bob/profile", json={"disliked_items": [MATRIX]}).json()
    assert ids(moved["disliked_items"]) == [MATRIX] and ids(moved["liked_items"]) == []
    cleared = client.patch("/v1/users/bob/profile", json={"profile_text": None}).json()
    assert cleared["profile_text"] is None and cleared["profile_version"] == version + 1


def test_stale_version_is_409(client: TestClient) -> None:
    first = client.patch("/v1/users/carol/profile", json={"profile_text": "one", "version": 0})
    assert first.status_code == 200 and first.json()["version"] == 1
    stale = client.patch("/v1/users/carol/profile", json={"profile_text": "two", "version": 0})
    assert stale.status_code == 409 and "version 1, not 0" in stale.json()["error"]["message"]
    fresh = client.put("/v1/users/carol/profile", json={"profile_text": "two", "version": 1})
    assert fresh.status_code == 200 and fresh.json()["profile_text"] == "two"


def test_bad_profile_edits(client: TestClient) -> None:
    r = client.put("/v1/users/dan/profile", json={"liked_items": [999]})
    assert r.status_code == 404 and "999" in r.json()["error"]["message"]
    r = client.put("/v1/users/dan/profile", json={"liked_items": [1], "disliked_items": [1]})
    assert r.status_code == 422 and "both" in r.json()["error"]["message"]
    r = client.patch("/v1/users/dan/profile", json={"liked_attributes": ["colour:red"]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"].startswith("liked_attributes")
    r = client.patch("/v1/users/dan/profile", json={"profile_text": "x" * 2001})
    assert r.status_code == 422
    assert client.get("/v1/users/bad%20id!/profile").status_code == 422
    assert client.get("/v1/users/dan/profile").json()["version"] == 0  # nothing was written


def test_delete_user_leaves_no_keys(client: TestClient, redis_client: redis.Redis) -> None:
    sessions = [talk(client, "alice"), talk(client, "alice", "I loved Superbad")]
    client.patch("/v1/users/alice/profile", json={"profile_text": "mine"})
    other = talk(client, "zoe")

    def keys_of(names: list[str]) -> list[str]:
        found = [k.decode() for k in redis_client.scan_iter(match="crs:*", count=1000)]
        return [k for k in found if any(n in k for n in names)]

    before = keys_of(["alice", *sessions])
    assert len(before) >= 2 + 2 * 4  # profile, session index, and per session meta, events, ids, turn
    r = client.delete("/v1/users/alice")
    assert r.status_code == 200 and r.json()["keys_deleted"] == len(before)
    assert keys_of(["alice", *sessions]) == []
    assert keys_of(["zoe", other])  # another user's data is untouched
    for sid in sessions:
        assert client.get(f"/v1/sessions/{sid}").status_code == 404
    assert client.get("/v1/users/alice/profile").json()["version"] == 0
    assert client.delete("/v1/users/alice").json()["keys_deleted"] == 0  # idempotent
