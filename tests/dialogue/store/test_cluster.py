"""The state store on a real three-node Redis Cluster: selected by a `redis+cluster://` URL, every
multi-key script / transaction stays in one slot, a whole conversation runs through the dialogue manager,
and deleting a user leaves no key on any node."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import (
    ClusterDownError,
    ReadOnlyError,
    RedisClusterException,
    SlotNotCoveredError,
    TryAgainError,
)

from dialogue.state.state import DialogueState
from dialogue.store import StateStore, connect
from dialogue.store.connection import redacted, unavailable_as_error
from dialogue.store.keys import Keys
from recsys.errors import StoreUnavailableError
from recsys.settings import Settings
from tests.api.synthetic import CLUSTERS, MATRIX, tiny_manager
from tests.dialogue.store.test_store_concurrency import check_log, take_turns
from tests.redis_cluster_fixtures import RedisClusterNodes, free_cluster_ports

ALIEN, INCEPTION = 2, 3  # catalog ids in tests.api.synthetic


def node_keys(cluster: RedisClusterNodes) -> dict[int, set[str]]:
    """Every key of each node (SCAN on each node's own connection, not through the cluster client)."""
    out: dict[int, set[str]] = {}
    for port in cluster.ports:
        client = redis.Redis(port=port)
        try:
            out[port] = {k.decode() for k in client.scan_iter(match="*", count=1000)}
        finally:
            client.close()
    return out


def test_the_url_picks_a_cluster_client(cluster_url: str, redis_url: str) -> None:
    cluster = connect(Settings(redis_url=cluster_url))
    single = connect(Settings(redis_url=redis_url))
    try:
        assert isinstance(cluster, RedisCluster) and cluster.ping()
        assert len(cluster.get_primaries()) == 3
        assert isinstance(single, redis.Redis) and not isinstance(single, RedisCluster)
    finally:
        cluster.close()
        single.close()


def test_keys_of_one_session_or_user_share_a_slot() -> None:
    keys = Keys()
    slots_of_sessions = set()
    for i in range(200):
        sid = f"session-{i}"
        slots = {key_slot(k.encode()) for k in keys.session_keys(sid)}
        assert len(slots) == 1, sid
        slots_of_sessions |= slots
        assert len({key_slot(k.encode()) for k in keys.user_keys(f"user-{i}")}) == 1
    assert len(slots_of_sessions) > 150  # different sessions spread over the cluster


def test_unreachable_cluster_is_store_unavailable() -> None:
    (port,) = free_cluster_ports(1)
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="Redis Cluster"):
        connect(Settings(redis_url=f"redis+cluster://127.0.0.1:{port}"), connect_timeout=0.2)
    assert time.monotonic() - started < 5


def test_unreachable_cluster_message_hides_the_password() -> None:
    (port,) = free_cluster_ports(1)
    with pytest.raises(StoreUnavailableError) as raised:
        connect(Settings(redis_url=f"redis+cluster://app:s3cret@127.0.0.1:{port}"), connect_timeout=0.2)
    assert "s3cret" not in str(raised.value) and "app:***@127.0.0.1" in str(raised.value)
    assert (
        redacted("rediss://:pw@h:1/0") == "rediss://:***@h:1/0" and redacted("redis://h:1") == "redis://h:1"
    )


@pytest.mark.parametrize(
    "error",
    [
        ClusterDownError("The cluster is down"),
        TryAgainError("Multiple keys request during rehashing of slot"),
        ReadOnlyError("You can't write against a read only replica."),
        SlotNotCoveredError("Command # 1 (GET x) requires a slot that is not covered"),
        RedisClusterException(
            "Redis Cluster cannot be connected. Please provide at least one reachable node"
        ),
    ],
)
def test_cluster_failures_mean_store_unavailable(error: Exception) -> None:
    with pytest.raises(StoreUnavailableError, match="state store unavailable"), unavailable_as_error("x"):
        raise error


