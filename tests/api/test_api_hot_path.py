"""What keeps the message route cheap, pinned: one dependency (the guard) for the whole tree, turn bodies
rendered by orjson as the same JSON, the metrics helpers counting as before, and the session lock's
release surviving a server that lost its scripts."""

from __future__ import annotations

import json
import math
from collections import Counter
from types import SimpleNamespace

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from api import metrics
from api.deps import guard
from api.lifecycle import InFlight
from api.responses import FastJSONResponse
from api.routes import sessions
from tests.api.test_api_sessions import say, start


def _route(path: str, method: str) -> APIRoute:
    for route in sessions.router.routes:
        if isinstance(route, APIRoute) and route.path == path and method in route.methods:
            return route
    raise AssertionError(f"no route {method} {path}")


def test_write_routes_solve_one_dependency_without_sub_dependencies() -> None:
    for path, method in [
        ("/v1/sessions/{session_id}/messages", "POST"),
        ("/v1/sessions/{session_id}/messages/stream", "POST"),
        ("/v1/sessions/{session_id}/feedback", "POST"),
        ("/v1/sessions/{session_id}", "DELETE"),
    ]:
        dependant = _route(path, method).dependant
        assert [d.call for d in dependant.dependencies] == [guard], path
        assert dependant.dependencies[0].dependencies == [], path
        headers = [p.alias for p in dependant.header_params]
        assert headers == (["Idempotency-Key"] if method == "POST" else []), path


def test_turn_body_is_the_same_json_and_keeps_non_ascii_as_is(client: TestClient) -> None:
    sid = start(client)
    response = client.post(f"/v1/sessions/{sid}/messages", json={"text": "I loved The Matrix – so good"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["turn"] == 1 and body["action"] == "recommend" and body["recommendations"]
    # byte for byte what the standard encoder (Starlette's JSONResponse) would have sent
    assert response.content == json.dumps(
        body, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")
    assert int(response.headers["content-length"]) == len(response.content)


def test_fast_json_response_falls_back_for_what_orjson_refuses() -> None:
    plain = {"a": [1, 2.5, None, True], "é": "ü – ✓"}
    assert json.loads(FastJSONResponse(plain).body) == plain
    standard = json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode()
    assert FastJSONResponse(plain).body == standard
    assert json.loads(FastJSONResponse({1: "int key"}).body) == {"1": "int key"}
    assert json.loads(FastJSONResponse({"big": 2**70}).body) == {"big": 2**70}
    assert json.loads(FastJSONResponse({"x": math.nan}).body) == {"x": None}  # documented difference
    response = FastJSONResponse({"ok": 1}, status_code=201, headers={"X-A": "b"})
    assert response.status_code == 201 and response.headers["x-a"] == "b"


def test_lock_is_released_after_the_server_lost_its_scripts(client: TestClient, redis_client) -> None:
    sid = start(client)
    assert say(client, sid, "I loved The Matrix")["turn"] == 1
    redis_client.script_flush()  # what a restarted Redis (without persistence of scripts) looks like
    assert say(client, sid, "recommend me something else")["turn"] == 2
    assert not [k for k in redis_client.keys("*lock*")], "the session lock was left behind"
    assert say(client, sid, "something else")["turn"] == 3  # and the next write is not kept waiting


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_count_turn_feeds_the_same_series() -> None:
    turns = _sample("crs_dialogue_turns_total", action="hot-path-test")
    served = _sample("crs_recommendations_served_total", endpoint="hot-path-test")
    metrics.count_turn("hot-path-test", 3, endpoint="hot-path-test")
    metrics.count_turn("hot-path-test", 0, endpoint="hot-path-test")
    assert _sample("crs_dialogue_turns_total", action="hot-path-test") == turns + 2
    assert _sample("crs_recommendations_served_total", endpoint="hot-path-test") == served + 3


def test_sync_llm_counts_only_what_is_new() -> None:
    runtime = SimpleNamespace(outcomes=Counter(), tokens_generated=0)
    ok = _sample("crs_llm_calls_total", outcome="ok")
    timeouts = _sample("crs_llm_fallbacks_total", reason="timeout")
    tokens = _sample("crs_llm_tokens_total")
    metrics.sync_llm(runtime)
    runtime.outcomes.update({"ok": 2, "timeout": 1})
    runtime.tokens_generated = 40
    metrics.sync_llm(runtime)
    metrics.sync_llm(runtime)  # nothing new: nothing counted again
    runtime.outcomes["ok"] += 1
    metrics.sync_llm(runtime)
    assert _sample("crs_llm_calls_total", outcome="ok") == ok + 3
    assert _sample("crs_llm_fallbacks_total", reason="timeout") == timeouts + 1
    assert _sample("crs_llm_tokens_total") == tokens + 40


def test_in_flight_counts_and_drains() -> None:
    in_flight = InFlight()
    with in_flight.track(), in_flight.track():
        assert in_flight.count == 2
        assert not in_flight.drain(0.01)
    assert in_flight.count == 0 and in_flight.drain(0.01)
