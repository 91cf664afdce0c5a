"""api.balance: workers sharing a listening socket spread keep-alive connections evenly (least
connections), never leave one unaccepted for long, and ignore workers that died."""

from __future__ import annotations

import asyncio
import collections
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import balance
from api.balance import BalancedAcceptor, LoadBoard

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def other_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process standing for another worker (the board only checks that its pid is alive)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_board_slots_counts_and_least_connections(
    tmp_path: Path, other_process: subprocess.Popen[bytes]
) -> None:
    LoadBoard.create(tmp_path)
    me = LoadBoard.join(tmp_path)
    other = LoadBoard.join(tmp_path, pid=other_process.pid)
    assert (me.slot, other.slot) == (0, 1)
    me.publish(3)
    other.publish(5)
    assert me.others() == [5]
    assert other.others() == [3]
    assert not me.should_defer(3)  # nobody holds fewer
    assert other.should_defer(5)  # 3 < 5: leave the next connection to the other worker
    other.publish(3)
    assert not me.should_defer(3) and not other.should_defer(3)  # a tie: both accept


def test_a_dead_worker_is_ignored_and_its_slot_reused(tmp_path: Path) -> None:
    LoadBoard.create(tmp_path)
    me = LoadBoard.join(tmp_path)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    ghost = LoadBoard.join(tmp_path, pid=gone.pid)
    ghost.publish(0)
    gone.wait()
    assert me.others() == []  # its count (0) would otherwise make this worker defer forever
    assert not me.should_defer(10)
    again = LoadBoard.join(tmp_path, pid=gone.pid + 10_000_000)  # a new worker takes the dead one's slot
    assert (me.slot, ghost.slot, again.slot) == (0, 1, 1)


class _Hold(asyncio.Protocol):
    """Keeps a connection open and counts it for its acceptor."""

    def __init__(self, held: set[asyncio.BaseTransport]) -> None:
        self.held = held

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.held.add(transport)


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


async def _connect(port: int, n: int) -> list[socket.socket]:
    clients = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        clients.append(c)
        await asyncio.sleep(0)
    await asyncio.sleep(0.3)
    return clients


def test_two_acceptors_on_one_socket_split_connections_evenly(
    tmp_path: Path, other_process: subprocess.Popen[bytes]
) -> None:
    async def scenario() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        LoadBoard.create(tmp_path)
        boards = [LoadBoard.join(tmp_path), LoadBoard.join(tmp_path, pid=other_process.pid)]
        with _listener() as sock, sock.dup() as twin:  # each worker process has its own descriptor
            held: list[set[asyncio.BaseTransport]] = [set(), set()]
            acceptors = [
                BalancedAcceptor(loop, s, lambda h=h: _Hold(h), board, count=lambda h=h: len(h))
                for s, h, board in zip((sock, twin), held, boards, strict=True)
            ]
            for a in acceptors:
                a.start()
            clients = await _connect(sock.getsockname()[1], 20)
            counts = (len(held[0]), len(held[1]))
            for a in acceptors:
                a.close()
                await a.wait_closed()
            for c in clients:
                c.close()
            for h in held:
                for t in h:
                    t.close()
        return counts

    first, second = asyncio.run(scenario())
    assert first + second == 20
    assert abs(first - second) <= 2, (first, second)


def test_a_connection_is_accepted_even_when_the_less_loaded_worker_never_takes_it(
    tmp_path: Path, other_process: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(balance, "MAX_DEFER_SECONDS", 0.05)

    async def scenario() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        LoadBoard.create(tmp_path)
        me = LoadBoard.join(tmp_path)
        LoadBoard.join(tmp_path, pid=other_process.pid).publish(0)  # idle on paper, never accepts
        held: set[asyncio.BaseTransport] = set()
        with _listener() as sock:
            acceptor = BalancedAcceptor(loop, sock, lambda: _Hold(held), me, count=lambda: len(held) + 1)
            acceptor.start()
            started = time.monotonic()
            client = socket.create_connection(sock.getsockname())
            while not held and time.monotonic() - started < 2:
                await asyncio.sleep(0.005)
            waited = time.monotonic() - started
            acceptor.close()
            await acceptor.wait_closed()
            client.close()
            for t in held:
                t.close()
        return len(held), waited

    accepted, waited = asyncio.run(scenario())
    assert accepted == 1
    assert 0.04 <= waited < 0.5  # it deferred first, then took it itself


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _pids_of_connections(port: int, n: int) -> collections.Counter[int]:
    async def one() -> tuple[int, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /pid HTTP/1.1\r\nHost: test\r\n\r\n")
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        return json.loads(await reader.readexactly(length))["pid"], writer

    answers = await asyncio.gather(*(one() for _ in range(n)))  # all connections open at once
    for _, writer in answers:
        writer.close()
    return collections.Counter(pid for pid, _ in answers)


def test_served_workers_hold_an_even_share_of_keep_alive_connections() -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "api.serving", "--app", "tests.api.pid_app:create_pid_app"]
    server = subprocess.Popen(
        [*cmd, "--workers", "2", "--port", str(port), "--log-level", "warning"], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # until both workers answer (the first one up takes every connection meanwhile)
            assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
            try:
                if len(asyncio.run(_pids_of_connections(port, 8))) == 2:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        time.sleep(0.3)
        for _ in range(3):
            pids = asyncio.run(_pids_of_connections(port, 32))
            assert len(pids) == 2, pids
            assert max(pids.values()) - min(pids.values()) <= 4, pids
            time.sleep(0.3)  # the closed connections leave the counts
    finally:
        server.terminate()
        server.wait(timeout=30)
