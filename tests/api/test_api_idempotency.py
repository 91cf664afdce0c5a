"""Idempotency-Key over HTTP (in-process app, real Redis): a retry returns the first result and applies the
request once; a reused key with another request is refused; duplicates sent while the first runs wait for
it; keys are scoped per caller; a cut-off attempt is never applied twice; a busy session answers 409."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dialogue.manager import DialogueManager
from dialogue.state.events import FeedbackGiven, UserUttered
from dialogue.store.idempotency import IdempotencyStore, fingerprint
from dialogue.store.locks import SessionLocks
from recsys.settings import hash_api_key
from tests.api.synthetic import MATRIX, SUPERBAD


def start(client: TestClient, **headers: str) -> str:
    response = client.post("/v1/sessions", json={}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


def user_turns(manager: DialogueManager, sid: str) -> list[str]:
    return [e.text for e in manager.store.load_events(sid) if isinstance(e, UserUttered)]


class SlowTurns:
    """The tiny manager with turns that take `delay` seconds (to overlap requests)."""

    def __init__(self, inner: DialogueManager, delay: float) -> None:
        self._inner, self.delay, self.calls = inner, delay, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def turn(self, session_id: str, text: str) -> Any:
        self.calls += 1
        time.sleep(self.delay)
        return self._inner.turn(session_id, text)


def test_retried_message_returns_the_first_result_and_applies_once(
    client: TestClient, api_manager: DialogueManager
) -> None:
    sid = start(client)
    url, headers = f"/v1/sessions/{sid}/messages", {"Idempotency-Key": "k-1"}
    first = client.post(url, json={"text": "I loved The Matrix"}, headers=headers)
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    again = client.post(url, json={"text": "I loved The Matrix"}, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()  # the same turn, recommendations and state
    assert user_turns(api_manager, sid) == ["I loved The Matrix"]
    # a new key is a new turn
    other = client.post(url, json={"text": "I loved The Matrix"}, headers={"Idempotency-Key": "k-2"})
    assert other.json()["turn"] == first.json()["turn"] + 1
    assert user_turns(api_manager, sid) == ["I loved The Matrix"] * 2


def test_retried_feedback_is_recorded_once(client: TestClient, api_manager: DialogueManager) -> None:
    sid = start(client)
    url, headers = f"/v1/sessions/{sid}/feedback", {"Idempotency-Key": "fb-1"}
    bodies = [client.post(url, json={"item_id": SUPERBAD, "kind": "like"}, headers=headers) for _ in range(3)]
    assert [b.status_code for b in bodies] == [200, 200, 200]
    assert bodies[1].json() == bodies[2].json() == bodies[0].json()
    feedback = [e for e in api_manager.store.load_events(sid) if isinstance(e, FeedbackGiven)]
    assert [(e.item_id, e.kind) for e in feedback] == [(SUPERBAD, "like")]


def test_retried_stream_replays_the_same_events(client: TestClient, api_manager: DialogueManager) -> None:
    sid = start(client)
    url, headers = f"/v1/sessions/{sid}/messages/stream", {"Idempotency-Key": "s-1"}
    first = client.post(url, json={"text": "I loved The Matrix"}, headers=headers)
    again = client.post(url, json={"text": "I loved The Matrix"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert "event: done" in first.text and again.text == first.text
    assert again.headers["idempotent-replayed"] == "true"
    assert user_turns(api_manager, sid) == ["I loved The Matrix"]


def test_same_key_with_another_request_is_refused(client: TestClient, api_manager: DialogueManager) -> None:
    sid = start(client)
    headers = {"Idempotency-Key": "k"}
    assert (
        client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"}, headers=headers).status_code == 200
    )
    other_body = client.post(f"/v1/sessions/{sid}/messages", json={"text": "bye"}, headers=headers)
    assert other_body.status_code == 422
    assert other_body.json()["error"]["code"] == "idempotency_key_reused"
    other_endpoint = client.post(
        f"/v1/sessions/{sid}/feedback", json={"item_id": MATRIX, "kind": "like"}, headers=headers
    )
    assert other_endpoint.status_code == 422
    assert user_turns(api_manager, sid) == ["hi"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "naïve".encode()])
def test_malformed_key_is_a_422(client: TestClient, key: str | bytes) -> None:
    sid = start(client)
    response = client.post(
        f"/v1/sessions/{sid}/messages", json={"text": "hi"}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 422, response.text
    assert "Idempotency-Key" in response.json()["error"]["message"]


def test_keys_are_scoped_per_api_key(
    make_client: Callable[..., TestClient], api_manager: DialogueManager
) -> None:
    client = make_client(api_keys=(hash_api_key("alice-key"), hash_api_key("bob-key")))
    alice = {"Authorization": "Bearer alice-key", "Idempotency-Key": "same"}
    bob = {"Authorization": "Bearer bob-key", "Idempotency-Key": "same"}
    sid = start(client, Authorization="Bearer alice-key")
    a = client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"}, headers=alice)
    b = client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"}, headers=bob)
    assert a.status_code == b.status_code == 200
    assert "idempotent-replayed" not in b.headers and b.json()["turn"] == a.json()["turn"] + 1
    assert user_turns(api_manager, sid) == ["hi", "hi"]


def test_duplicate_sent_while_the_first_runs_waits_and_replays(
    make_client: Callable[..., TestClient], api_manager: DialogueManager
) -> None:
    slow = SlowTurns(api_manager, delay=0.6)
    client = make_client(manager=slow)
    sid = start(client)
    url, headers = f"/v1/sessions/{sid}/messages", {"Idempotency-Key": "dup"}
    responses: list[Any] = [None, None]

    def send(i: int) -> None:
        responses[i] = client.post(url, json={"text": "I loved The Matrix"}, headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    threads[0].start()
    time.sleep(0.2)  # the first is inside its turn when the duplicate arrives
    threads[1].start()
    for t in threads:
        t.join(10)
    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].json() == responses[1].json()
    assert responses[1].headers["idempotent-replayed"] == "true"
    assert slow.calls == 1 and user_turns(api_manager, sid) == ["I loved The Matrix"]


def _pending(
    client: TestClient, api_manager: DialogueManager, sid: str, key: str, text: str, log: int
) -> None:
    """Leave the pending mark of an attempt that was cut off (as if its worker had died)."""
    idem = IdempotencyStore(api_manager.store.client, api_manager.store.keys)
    record = idem.ref(sid, "ip:testclient", key)
    idem.begin(record, fingerprint("POST", f"/v1/sessions/{sid}/messages", {"text": text}), log)


def test_cut_off_attempt_that_changed_nothing_runs_again(
    client: TestClient, api_manager: DialogueManager
) -> None:
    sid = start(client)
    length = len(api_manager.store.load_events(sid))
    _pending(client, api_manager, sid, "cut", "hello", length)
    response = client.post(
        f"/v1/sessions/{sid}/messages", json={"text": "hello"}, headers={"Idempotency-Key": "cut"}
    )
    assert response.status_code == 200 and user_turns(api_manager, sid) == ["hello"]


def test_cut_off_attempt_that_changed_the_session_is_not_applied_twice(
    client: TestClient, api_manager: DialogueManager
) -> None:
    sid = start(client)
    length = len(api_manager.store.load_events(sid))
    _pending(client, api_manager, sid, "cut", "hello", length)
    api_manager.turn(sid, "hello")  # the cut-off attempt had written its turn
    response = client.post(
        f"/v1/sessions/{sid}/messages", json={"text": "hello"}, headers={"Idempotency-Key": "cut"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_interrupted"
    assert user_turns(api_manager, sid) == ["hello"]


def test_failed_request_leaves_no_record(client: TestClient, api_manager: DialogueManager) -> None:
    sid = start(client)
    headers = {"Idempotency-Key": "fail"}
    bad = client.post(f"/v1/sessions/{sid}/feedback", json={"item_id": 999, "kind": "like"}, headers=headers)
    assert bad.status_code == 404
    assert api_manager.store.client.hlen(f"crs:{{s:{sid}}}:idem") == 0
    again = client.post(
        f"/v1/sessions/{sid}/feedback", json={"item_id": 999, "kind": "like"}, headers=headers
    )
    assert again.status_code == 404 and "idempotent-replayed" not in again.headers


def test_records_share_the_session_slot_expire_with_it_and_go_with_it(
    client: TestClient, api_manager: DialogueManager
) -> None:
    sid = start(client)
    client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"}, headers={"Idempotency-Key": "t"})
    client.post(
        f"/v1/sessions/{sid}/feedback",
        json={"item_id": MATRIX, "kind": "like"},
        headers={"Idempotency-Key": "u"},
    )
    redis = api_manager.store.client
    (key,) = redis.scan_iter(match="*idem*")
    assert key.decode() == f"crs:{{s:{sid}}}:idem" and redis.hlen(key) == 2  # the session's slot
    assert 0 < redis.pttl(key) <= api_manager.store.ttl_ms
    assert client.delete(f"/v1/sessions/{sid}").status_code == 200
    assert not redis.exists(key)  # ending the session drops its stored responses


def test_busy_session_answers_409_with_retry_after(client: TestClient, api_manager: DialogueManager) -> None:
    sid = start(client)
    client.app.state.session_lock_wait_seconds = 0.2
    client.app.state.write_stores.clear()
    locks = SessionLocks(api_manager.store.client, api_manager.store.keys)
    with locks.hold(sid):  # another worker's turn holding the session
        started = time.monotonic()
        response = client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"})
        assert time.monotonic() - started < 2
    assert response.status_code == 409 and response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "session_busy"
    assert client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"}).status_code == 200
