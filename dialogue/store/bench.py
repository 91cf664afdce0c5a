"""Latency of the state store on the embedded server: one turn's append and the state load after it.

    python -m dialogue.store.bench [--sessions 40] [--turns 30] [--dir DIR] [--redis-url URL]

Each simulated turn takes a turn number (INCR), appends six events (user text, two item mentions, an
attribute, a 10-item recommendation, the reply) and loads the state, as the dialogue manager will.
Prints p50 / p90 / p99 / max in milliseconds for: append (next_turn + append_events), load_state, and both.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dialogue.state.events import AttributePreferred, BotUttered, ItemMentioned, ItemsRecommended, UserUttered
from dialogue.store.connection import connect
from dialogue.store.embedded import close_embedded_servers
from dialogue.store.redis_store import StateStore
from recsys.settings import Settings


def one_turn(store: StateStore, sid: str, rng: random.Random) -> tuple[float, float]:
    """Seconds spent appending one turn and loading the state afterwards."""
    t0 = time.perf_counter()
    turn = store.next_turn(sid)
    items = rng.sample(range(9000), 12)
    store.append_events(
        sid,
        [
            UserUttered(
                turn, "I loved Heat and Ronin, anything similar from the nineties?", intent="request_rec"
            ),
            ItemMentioned(items[0], "liked", turn=turn),
            ItemMentioned(items[1], "liked", turn=turn),
            AttributePreferred("decade:1990s", "liked", turn=turn),
            ItemsRecommended(turn, tuple(items[2:]), tuple(1.0 - i / 10 for i in range(10))),
            BotUttered(turn, "You might like The Insider, Collateral or Thief."),
        ],
    )
    t1 = time.perf_counter()
    state = store.load_state(sid)
    t2 = time.perf_counter()
    assert state.turn == turn
    return t1 - t0, t2 - t1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--turns", type=int, default=30, help="turns per session")
    parser.add_argument("--dir", type=Path, default=None, help="artifacts dir (default: a temporary one)")
    parser.add_argument("--redis-url", default=None, help="measure this Redis instead of the embedded one")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="crs-bench-") as tmp:
        settings = Settings(artifacts_dir=args.dir or Path(tmp), redis_url=args.redis_url)
        store = StateStore(connect(settings), ttl_seconds=600)
        rng = random.Random(0)
        appends, loads = [], []
        sids = [store.create_session(f"bench-user-{i}") for i in range(args.sessions)]
        for _ in tqdm(range(args.turns), desc="turns (all sessions)", unit="round"):
            for sid in sids:
                a, b = one_turn(store, sid, rng)
                appends.append(a)
                loads.append(b)
        for sid in sids:
            store.delete_session(sid)
        store.close()
        close_embedded_servers()

    where = args.redis_url or "embedded redis-server (unix socket, AOF everysec)"
    print(
        f"{len(appends)} turns, {args.sessions} sessions x {args.turns} turns, 6 events per turn, on {where}"
    )
    for name, xs in (
        ("append turn", appends),
        ("load state", loads),
        ("append + load", [a + b for a, b in zip(appends, loads, strict=True)]),
    ):
        ms = np.asarray(xs) * 1000
        p50, p90, p99 = np.percentile(ms, [50, 90, 99])
        print(f"{name:>14}: p50 {p50:6.2f} ms  p90 {p90:6.2f} ms  p99 {p99:6.2f} ms  max {ms.max():6.2f} ms")


if __name__ == "__main__":
    main()
