"""Real servers in subprocesses for the reliability tests: uvicorn serving a test app with N workers, and
helpers to make a persistent test Redis acknowledge only what is on disk."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from recsys.settings import PROJECT_ROOT
from tests.redis_fixtures import RedisServer, free_tcp_port

FAULT_APP = "tests.api.fault_app:create_fault_app"


def fsync_always(server: RedisServer) -> RedisServer:
    """`appendfsync always` on a persistent test server (every acknowledged write is on disk)."""
    client = server.client()
    try:
        client.config_set("appendfsync", "always")
    finally:
        client.close()
    return server


class ApiServer:
    """`uvicorn <app> --factory --workers N` on a free loopback port, with CRS_REDIS_URL set."""

    def __init__(
        self,
        redis_url: str,
        tmp: Path,
        *,
        workers: int = 1,
        app: str = FAULT_APP,
        env: dict[str, str] | None = None,
        graceful_seconds: float = 20,
    ) -> None:
        self.port = free_tcp_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = tmp / f"uvicorn-{self.port}.log"
        self.env = {
            **os.environ,
            "CRS_REDIS_URL": redis_url,
            "CRS_RATE_LIMIT": "0",
            "CRS_ARTIFACTS_DIR": str(tmp / "artifacts"),
            "CRS_LLM_MODEL": "none",
            **(env or {}),
        }
        # served the way `crs serve` serves (api.cli.run_server: graceful shutdown, exit status 0); idle
        # keep-alive connections outlive any test's burst (a client reusing one the server is closing at
        # that instant gets a transport error: HTTP/1.1's keep-alive race)
        options = dict(
            host="127.0.0.1",
            port=self.port,
            workers=workers,
            log_level="warning",
            graceful_seconds=graceful_seconds,
            keep_alive_seconds=60,
        )
        code = f"from api.cli import run_server; run_server({app!r}, **{options!r})"
        self.cmd = [sys.executable, "-c", code]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> ApiServer:
        """Start and wait until every worker answers /readyz with 200."""
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            self.cmd, env=self.env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        ready: set[str] = set()
        deadline = time.monotonic() + timeout
        while len(ready) < self.workers:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited {self.process.returncode}: {self.log()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"uvicorn not ready within {timeout} s: {self.log()}")
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=5)
                if r.status_code == 200:
                    ready.add(r.headers["x-worker-pid"])
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return self

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM (graceful shutdown) and wait; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the server and its workers (a crash)."""
        if self.process is not None and self.process.poll() is None:
            if self.workers > 1:  # the workers are children of the supervisor
                for pid in _children(self.process.pid):
                    _kill(pid)
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.is_file() else ""

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
