"""Real uvicorn servers in subprocesses: a session alternates between two workers, and survives a restart.

State lives only in Redis, so any worker continues any session, and a new server process picks up where
the old one stopped. Slow-ish (server start-up: imports and the tiny manager in each worker).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from recsys.settings import PROJECT_ROOT
from tests.redis_fixtures import RedisServer, free_tcp_port

pytestmark = pytest.mark.slow


@contextmanager
def uvicorn_server(redis_url: str, workers: int, tmp: Path) -> Iterator[str]:
    """`uvicorn tests.api.tiny_app:create_tiny_app --factory --workers N`; yields its URL once every
    worker answers /readyz."""
    port = free_tcp_port()
    env = {
        **os.environ,
        "CRS_REDIS_URL": redis_url,
        "CRS_RATE_LIMIT": "0",
        "CRS_ARTIFACTS_DIR": str(tmp / "artifacts"),
        "CRS_LLM_MODEL": "none",
    }
    cmd = [sys.executable, "-m", "uvicorn", "tests.api.tiny_app:create_tiny_app", "--factory"]
    cmd += ["--workers", str(workers), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    log = (tmp / f"uvicorn-{port}.log").open("w")
    process = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        ready: set[str] = set()
        deadline = time.monotonic() + 90
        while len(ready) < workers:
            assert process.poll() is None, (tmp / f"uvicorn-{port}.log").read_text()
            assert time.monotonic() < deadline, "the server did not become ready"
            try:
                r = httpx.get(f"{url}/readyz", timeout=5)
                if r.status_code == 200:
                    ready.add(r.headers["x-worker-pid"])
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_session_across_workers_and_restarts(redis_server: RedisServer, redis_client, tmp_path: Path) -> None:
    turns: list[tuple[int, str]] = []
    with uvicorn_server(redis_server.url, 2, tmp_path) as url:
        sid = httpx.post(f"{url}/v1/sessions", json={"user_id": "walt"}).json()["session_id"]
        text = "I loved The Matrix"
        for _ in range(40):  # a new connection per request: the workers take turns accepting them
            r = httpx.post(f"{url}/v1/sessions/{sid}/messages", json={"text": text}, timeout=30)
            assert r.status_code == 200, r.text
            turns.append((r.json()["turn"], r.headers["x-worker-pid"]))
            text = "recommend me something else"
            if len({pid for _, pid in turns}) == 2 and len(turns) >= 3:
                break
    assert len({pid for _, pid in turns}) == 2, f"one worker served every turn: {turns}"
    assert [t for t, _ in turns] == list(range(1, len(turns) + 1))  # one counter, whichever worker

    with uvicorn_server(redis_server.url, 1, tmp_path) as url:  # a restarted API
        r = httpx.post(f"{url}/v1/sessions/{sid}/messages", json={"text": "thanks!"}, timeout=30)
        assert r.status_code == 200 and r.json()["turn"] == len(turns) + 1
        session = httpx.get(f"{url}/v1/sessions/{sid}").json()
    assert [e["turn"] for e in session["transcript"]] == list(range(len(turns) + 2))
    assert session["transcript"][1]["user"] == "I loved The Matrix"
    assert session["state"]["items"]["liked"]["titles"] == ["The Matrix (1999)"]
