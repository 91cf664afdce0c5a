"""Session locks on a real Redis: mutual exclusion, bounded waits, token-checked release, lease renewal,
and the lease of a dead holder running out."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from dialogue.store.keys import Keys
from dialogue.store.locks import SessionBusyError, SessionLocks
from recsys.errors import SessionNotFoundError, StoreUnavailableError
from tests.redis_fixtures import free_tcp_port

NO_RETRY = Retry(NoBackoff(), 0)


def test_one_holder_at_a_time(redis_client: redis.Redis) -> None:
    locks = SessionLocks(redis_client, wait_seconds=5)
    inside, overlaps, order = [0], [], []
    guard = threading.Lock()

    def work(i: int) -> None:
        with locks.hold("s1"):
            with guard:
                inside[0] += 1
                overlaps.append(inside[0])
            time.sleep(0.01)
            order.append(i)
            with guard:
                inside[0] -= 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(order) == list(range(20)) and max(overlaps) == 1
    assert redis_client.exists(Keys().session("s1", "lock")) == 0  # released


def test_other_sessions_are_not_blocked(redis_client: redis.Redis) -> None:
    locks = SessionLocks(redis_client, wait_seconds=0)
    with locks.hold("a"), locks.hold("b"), pytest.raises(SessionBusyError, match="session a is busy"):
        locks.acquire("a")


def test_waiting_is_bounded(redis_client: redis.Redis) -> None:
    locks = SessionLocks(redis_client, wait_seconds=0.3)
    with locks.hold("s"):
        start = time.monotonic()
        with pytest.raises(SessionBusyError):
            locks.acquire("s")
        assert 0.3 <= time.monotonic() - start < 1.0


def test_release_never_frees_someone_elses_lock(redis_client: redis.Redis) -> None:
    locks = SessionLocks(redis_client, lease_seconds=0.2, wait_seconds=2)
    lease = locks.acquire("s")
    locks.renew = lambda lease: True  # type: ignore[method-assign] - simulate a stalled renewer
    from dialogue.store.locks import _renewer

    _renewer.discard(lease)
    time.sleep(0.3)  # the lease ran out; another holder takes the lock
    other = SessionLocks(redis_client, wait_seconds=0).acquire("s")
    assert locks.release(lease) is False and lease.lost
    assert redis_client.get(other.key) == other.token.encode()


def test_renewal_keeps_a_long_holder(redis_client: redis.Redis) -> None:
    locks = SessionLocks(redis_client, lease_seconds=0.3, wait_seconds=0)
    with locks.hold("s") as lease:
        time.sleep(1.0)  # three leases long
        with pytest.raises(SessionBusyError):
            SessionLocks(redis_client, wait_seconds=0).acquire("s")
        assert not lease.lost
    assert redis_client.exists(lease.key) == 0


def test_dead_holder_frees_the_session_within_one_lease(redis_client: redis.Redis) -> None:
    key = Keys().session("s", "lock")
    redis_client.set(key, "token-of-a-killed-worker", px=300)  # nobody renews it
    start = time.monotonic()
    with SessionLocks(redis_client, wait_seconds=2).hold("s"):
        assert 0.2 < time.monotonic() - start < 1.0


def test_bad_session_id_and_dead_redis() -> None:
    client = redis.Redis(host="127.0.0.1", port=free_tcp_port(), socket_connect_timeout=0.2, retry=NO_RETRY)
    locks = SessionLocks(client, wait_seconds=0)
    with pytest.raises(SessionNotFoundError):
        locks.acquire("{evil}")
    with pytest.raises(StoreUnavailableError):
        locks.acquire("s")


def test_release_missed_while_redis_was_down_lands_after_its_restart(redis_server_factory) -> None:
    server = redis_server_factory(tcp=True, persistent=True)
    admin = server.client()
    admin.config_set("appendfsync", "always")
    client = redis.Redis(
        host="127.0.0.1", port=server.port, socket_connect_timeout=0.2, socket_timeout=0.5, retry=NO_RETRY
    )
    locks = SessionLocks(client, lease_seconds=10, wait_seconds=0)
    with locks.hold("s") as lease:
        server.kill()  # the turn's Redis dies under it; the lock key is in the AOF
    server.start()  # same port and data: the lock came back with its 10 s lease
    deadline = time.monotonic() + 3
    while server.client().exists(lease.key) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.client().exists(lease.key)  # freed long before its lease ran out
    with locks.hold("s"):
        pass


def test_a_short_lease_after_long_ones_is_still_renewed_without_waking_per_lease(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dialogue.store import locks as locks_module

    renewer = locks_module._renewer
    notified = [0]
    original = renewer._cond.notify

    def counting(n: int = 1) -> None:
        notified[0] += 1
        original(n)

    monkeypatch.setattr(renewer._cond, "notify", counting)
    long = SessionLocks(redis_client, lease_seconds=30)
    with long.hold("long-1"):
        time.sleep(0.05)  # the renewer now waits for the first long lease's renewal, ~10 s away
        before = notified[0]
        for i in range(10):  # leases due after that wake-up: nobody wakes the renewer
            with long.hold(f"long-{i + 2}"):
                pass
        assert notified[0] == before
        short = SessionLocks(redis_client, lease_seconds=0.3)
        with short.hold("short") as lease:  # due before: the renewer is woken and renews it in time
            time.sleep(0.8)
            assert redis_client.get(lease.key) == lease.token.encode()
        assert notified[0] >= before + 1 and not lease.lost
