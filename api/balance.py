"""Least-connections accept across the worker processes of one listening socket.

With several uvicorn workers every process accepts from the same socket, and whichever event loop wakes
first takes the connection. Keep-alive clients keep their connection for their whole life, so the split
drawn at connect time stays: measured with wrk's 32 connections over 2 workers, 19/13, 20/12, even 8/24.
The busier worker's queue then sets the latency tail (p99) while the other has spare time.

Here each worker publishes how many connections it holds on a small shared board (a memory-mapped file,
one slot per live worker) and stops accepting for a moment (`DEFER_SECONDS`) when another live worker
holds fewer: the other one takes the connection. A worker never waits more than `MAX_DEFER_SECONDS` in a
row (the others may be stalled or gone), so a connection is never left unaccepted for long.

    board = LoadBoard.join(directory)      # in each worker: claims a slot
    acceptor = BalancedAcceptor(loop, sock, protocol_factory, board, count=lambda: len(connections))
    acceptor.start()  ...  acceptor.close(); await acceptor.wait_closed()

`BalancedServer` is uvicorn's `Server` with that acceptor in place of `loop.create_server` for the
sockets its supervisor hands over (`api.serving.run` uses it with several workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import mmap
import os
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

BOARD_ENV = "CRS_WORKER_BOARD"  # directory of the shared board (set by the supervisor for its workers)
SLOTS = 64
_SLOT = struct.Struct("<qq")  # pid, connections
DEFER_SECONDS = 0.002
MAX_DEFER_SECONDS = 0.05
PUBLISH_SECONDS = 0.05  # a worker re-publishes its count this often (connections also close)


class LoadBoard:
    """Per-worker connection counts shared through a memory-mapped file (one `<pid, count>` slot each).

    A slot belongs to a live process: a worker that died (its pid gone) is ignored and its slot reused.
    Writes are aligned 8-byte stores, so a reader sees either the old or the new count.
    """

    def __init__(self, path: Path, slot: int, buffer: mmap.mmap) -> None:
        self.path, self.slot, self._buf = path, slot, buffer
        self._alive: dict[int, float] = {}  # pid -> when last seen alive (checking costs a syscall)

    @staticmethod
    def create(directory: Path) -> Path:
        """Make an empty board in `directory` (the supervisor does this once)."""
        path = Path(directory) / "board"
        path.write_bytes(bytes(_SLOT.size * SLOTS))
        return path

    @classmethod
    def join(cls, directory: Path, pid: int | None = None) -> LoadBoard:
        """Claim a free slot (or one of a dead worker) for this process."""
        pid = os.getpid() if pid is None else pid
        path = Path(directory) / "board"
        with open(path, "r+b") as f:
            buf = mmap.mmap(f.fileno(), _SLOT.size * SLOTS)
            fcntl.flock(f, fcntl.LOCK_EX)  # one worker claims at a time
            try:
                for slot in range(SLOTS):
                    owner, _ = _SLOT.unpack_from(buf, slot * _SLOT.size)
                    if owner == 0 or owner == pid or not _pid_alive(owner):
                        _SLOT.pack_into(buf, slot * _SLOT.size, pid, 0)
                        return cls(path, slot, buf)
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        buf.close()
        raise RuntimeError(f"{path}: no free slot for another worker ({SLOTS} taken)")

    def publish(self, connections: int) -> None:
        struct.pack_into("<q", self._buf, self.slot * _SLOT.size + 8, connections)

    def others(self) -> list[int]:
        """The connection counts of the other live workers."""
        counts = []
        now = time.monotonic()
        for slot in range(SLOTS):
            if slot == self.slot:
                continue
            pid, count = _SLOT.unpack_from(self._buf, slot * _SLOT.size)
            if pid == 0:
                continue
            seen = self._alive.get(pid)
            if seen is None or now - seen > 1.0:
                if not _pid_alive(pid):
                    self._alive.pop(pid, None)
                    continue
                self._alive[pid] = now
            counts.append(count)
        return counts

    def should_defer(self, mine: int) -> bool:
        """True when another live worker holds fewer connections than `mine`."""
        return any(count < mine for count in self.others())

    def leave(self) -> None:
        with contextlib.suppress(ValueError):
            _SLOT.pack_into(self._buf, self.slot * _SLOT.size, 0, 0)
            self._buf.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BalancedAcceptor:
    """Accepts from a listening socket shared with other processes, leaving connections to less loaded
    workers (see the module docstring). Stands in for the `asyncio.Server` uvicorn would keep."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        board: LoadBoard,
        count: Callable[[], int],
        ssl: Any = None,
    ) -> None:
        self._loop, self._sock, self._factory = loop, sock, protocol_factory
        self._board, self._count, self._ssl = board, count, ssl
        self._pending = 0  # accepted, protocol not yet attached
        self._deferred_since: float | None = None
        self._reading = False
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._publisher: asyncio.TimerHandle | None = None

    def connections(self) -> int:
        return self._count() + self._pending

    def start(self, backlog: int = 2048) -> None:
        self._sock.setblocking(False)
        self._sock.listen(backlog)  # as loop.create_server does (uvicorn binds without listening)
        self._resume()
        self._publish()

    def _publish(self) -> None:
        if self._closed:
            return
        self._board.publish(self.connections())
        self._publisher = self._loop.call_later(PUBLISH_SECONDS, self._publish)

    def _resume(self) -> None:
        if not self._closed and not self._reading:
            self._loop.add_reader(self._sock.fileno(), self._ready)
            self._reading = True

    def _pause(self, seconds: float) -> None:
        if self._reading:
            self._loop.remove_reader(self._sock.fileno())
            self._reading = False
        self._loop.call_later(seconds, self._resume)

    def _ready(self) -> None:
        """A connection is waiting: take it, unless a less loaded worker should."""
        now = time.monotonic()
        if self._board.should_defer(self.connections()):
            if self._deferred_since is None:
                self._deferred_since = now
            if now - self._deferred_since < MAX_DEFER_SECONDS:
                self._pause(DEFER_SECONDS)
                return
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError):
            return  # another worker took it
        except ConnectionAbortedError:
            return  # the client gave up before it was accepted
        except OSError as exc:  # out of descriptors or memory: try again in a second, as asyncio does
            log.error("accept failed (%s): pausing for 1 s", exc)
            self._pause(1.0)
            return
        self._deferred_since = None
        conn.setblocking(False)
        self._pending += 1
        self._board.publish(self.connections())
        task = self._loop.create_task(self._attach(conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _attach(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn, ssl=self._ssl)
        except Exception:  # a TLS handshake that failed, a peer gone: drop this connection only
            log.debug("could not attach an accepted connection", exc_info=True)
            conn.close()
        finally:
            self._pending -= 1

    # what uvicorn's Server.shutdown calls on its servers
    def close(self) -> None:
        self._closed = True
        if self._reading:
            self._loop.remove_reader(self._sock.fileno())
            self._reading = False
        if self._publisher is not None:
            self._publisher.cancel()
        self._board.leave()

    async def wait_closed(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class BalancedServer(uvicorn.Server):
    """uvicorn's server; sockets handed over by the supervisor are served by `BalancedAcceptor`s."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        directory = os.environ.get(BOARD_ENV)
        if sockets is None or directory is None:
            await super().startup(sockets=sockets)
            return
        await super().startup(sockets=[])  # lifespan, no listening servers
        if not self.started:
            return
        loop = asyncio.get_running_loop()
        config, state = self.config, self.server_state

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=state, app_state=self.lifespan.state, _loop=loop
            )

        board = LoadBoard.join(Path(directory))
        self.servers = []
        for sock in sockets:
            acceptor = BalancedAcceptor(
                loop, sock, create_protocol, board, count=lambda: len(state.connections), ssl=config.ssl
            )
            acceptor.start(config.backlog)
            self.servers.append(acceptor)  # type: ignore[arg-type]
