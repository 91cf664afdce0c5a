"""Fixtures of the API tests: one tiny dialogue manager per test session on the real test Redis, and a
fresh app (its manager injected through `app.dependency_overrides`) with a TestClient per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import get_manager
from api.main import create_app
from dialogue.manager import DialogueManager
from dialogue.store import StateStore
from recsys.settings import Settings
from tests.api.synthetic import tiny_manager
from tests.redis_fixtures import RedisServer


@pytest.fixture(scope="session")
def api_manager(redis_server: RedisServer) -> Iterator[DialogueManager]:
    """Built once (about 2 s): the tiny catalog, a fitted ItemKNN, the rule extractor, the test Redis."""
    store = StateStore(redis_server.client(), ttl_seconds=600)
    yield tiny_manager(store)
    store.close()


@pytest.fixture
def make_client(
    api_manager: DialogueManager, redis_client: redis.Redis
) -> Iterator[Callable[..., TestClient]]:
    """`make_client(**settings)`: a TestClient of a new app (empty Redis, rate limit off by default)."""
    clients: list[TestClient] = []

    def make(manager: DialogueManager | None = None, **overrides: object) -> TestClient:
        options = {"rate_limit": 0, "api_warm_up": False, **overrides}
        app: FastAPI = create_app(Settings(**options))
        chosen = manager or api_manager
        app.dependency_overrides[get_manager] = lambda: chosen
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