def test_cluster_programming_errors_stay_errors() -> None:
    with pytest.raises(RedisClusterException), unavailable_as_error("x"):
        raise RedisClusterException("deleting multiple keys is not implemented in pipeline command")


def test_conversation_and_user_deletion_on_a_cluster(
    redis_cluster: RedisClusterNodes, cluster_url: str
) -> None:
    store = StateStore(connect(Settings(redis_url=cluster_url)), ttl_seconds=60, snapshot_every=4)
    manager = tiny_manager(store)
    try:
        # sessions of two users, with fixed ids whose slots lie on different nodes
        sid = manager.start_session("alice", session_id="alice-1")
        others = [manager.start_session("bob", session_id=f"bob-{i}") for i in range(6)]
        spread = node_keys(redis_cluster)
        assert sum(1 for keys in spread.values() if any("{s:" in k for k in keys)) >= 2

        first = manager.turn(sid, "I loved The Matrix")
        assert first.action == "recommend"
        assert {r.item_id for r in first.recommendations} >= set(CLUSTERS["sci-fi"]) - {MATRIX}
        second = manager.turn(sid, "I hated Alien. Something else please")
        manager.feedback(sid, INCEPTION, "dislike")
        third = manager.turn(sid, "more please")
        assert [first.turn, second.turn, third.turn] == [1, 2, 3]
        shown = [r.item_id for t in (first, second, third) for r in t.recommendations]
        assert len(shown) == len(set(shown))  # nothing shown twice
        assert not {ALIEN, INCEPTION} & {r.item_id for r in third.recommendations}

        # the snapshot script ran (snapshot_every=4); the cached state equals a full replay
        state = store.load_state(sid)
        assert store.client.hget(store.keys.session(sid, "snapshot"), "n") is not None
        assert state == DialogueState.replay(store.load_events(sid))
        assert state.turn == 3 and list(state.liked_items) == [MATRIX]
        assert set(state.disliked_items) == {ALIEN, INCEPTION}

        manager.end_session(sid)
        profile = store.get_profile("alice")
        assert list(profile.liked_items) == [MATRIX] and set(profile.disliked_items) == {ALIEN, INCEPTION}
        assert store.list_sessions("alice") == [sid]
        assert store.list_sessions("bob") == others

        # keys other parts of the service keep under a session's tag (idempotency records, locks)
        store.client.set(store.keys.session(sid, "idem:feedc0de"), '{"status": 200}')
        store.client.set(store.keys.session(others[0], "lock"), "token")

        deleted = store.delete_user("alice")
        assert deleted == 2 + len(Keys.SESSION_PARTS) + 1  # profile, index, the session's five keys, idem
        remaining = set().union(*node_keys(redis_cluster).values())
        assert not {k for k in remaining if "alice" in k}
        assert {k for k in remaining if k.startswith("crs:{u:bob}")} == {"crs:{u:bob}:sessions"}  # no profile
        assert len({k for k in remaining if k.startswith("crs:{s:bob-")}) == len(others) * 4 + 1  # the lock
        assert store.delete_user("bob") == 1 + len(others) * (len(Keys.SESSION_PARTS) - 1) + 1
        assert set().union(*node_keys(redis_cluster).values()) == set()
    finally:
        store.close()


