"""Load test of the REST API: a real uvicorn server with 2 workers on 127.0.0.1, driven by 32 concurrent
async clients (httpx), against a throwaway Redis.

Phase 1 (mixed): every client starts a session and sends a scripted conversation (message turns, with
feedback, a session read, a title search and a stateless recommendation in between); latencies are kept
per endpoint. Phase 2 (bare): the same clients hammer GET /healthz, a plain FastAPI JSON endpoint, with
the same concurrency, as the framework's own ceiling on this machine. No LLM (CRS_LLM_MODEL=none), no
rate limit. The models are trained or loaded first, exactly as `crs serve` does.

    python scripts/bench_api.py [--requests 2000] [--clients 32] [--workers 2] [--json out.json]

The clients run on the same machine as the server: on a small machine they compete for the same cores,
so the figures are a floor, not the server's capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONVERSATION = [
    "Hi! I want to watch a movie tonight.",
    "I loved The Matrix and Inception",
    "something less violent",
    "more like Toy Story",
    "I don't like horror",
    "why the first one?",
    "something more recent",
    "recommend me a comedy",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentiles(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values) * 1000
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(arr, 50)), 1),
        "p90_ms": round(float(np.percentile(arr, 90)), 1),
        "p99_ms": round(float(np.percentile(arr, 99)), 1),
        "max_ms": round(float(arr.max()), 1),
    }


class Recorder:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.count = 0

    async def call(self, client: httpx.AsyncClient, name: str, method: str, url: str, **kw) -> httpx.Response:
        start = time.perf_counter()
        response = await client.request(method, url, **kw)
        self.latency[name].append(time.perf_counter() - start)
        self.count += 1
        if response.status_code >= 400:
            self.errors[f"{name} {response.status_code}"] += 1
        return response


async def conversation_client(base: str, rec: Recorder, budget: list[int], idx: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while budget[0] > 0:
            r = await rec.call(
                client, "POST /v1/sessions", "POST", "/v1/sessions", json={"user_id": f"b{idx}"}
            )
            budget[0] -= 1
            sid = r.json()["session_id"]
            for i, text in enumerate(CONVERSATION):
                if budget[0] <= 0:
                    return
                r = await rec.call(
                    client, "POST messages", "POST", f"/v1/sessions/{sid}/messages", json={"text": text}
                )
                budget[0] -= 1
                recs = r.json().get("recommendations", []) if r.status_code == 200 else []
                if recs and i % 2 == 1:
                    body = {"item_id": recs[0]["item_id"], "kind": "like"}
                    await rec.call(client, "POST feedback", "POST", f"/v1/sessions/{sid}/feedback", json=body)
                    budget[0] -= 1
                if i == 3:
                    await rec.call(client, "GET items?q", "GET", "/v1/items", params={"q": "star wars"})
                    await rec.call(client, "GET session", "GET", f"/v1/sessions/{sid}")
                    body = {"liked": [r["item_id"] for r in recs[:2]], "k": 10}
                    await rec.call(client, "POST recommendations", "POST", "/v1/recommendations", json=body)
                    budget[0] -= 3


async def bare_client(base: str, rec: Recorder, budget: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while budget[0] > 0:
            budget[0] -= 1
            await rec.call(client, "GET /healthz", "GET", "/healthz")


async def run_phase(base: str, clients: int, requests: int, bare: bool) -> tuple[Recorder, float]:
    rec, budget = Recorder(), [requests]
    start = time.perf_counter()
    if bare:
        tasks = [bare_client(base, rec, budget) for _ in range(clients)]
    else:
        tasks = [conversation_client(base, rec, budget, i) for i in range(clients)]
    await asyncio.gather(*tasks)
    return rec, time.perf_counter() - start


def wait_ready(base: str, process: subprocess.Popen, timeout: float = 600) -> None:
    """Until /readyz answers 200 twenty times in a row (every worker has loaded its models)."""
    deadline, streak = time.monotonic() + timeout, 0
    while streak < 20:
        if process.poll() is not None:
            raise SystemExit("the server exited during start-up")
        if time.monotonic() > deadline:
            raise SystemExit("the server did not become ready")
        try:
            ok = httpx.get(f"{base}/readyz", timeout=5, headers={"Connection": "close"}).status_code == 200
        except httpx.HTTPError:
            ok = False
        streak = streak + 1 if ok else 0
        time.sleep(0.05 if ok else 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per phase")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from dialogue.store.embedded import EmbeddedRedis
    from dialogue.system import train_models
    from recsys.settings import get_settings

    trained = train_models(get_settings(), progress=True)
    print(f"models {'trained' if trained.built else 'loaded'}: {len(trained.catalog)} items", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="crs-bench-") as tmp:
        redis_server = EmbeddedRedis(Path(tmp) / "redis", appendfsync="no").start()
        port = free_port()
        env = {
            **os.environ,
            "CRS_REDIS_URL": redis_server.url,
            "CRS_RATE_LIMIT": "0",
            "CRS_LLM_MODEL": "none",
            "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(dir=tmp),
        }
        cmd = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--workers", str(args.workers), "--log-level", "warning"]
        server = subprocess.Popen(cmd, env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            started = time.perf_counter()
            wait_ready(base, server)
            print(f"server ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            asyncio.run(run_phase(base, args.clients, 200, bare=False))  # warm-up, not measured
            results = {"clients": args.clients, "workers": args.workers, "cpus": os.cpu_count()}
            for phase, bare in (("mixed", False), ("bare", True)):
                rec, seconds = asyncio.run(run_phase(base, args.clients, args.requests, bare))
                results[phase] = {
                    "requests": rec.count,
                    "seconds": round(seconds, 2),
                    "throughput_rps": round(rec.count / seconds, 1),
                    "message_throughput_rps": round(len(rec.latency.get("POST messages", [])) / seconds, 1),
                    "errors": dict(rec.errors),
                    "endpoints": {name: percentiles(v) for name, v in sorted(rec.latency.items())},
                }
        finally:
            server.terminate()
            server.wait(timeout=30)
            redis_server.close()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
