"""HTTP mode against the real REST API: two `api.main.create_app` apps (default and popularity managers over
the tiny movie world, state on the real test Redis, API keys and the Redis rate limiter on) served by
uvicorn on loopback ports. The harness must get exactly the outcomes of the in-process run."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from api.main import create_app
from dialogue.manager import DialogueManager
from dialogue.simulation.http_client import HttpClient
from dialogue.simulation.runner import run_http, run_paired
from dialogue.simulation.simulator import DIFFICULTIES, ManagerClient
from recsys.errors import CRSError
from recsys.settings import Settings
from tests.dialogue.simulation.conftest import world_users
from tests.redis_fixtures import free_tcp_port

KEY = "sim-test-key"


def real_app(manager: DialogueManager, rate_limit: int = 10_000) -> FastAPI:
    """The product's app with `manager` injected; bearer key KEY required; rate limits in Redis."""
    settings = Settings(
        api_keys=(hashlib.sha256(KEY.encode()).hexdigest(),), rate_limit=rate_limit, api_warm_up=False
    )
    return create_app(settings, manager=manager)


def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` with uvicorn on a free loopback port (in a thread) until the generator is closed."""
    port = free_tcp_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture
def servers(managers) -> Iterator[tuple[str, str]]:
    gens = [serve(real_app(managers["default"])), serve(real_app(managers["popularity"]))]
    yield next(gens[0]), next(gens[1])
    for gen in gens:
        gen.close()


@pytest.mark.parametrize("difficulty", ["default", "hard"])
def test_http_mode_matches_in_process_run(servers, managers, world, difficulty: str) -> None:
    url_a, url_b = servers
    users = world_users(world, 8)
    behaviour = DIFFICULTIES[difficulty]
    result = run_http(
        url_a, url_b, users, world, max_turns=4, seed=5, api_key=KEY, progress=False, difficulty=behaviour
    )
    ca, cb = ManagerClient(managers["default"]), ManagerClient(managers["popularity"])
    local_a, local_b = run_paired(
        users, ca, cb, world, max_turns=4, seed=5, progress=False, difficulty=behaviour
    )
    assert [vars(o) for o in result.a] == [vars(o) for o in local_a]
    assert [vars(o) for o in result.b] == [vars(o) for o in local_b]
    assert sum(o.success for o in result.a) > sum(o.success for o in result.b)
    assert "simulate_s" in result.timings


def test_http_errors_name_the_server_and_status(servers) -> None:
    url_a, _ = servers
    with HttpClient(url_a) as client, pytest.raises(CRSError, match="HTTP 401"):
        client.start()  # no key
    with HttpClient(url_a, api_key=KEY) as client, pytest.raises(CRSError, match="HTTP 404") as info:
        client.send("no-such-session", "hi")
    assert url_a in str(info.value)
    port = free_tcp_port()
    with (
        HttpClient(f"http://127.0.0.1:{port}", timeout=2) as client,
        pytest.raises(CRSError, match=str(port)),
    ):
        client.start()


def test_rate_limited_server_stops_the_run_with_429(managers, world) -> None:
    gen = serve(real_app(managers["default"], rate_limit=3))
    url = next(gen)
    try:
        with pytest.raises(CRSError, match="HTTP 429"):
            run_http(url, url, world_users(world, 4), world, max_turns=4, seed=0, api_key=KEY, progress=False)
    finally:
        gen.close()
