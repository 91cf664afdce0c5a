"""Redis faults against a real uvicorn server and a real redis-server (slow: subprocess servers).

1. Redis killed mid-conversation: every endpoint that needs state answers 503 + Retry-After at once (no
   500, no hang), /readyz is 503, the stateless endpoints keep working; Redis restarted on the same port
   and data directory: the same API process serves the conversation on, without a restart. A hung Redis
   (stopped with SIGSTOP) gives 503 within the client's timeouts, and the API recovers when it resumes.
2. Redis AND the API killed (SIGKILL) while a client is talking: after both restart, every acknowledged
   turn, feedback event and profile edit is there (AOF with `appendfsync always`).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.api.servers import ApiServer, fsync_always
from tests.api.synthetic import ANCHORMAN, BLADE_RUNNER, MATRIX, SUPERBAD
from tests.redis_fixtures import RedisServer

pytestmark = pytest.mark.slow

RETRYABLE = (409, 503)


def call(method: str, url: str, **kwargs: object) -> httpx.Response:
    return httpx.request(method, url, timeout=15, **kwargs)  # type: ignore[arg-type]


def until_ok(method: str, url: str, timeout: float = 15, **kwargs: object) -> httpx.Response:
    """Retry 409 session_busy / 503 as a client following Retry-After would (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        r = call(method, url, **kwargs)
        if r.status_code not in RETRYABLE or time.monotonic() > deadline:
            return r
        time.sleep(min(float(r.headers.get("retry-after", "1")), 0.5))


def test_redis_down_means_503_then_recovery_without_restart(
    redis_server_factory: Callable[..., RedisServer], tmp_path: Path
) -> None:
    redis = fsync_always(redis_server_factory(tcp=True, persistent=True))
    with ApiServer(redis.url, tmp_path) as api:
        u = api.url
        sid = call("POST", f"{u}/v1/sessions", json={"user_id": "ann"}).json()["session_id"]
        first = call("POST", f"{u}/v1/sessions/{sid}/messages", json={"text": "I loved The Matrix"})
        assert first.status_code == 200 and first.json()["turn"] == 1

        redis.kill()
        stateful = [
            ("POST", f"/v1/sessions/{sid}/messages", {"text": "something else"}),
            ("POST", f"/v1/sessions/{sid}/messages/stream", {"text": "something else"}),
            ("POST", f"/v1/sessions/{sid}/feedback", {"item_id": SUPERBAD, "kind": "like"}),
            ("GET", f"/v1/sessions/{sid}", None),
            ("DELETE", f"/v1/sessions/{sid}", None),
            ("POST", "/v1/sessions", {"user_id": "ann"}),
            ("GET", "/v1/users/ann/profile", None),
            ("PATCH", "/v1/users/ann/profile", {"liked_items": [MATRIX]}),
            ("POST", "/v1/recommendations", {"liked": [MATRIX], "user_id": "ann"}),
        ]
        for method, path, body in stateful:
            started = time.monotonic()
            r = call(method, u + path, json=body) if body is not None else call(method, u + path)
            elapsed = time.monotonic() - started
            assert r.status_code == 503, (method, path, r.status_code, r.text)
            assert r.headers["retry-after"] == "5" and r.json()["error"]["code"] == "store_unavailable"
            assert elapsed < 3, (path, elapsed)  # bounded by the client's timeouts and retries
        ready = call("GET", f"{u}/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("unavailable")
        assert call("GET", f"{u}/healthz").status_code == 200
        items = call("GET", f"{u}/v1/items", params={"q": "matrix"})
        assert items.status_code == 200 and items.json()["items"][0]["item_id"] == MATRIX
        assert call("GET", f"{u}/v1/items/{BLADE_RUNNER}").json()["title"] == "Blade Runner"
        recs = call("POST", f"{u}/v1/recommendations", json={"liked": [MATRIX], "k": 3})
        assert recs.status_code == 200 and len(recs.json()["recommendations"]) == 3

        redis.start()  # same port, same data directory: the AOF brings the session back
        fsync_always(redis)
        assert until_ok("GET", f"{u}/readyz").status_code == 200
        second = call("POST", f"{u}/v1/sessions/{sid}/messages", json={"text": "something else"})
        assert second.status_code == 200, second.text
        assert second.json()["turn"] == 2  # the counter survived; the failed attempts left no turn
        session = call("GET", f"{u}/v1/sessions/{sid}").json()
        assert [e["user"] for e in session["transcript"]] == [None, "I loved The Matrix", "something else"]
        assert session["transcript"][1]["bot"] == first.json()["reply"]
        assert session["state"]["items"]["liked"]["titles"] == ["The Matrix (1999)"]

        # a hung Redis (SIGSTOP: it accepts connections and never answers) is bounded by the timeouts
        os.kill(redis.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            r = call("POST", f"{u}/v1/sessions/{sid}/messages", json={"text": "still there?"})
            assert r.status_code == 503 and r.headers["retry-after"] == "5", r.text
            assert time.monotonic() - started < 10  # 2 s socket timeout x 3 attempts, then 503
        finally:
            os.kill(redis.pid, signal.SIGCONT)
        third = until_ok("POST", f"{u}/v1/sessions/{sid}/messages", json={"text": "thanks!"})
        assert third.status_code == 200 and third.json()["turn"] == 3


def test_nothing_acknowledged_is_lost_when_redis_and_the_api_crash(
    redis_server_factory: Callable[..., RedisServer], tmp_path: Path
) -> None:
    redis = fsync_always(redis_server_factory(tcp=True, persistent=True))
    env = {"CRS_TEST_LOCK_LEASE_SECONDS": "1"}
    api = ApiServer(redis.url, tmp_path, workers=2, env=env).start()
    u = api.url
    sid = call("POST", f"{u}/v1/sessions", json={"user_id": "bo"}).json()["session_id"]
    profile = call("PATCH", f"{u}/v1/users/bo/profile", json={"profile_text": "Loves heists; no gore."})
    assert profile.status_code == 200
    acked_turns: list[str] = []
    acked_feedback: list[tuple[int, str]] = []
    stop = threading.Event()
    feedback_cycle = [(SUPERBAD, "like"), (ANCHORMAN, "seen"), (BLADE_RUNNER, "like")]

    def talk() -> None:  # a client talking as fast as it can until the crash
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if i % 3 == 0:
                    item, kind = feedback_cycle[(i // 3) % len(feedback_cycle)]
                    r = call("POST", f"{u}/v1/sessions/{sid}/feedback", json={"item_id": item, "kind": kind})
                    if r.status_code == 200:
                        acked_feedback.append((item, kind))
                else:
                    text = f"message number {i}"
                    r = call("POST", f"{u}/v1/sessions/{sid}/messages", json={"text": text})
                    if r.status_code == 200:
                        acked_turns.append(text)
            except httpx.HTTPError:
                pass  # the connection died with the server: not acknowledged

    client = threading.Thread(target=talk)
    client.start()
    deadline = time.monotonic() + 10
    while len(acked_turns) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    redis.kill()  # both crash while requests are in flight
    api.kill()
    stop.set()
    client.join(20)
    assert len(acked_turns) >= 8 and acked_feedback

    redis.start()
    fsync_always(redis)
    with ApiServer(redis.url, tmp_path, env=env) as api2:
        u = api2.url
        session = until_ok("GET", f"{u}/v1/sessions/{sid}").json()
        said = [e["user"] for e in session["transcript"] if e["user"]]
        missing = [t for t in acked_turns if t not in said]
        assert not missing, f"acknowledged turns lost: {missing}"
        assert said[: len(acked_turns)] == acked_turns  # in order (a last unacknowledged one may follow)
        liked = set(session["state"]["items"]["liked"]["titles"])
        expected = {"Superbad (2007)", "Blade Runner (1982)"} & {
            {SUPERBAD: "Superbad (2007)", BLADE_RUNNER: "Blade Runner (1982)"}.get(i, "")
            for i, k in acked_feedback
        }
        assert expected <= liked
        stored = until_ok("GET", f"{u}/v1/users/bo/profile").json()
        assert stored["profile_text"] == "Loves heists; no gore."
        assert {i["item_id"] for i in stored["liked_items"]} >= {i for i, k in acked_feedback if k == "like"}
        # and the conversation goes on where it stopped
        more = until_ok("POST", f"{u}/v1/sessions/{sid}/messages", json={"text": "one more"})
        assert more.status_code == 200, more.text
        assert more.json()["turn"] > len(acked_turns)
