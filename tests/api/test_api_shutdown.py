"""Graceful shutdown of a real uvicorn server (slow: subprocess servers).

The test app sleeps after a turn is computed and before its (single, atomic) append, the window a
shutdown must not cut. SIGTERM arrives inside it:
- the request still completes with its reply, the process exits 0, and the turn is whole in Redis;
- even when uvicorn's own grace period runs out first (its request task is cancelled), the turn finishes
  writing before the process exits (the app's shutdown drains running session writes): nothing is
  half-written.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from dialogue.state.events import BotUttered, UserUttered
from dialogue.store import StateStore
from tests.api.servers import ApiServer
from tests.redis_fixtures import RedisServer

pytestmark = pytest.mark.slow


def turn_in_flight(api: ApiServer, sid: str, out: dict) -> threading.Thread:
    def send() -> None:
        try:
            out["response"] = httpx.post(
                f"{api.url}/v1/sessions/{sid}/messages", json={"text": "I loved The Matrix"}, timeout=30
            )
        except httpx.HTTPError as exc:
            out["error"] = exc

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def whole_turns(redis_server: RedisServer, sid: str) -> list[tuple[int, int]]:
    """(user utterances, bot replies) per turn number > 0, read straight from Redis."""
    store = StateStore(redis_server.client())
    try:
        events = store.load_events(sid)
    finally:
        store.close()
    turns = sorted({e.turn for e in events if isinstance(e, UserUttered | BotUttered) and e.turn > 0})
    return [
        (
            sum(isinstance(e, UserUttered) and e.turn == t for e in events),
            sum(isinstance(e, BotUttered) and e.turn == t for e in events),
        )
        for t in turns
    ]


def test_in_flight_turn_completes_after_sigterm(
    redis_server: RedisServer, redis_client, tmp_path: Path
) -> None:
    env = {"CRS_TEST_BOT_APPEND_DELAY_SECONDS": "2"}
    api = ApiServer(redis_server.url, tmp_path, env=env, graceful_seconds=20).start()
    sid = httpx.post(f"{api.url}/v1/sessions", json={}).json()["session_id"]
    out: dict = {}
    thread = turn_in_flight(api, sid, out)
    time.sleep(0.8)  # the turn is computed, its append not yet made
    started = time.monotonic()
    code = api.terminate(timeout=30)
    thread.join(30)
    assert code == 0, api.log()
    assert "error" not in out, out
    response = out["response"]
    assert response.status_code == 200 and response.json()["turn"] == 1
    assert response.json()["recommendations"]
    assert time.monotonic() - started < 10
    assert whole_turns(redis_server, sid) == [(1, 1)]
    with pytest.raises(httpx.ConnectError):  # and it no longer accepts
        httpx.get(f"{api.url}/healthz", timeout=2)


def test_turn_cut_by_the_grace_period_is_still_written_whole(
    redis_server: RedisServer, redis_client, tmp_path: Path
) -> None:
    env = {"CRS_TEST_BOT_APPEND_DELAY_SECONDS": "3"}
    api = ApiServer(redis_server.url, tmp_path, env=env, graceful_seconds=0.5).start()
    sid = httpx.post(f"{api.url}/v1/sessions", json={}).json()["session_id"]
    out: dict = {}
    thread = turn_in_flight(api, sid, out)
    time.sleep(0.8)
    code = api.terminate(timeout=30)
    thread.join(30)
    assert code == 0, api.log()
    # uvicorn gave up on the request after 0.5 s (the client may get no answer), but the process waited
    # for the turn to finish writing before it exited
    assert whole_turns(redis_server, sid) == [(1, 1)]
