"""Redis down -> StoreUnavailableError, fast (socket timeouts, bounded retries); back up -> data intact."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from dialogue.state.events import ItemMentioned, UserUttered
from dialogue.store.connection import client_options, connect
from dialogue.store.redis_store import StateStore
from recsys.errors import StoreUnavailableError
from recsys.settings import Settings
from tests.redis_fixtures import RedisServer, free_tcp_port

FAST = client_options(socket_timeout=0.3, connect_timeout=0.3, retries=1)


def every_operation(store: StateStore) -> list[Callable[[], object]]:
    return [
        lambda: store.create_session("alice"),
        lambda: store.append_events("abc", [UserUttered(1, "hi")]),
        lambda: store.next_turn("abc"),
        lambda: store.load_state("abc"),
        lambda: store.load_events("abc"),
        lambda: store.session_user("abc"),
        lambda: store.list_sessions("alice"),
        lambda: store.get_profile("alice"),
        lambda: store.update_profile("alice", lambda p: None),
        lambda: store.delete_user("alice"),
        lambda: store.delete_session("abc"),
        store.ping,
    ]


def test_closed_port_raises_store_unavailable_quickly() -> None:
    store = StateStore(redis.Redis(host="127.0.0.1", port=free_tcp_port(), **FAST))
    start = time.monotonic()
    for op in every_operation(store):
        with pytest.raises(StoreUnavailableError, match="state store unavailable"):
            op()
    assert time.monotonic() - start < 5


def test_connect_with_a_dead_url() -> None:
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_tcp_port()}/0")
    store = StateStore(connect(settings, socket_timeout=0.3, connect_timeout=0.3, retries=0))
    with pytest.raises(StoreUnavailableError):
        store.create_session()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections but never answers (a hung server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])


def test_hung_server_times_out_into_store_unavailable(silent_server: int) -> None:
    store = StateStore(redis.Redis(host="127.0.0.1", port=silent_server, **FAST))
    start = time.monotonic()
    with pytest.raises(StoreUnavailableError, match=r"(?i)timeout|timed out"):
        store.load_state("abc")
    assert time.monotonic() - start < 3


def test_server_crash_then_recovery(redis_server_factory: Callable[..., RedisServer]) -> None:
    server = redis_server_factory(tcp=True, persistent=True)
    store = StateStore(server.client(**FAST))
    sid = store.create_session("alice")
    store.append_events(sid, [UserUttered(1, "I liked Heat"), ItemMentioned(7, "liked")])
    server.kill()
    with pytest.raises(StoreUnavailableError):
        store.append_events(sid, [UserUttered(2, "hello?")])
    with pytest.raises(StoreUnavailableError):
        store.load_state(sid)
    server.start()  # same port and directory: the AOF brings the session back
    assert list(store.load_state(sid).liked_items) == [7]
    store.append_events(sid, [UserUttered(2, "still there?")])
    assert store.load_state(sid).turn == 2
