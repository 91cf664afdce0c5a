"""Redis errors in-process: whatever path they take, a Redis that cannot answer is a 503 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from fastapi.testclient import TestClient
from redis.backoff import NoBackoff
from redis.retry import Retry

from dialogue.manager import DialogueManager
from dialogue.store import StateStore
from tests.api.synthetic import tiny_manager
from tests.redis_fixtures import free_tcp_port


class LeakyManager:
    """The tiny manager, but reading a session raises redis-py's own error (not translated by the store)."""

    def __init__(self, inner: DialogueManager) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_session(self, session_id: str) -> Any:
        raise redis.ConnectionError("Connection refused")


def test_untranslated_redis_error_is_a_503(
    make_client: Callable[..., TestClient], api_manager: DialogueManager
) -> None:
    client = make_client(manager=LeakyManager(api_manager))
    response = client.get("/v1/sessions/abc")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "store_unavailable"
    assert "Connection refused" not in response.text  # no internals in the body


def test_session_lock_on_a_dead_redis_is_a_503(make_client: Callable[..., TestClient]) -> None:
    dead = redis.Redis(
        host="127.0.0.1", port=free_tcp_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    client = make_client(manager=tiny_manager(StateStore(dead)))
    for path, body in (("messages", {"text": "hi"}), ("feedback", {"item_id": 1, "kind": "like"})):
        response = client.post(f"/v1/sessions/abc/{path}", json=body, headers={"Idempotency-Key": "k"})
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "store_unavailable"
    assert client.get("/v1/items/1").status_code == 200  # the catalog needs no Redis
