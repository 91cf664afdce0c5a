"""HTTP mode: the harness drives two real servers (a minimal FastAPI app over a manager, on 127.0.0.1)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, HTTPException

from dialogue.manager import DialogueManager
from dialogue.simulation.http_client import HttpClient
from dialogue.simulation.runner import run_http, run_paired
from dialogue.simulation.simulator import ManagerClient
from recsys.errors import CRSError, SessionNotFoundError
from tests.dialogue.simulation.conftest import world_users
from tests.redis_fixtures import free_tcp_port


def stub_app(manager: DialogueManager) -> FastAPI:
    """The two routes of the REST API the harness uses, with the API's response shape."""
    app = FastAPI()

    @app.post("/v1/sessions", status_code=201)
    def create(body: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"session_id": manager.start_session(), "user_id": None}

    @app.post("/v1/sessions/{session_id}/messages")
    def message(session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return manager.turn(session_id, body["text"]).to_dict()
        except SessionNotFoundError as exc:
            raise HTTPException(404, str(exc)) from exc

    return app


def serve(app: FastAPI) -> Iterator[str]:
    port = free_tcp_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield url
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def servers(managers) -> Iterator[tuple[str, str]]:
    gen_a, gen_b = serve(stub_app(managers["default"])), serve(stub_app(managers["popularity"]))
    yield next(gen_a), next(gen_b)
    for gen in (gen_a, gen_b):
        next(gen, None)


def test_http_mode_matches_in_process_run(servers, managers, world) -> None:
    url_a, url_b = servers
    users = world_users(world, 8)
    result = run_http(url_a, url_b, users, world, max_turns=4, seed=5, progress=False)
    ca, cb = ManagerClient(managers["default"]), ManagerClient(managers["popularity"])
    local_a, local_b = run_paired(users, ca, cb, world, max_turns=4, seed=5, progress=False)
    assert [vars(o) for o in result.a] == [vars(o) for o in local_a]
    assert [vars(o) for o in result.b] == [vars(o) for o in local_b]
    assert any(o.success for o in result.a) and "simulate_s" in result.timings


def test_http_errors_name_the_server_and_status(servers) -> None:
    url_a, _ = servers
    with HttpClient(url_a) as client, pytest.raises(CRSError, match="HTTP 404"):
        client.send("no-such-session", "hi")
    port = free_tcp_port()
    with (
        HttpClient(f"http://127.0.0.1:{port}", timeout=2) as client,
        pytest.raises(CRSError, match=str(port)),
    ):
        client.start()
    assert httpx  # the client library the harness uses