def test_concurrent_turns_and_profile_updates_on_a_cluster(cluster_url: str) -> None:
    """Scripts (turn counter, appends, profile compare-and-set) under contention."""
    store = StateStore(connect(Settings(redis_url=cluster_url)), ttl_seconds=60, snapshot_every=16)
    try:
        sid = store.create_session("frank")
        barrier = threading.Barrier(4)
        workers = [
            threading.Thread(target=take_turns, args=(store, sid, f"w{w}", 15, barrier)) for w in range(4)
        ]

        def like_many(w: int) -> None:
            for i in range(8):
                store.update_profile("frank", lambda p, item=100 * w + i: p.liked_items.add(item))

        workers += [threading.Thread(target=like_many, args=(w,)) for w in range(3)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        assert check_log(store, sid, 4 * 15) == {f"w{w}": 15 for w in range(4)}
        assert store.load_state(sid).turn == 60
        profile = store.get_profile("frank")
        assert profile.version == 24 and len(profile.liked_items) == 24
    finally:
        store.close()


def test_the_api_on_a_cluster(cluster_url: str) -> None:
    """The HTTP API with its store (and its rate limiter) on the cluster: a session, feedback, a profile."""
    from fastapi.testclient import TestClient

    from api.deps import get_manager
    from api.main import create_app

    store = StateStore(connect(Settings(redis_url=cluster_url)), ttl_seconds=60)
    manager = tiny_manager(store)
    app = create_app(Settings(rate_limit=1000, api_warm_up=False))
    app.dependency_overrides[get_manager] = lambda: manager
    try:
        with TestClient(app) as client:
            sid = client.post("/v1/sessions", json={"user_id": "erin"}).json()["session_id"]
            turn = client.post(f"/v1/sessions/{sid}/messages", json={"text": "I loved The Matrix"})
            assert turn.status_code == 200
            assert {r["item_id"] for r in turn.json()["recommendations"]} >= set(CLUSTERS["sci-fi"]) - {
                MATRIX
            }
            r = client.post(f"/v1/sessions/{sid}/feedback", json={"item_id": ALIEN, "kind": "dislike"})
            assert r.status_code == 200
            read = client.get("/v1/users/erin/profile")
            assert read.headers["ratelimit-remaining"] == "996"  # the limiter counts on the cluster
            profile = read.json()
            assert [i["item_id"] for i in profile["liked_items"]] == [MATRIX]
            assert [i["item_id"] for i in profile["disliked_items"]] == [ALIEN]
            assert client.get("/readyz").status_code == 200
            other = client.post("/v1/sessions", json={"user_id": "erin"}).json()["session_id"]
            assert client.delete(f"/v1/sessions/{other}").status_code == 200
            assert client.get(f"/v1/sessions/{other}").status_code == 404
            assert store.list_sessions("erin") == [sid]
            assert client.delete("/v1/users/erin").json()["keys_deleted"] == 2 + 4
        assert not [k for k in store.client.scan_iter(match="crs:{*") if b"erin" in k or sid.encode() in k]
    finally:
        store.close()


def test_deleting_a_user_on_one_server_also_finds_other_session_keys(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client, ttl_seconds=60)
    mine = [store.create_session("carol") for _ in range(3)]
    theirs = store.create_session("dave")
    for sid in [*mine, theirs]:
        redis_client.set(store.keys.session(sid, "idem:0123"), "{}")
    assert store.delete_user("carol") == 1 + 3 * 5  # index (no profile), per session: four keys + idem
    left = {k.decode() for k in redis_client.scan_iter(match="crs:*")}
    assert left == {*store.keys.session_keys(theirs)[:4], store.keys.session(theirs, "idem:0123"),
                    "crs:{u:dave}:sessions"}  # fmt: skip


def test_a_lost_node_is_store_unavailable_not_a_crash(tmp_path: Path) -> None:
    cluster = RedisClusterNodes(tmp_path, node_timeout_ms=30_000).start()  # not declared failed meanwhile
    try:
        store = StateStore(connect(Settings(redis_url=cluster.url), socket_timeout=0.5, retries=0))
        sids = [store.create_session(session_id=f"s{i}") for i in range(12)]
        cluster.processes[1].kill()
        cluster.processes[1].wait()
        outcomes = set()
        for sid in sids:
            try:
                store.load_state(sid)
                outcomes.add("ok")
            except StoreUnavailableError:
                outcomes.add("unavailable")
        assert outcomes == {"ok", "unavailable"}  # the other nodes' sessions still work
        store.close()
    finally:
        cluster.stop()
