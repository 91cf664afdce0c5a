"""Concurrent turns on one session (threads and processes): no event lost, distinct turn numbers,
each turn's batch contiguous; concurrent profile updates all land."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import redis

from dialogue.state.events import BotUttered, ItemMentioned, UserUttered
from dialogue.store.redis_store import StateStore
from recsys.settings import PROJECT_ROOT
from tests.redis_fixtures import RedisServer

THREADS, TURNS = 8, 25

WORKER = """
import sys
import time
import redis
from dialogue.state.events import BotUttered, ItemMentioned, UserUttered
from dialogue.store.redis_store import StateStore

socket, sid, name, turns = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
client = redis.Redis(unix_socket_path=socket)
while not client.exists("go"):
    time.sleep(0.002)
store = StateStore(client)
for i in range(turns):
    t = store.next_turn(sid)
    batch = [UserUttered(t, f"{name}:{i}"), ItemMentioned(1000 + t, "liked"), BotUttered(t, "ok")]
    store.append_events(sid, batch)
"""


def take_turns(store: StateStore, sid: str, name: str, n: int, barrier: threading.Barrier) -> None:
    barrier.wait()
    for i in range(n):
        t = store.next_turn(sid)
        store.append_events(
            sid, [UserUttered(t, f"{name}:{i}"), ItemMentioned(1000 + t, "liked"), BotUttered(t, "ok")]
        )


def check_log(store: StateStore, sid: str, expected_turns: int) -> Counter[str]:
    """Checks the log of `expected_turns` concurrent turns; returns turns per writer."""
    events = store.load_events(sid)[1:]
    assert len(events) == 3 * expected_turns  # nothing lost
    turns = [e.turn for e in events if isinstance(e, UserUttered)]
    assert sorted(turns) == list(range(1, expected_turns + 1))  # distinct turn numbers, none skipped
    for k in range(0, len(events), 3):  # every turn's batch is contiguous, in order
        u, m, b = events[k : k + 3]
        assert isinstance(u, UserUttered) and isinstance(m, ItemMentioned) and isinstance(b, BotUttered)
        assert m.item_id == 1000 + u.turn and b.turn == u.turn
    return Counter(e.text.split(":")[0] for e in events if isinstance(e, UserUttered))


def test_concurrent_threads_on_one_session(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client, snapshot_every=16)
    sid = store.create_session("alice")
    barrier = threading.Barrier(THREADS)
    threads = [
        threading.Thread(target=take_turns, args=(store, sid, f"w{w}", TURNS, barrier))
        for w in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = check_log(store, sid, THREADS * TURNS)
    assert texts == {f"w{w}": TURNS for w in range(THREADS)}
    state = store.load_state(sid)
    assert state.turn == THREADS * TURNS and len(state.liked_items) == THREADS * TURNS


def test_concurrent_processes_and_threads_on_one_session(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    store = StateStore(redis_client)
    sid = store.create_session()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(redis_server.socket_path), sid, f"p{p}", "30"],
            cwd=Path(PROJECT_ROOT),
        )
        for p in range(2)
    ]
    barrier = threading.Barrier(3)
    threads = [threading.Thread(target=take_turns, args=(store, sid, f"t{w}", 30, barrier)) for w in range(2)]
    for t in threads:
        t.start()
    redis_client.set("go", 1)
    barrier.wait()
    for t in threads:
        t.join()
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    texts = check_log(store, sid, 4 * 30)
    assert texts == {"p0": 30, "p1": 30, "t0": 30, "t1": 30}


def test_concurrent_profile_updates_all_land(redis_client: redis.Redis) -> None:
    store = StateStore(redis_client)

    def like_many(w: int) -> None:
        for i in range(10):
            store.update_profile("alice", lambda p, item=100 * w + i: p.liked_items.add(item))

    threads = [threading.Thread(target=like_many, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    profile = store.get_profile("alice")
    assert sorted(profile.liked_items) == sorted(100 * w + i for w in range(6) for i in range(10))
    assert profile.version == 60
