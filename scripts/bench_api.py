"""Load benchmark of the REST API: a real uvicorn server (2 workers) on 127.0.0.1 against a throwaway Redis,
driven by `wrk` (C, event-driven: it leaves the cores to the server) with a Lua script, 32 connections.

Phases, each bounded in requests (`--requests`) and in time (`--max-seconds`), after an unmeasured warm-up:

    messages   POST /v1/sessions/{id}/messages only: every session follows its own scripted conversation
               (`bench_workload.py`: popular titles, genres, critiques, questions drawn with a seeded RNG,
               so the server cannot answer repeated messages from memos), sessions interleaved so one
               connection never waits on another's turn of the same session
    mixed      the same conversations with feedback, session reads, title searches and stateless
               recommendations in between (throughput of the whole mix)
    bare       GET /healthz: a plain FastAPI JSON endpoint behind the same middleware
    bare_app   GET / of a bare FastAPI app (scripts/bench_bare_app.py: one route, no middleware), served
               the same way on its own server: the framework's ceiling on this machine

The figure is the message endpoint's p50/p99 and its throughput as a share of the bare endpoint's. Each
phase also reports the CPU time the server (all workers) and Redis spent per request, read from /proc: a
figure that holds on a busy machine, where latency and throughput do not. The server runs through
`api.serving` (uvicorn's multi-worker mode with TCP_NODELAY; see there).
Sessions are created before each phase (not measured). Without `--llm` the server runs with
CRS_LLM_MODEL=none; with `--llm` a second server with the configured language model runs the messages
phase as well (fewer requests: `--llm-requests`). Rate limiting is off (CRS_RATE_LIMIT=0).

    python scripts/bench_api.py [--requests 3000] [--clients 32] [--workers 2] [--llm] [--conversations 1000]
                                [--out bench-results/api]

Writes <out>/bench_api.json and <out>/bench_api.md. Needs `wrk` (Debian: `apt-get install wrk`).
Run it on a quiet machine: the load generator, the server and Redis share the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from bench_workload import Step, conversations, lua_script, message_steps, mixed_steps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its descendants (Linux /proc), in seconds."""
    total, todo, tick = 0.0, [pid], os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(
    base: str,
    process: subprocess.Popen[bytes],
    timeout: float = 900,
    check: Callable[[dict[str, Any]], bool] = lambda body: True,
    path: str = "/readyz",
) -> None:
    """Until `path` answers 200 (and `check` holds for its body) twenty times in a row: every worker has
    loaded its models."""
    deadline, streak = time.monotonic() + timeout, 0
    while streak < 20:
        if process.poll() is not None:
            raise SystemExit("the server exited during start-up")
        if time.monotonic() > deadline:
            raise SystemExit(f"the server was not ready within {timeout:.0f} s")
        try:
            reply = httpx.get(f"{base}{path}", timeout=5, headers={"Connection": "close"})
            ok = reply.status_code == 200 and check(reply.json())
        except httpx.HTTPError:
            ok = False
        streak = streak + 1 if ok else 0
        time.sleep(0.05 if ok else 0.5)


@contextmanager
def running_server(
    workers: int,
    redis_url: str,
    llm: bool,
    tmp: Path,
    app: str = "api.main:create_app",
    ready: str = "/readyz",
    balance: bool = True,
) -> Iterator[tuple[str, int]]:
    """A uvicorn server with the app (an app factory's import string) on a free loopback port, once `ready`
    answers 200; yields its base URL and process id."""
    port = free_port()
    env = {
        **os.environ,
        "CRS_REDIS_URL": redis_url,
        "CRS_RATE_LIMIT": "0",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(dir=tmp),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "scripts"), os.environ.get("PYTHONPATH")) if p),
    }
    if not llm:
        env["CRS_LLM_MODEL"] = "none"
    # api.serving: uvicorn's multi-worker mode with TCP_NODELAY (plain `uvicorn --workers 2` stalls ~40 ms
    # on every response: Nagle's algorithm against the client's delayed ACK)
    cmd = [sys.executable, "-m", "api.serving", "--app", app, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    cmd += [] if balance else ["--no-balance"]
    server = subprocess.Popen(cmd, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        wait_ready(base, server, path=ready)
        if llm:  # every worker's language model loaded: otherwise its turns use templates while it loads
            wait_ready(base, server, check=lambda body: body.get("checks", {}).get("llm") == "ready")
        print(f"server ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=60)


def create_sessions(base: str, n: int) -> list[str]:
    """`n` new sessions (half of them for a user, whose profile the turns also update)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        out = []
        for i in range(n):
            body = {"user_id": f"bench-{i}"} if i % 2 else {}
            response = client.post("/v1/sessions", json=body)
            response.raise_for_status()
            out.append(response.json()["session_id"])
        return out


def connections_per_worker(base: str) -> list[int] | None:
    """How many established connections each server process holds (from `ss`), most loaded first."""
    if shutil.which("ss") is None:
        return None
    port = base.rsplit(":", 1)[1]
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True
    ).stdout
    pids = Counter(part.split("pid=", 1)[1].split(",", 1)[0] for part in out.split() if "pid=" in part)
    return sorted(pids.values(), reverse=True)


def run_until_done(cmd: list[str], markers: Sequence[Path]) -> None:
    """Run wrk until every thread has written its marker (then SIGINT: wrk reports and exits) or the
    `-d` time cap ends it."""
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    try:
        while process.poll() is None:
            if all(m.exists() for m in markers):
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.02)
        if process.wait(timeout=60) != 0:
            raise SystemExit(f"wrk failed: {' '.join(cmd)}")
    finally:
        if process.poll() is None:
            process.kill()


def run_wrk(
    base: str,
    scripts: Sequence[Sequence[Step]],
    requests: int,
    args: argparse.Namespace,
    tmp: Path,
    name: str,
    pids: dict[str, int],
) -> dict[str, Any]:
    """One wrk run of `requests` requests (at most `--max-seconds`); its summary with ms figures."""
    threads = min(args.threads, args.clients)
    has_session = any("{sid}" in step[1] for script in scripts for step in script)
    n_sessions = max(2 * args.clients, -(-requests // len(scripts[0]))) if has_session else threads
    sessions = create_sessions(base, n_sessions) if has_session else ["-"] * threads
    out = tmp / f"{name}.json"
    script = tmp / f"{name}.lua"
    script.write_text(lua_script(sessions, scripts, -(-requests // threads), threads, str(out)))
    cmd = ["wrk", "-t", str(threads), "-c", str(args.clients), "-d", f"{args.max_seconds}s"]
    cmd += ["--timeout", f"{args.timeout}s", "-s", str(script), base]
    load_before = os.getloadavg()[0]
    cpu_before = {role: cpu_seconds(pid) for role, pid in pids.items()}
    spread: list[list[int] | None] = []  # sampled once the connections are up
    sampler = threading.Timer(0.5, lambda: spread.append(connections_per_worker(base)))
    sampler.start()
    run_until_done(cmd, [out.with_name(f"{out.name}.done{t}") for t in range(threads)])
    sampler.cancel()
    cpu = {role: cpu_seconds(pid) - cpu_before[role] for role, pid in pids.items()}
    raw = json.loads(out.read_text())
    seconds = raw["duration_us"] / 1e6
    result = {
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "throughput_rps": round(raw["requests"] / seconds, 1),
        **{f"{p}_ms": round(raw[f"{p}_us"] / 1000, 1) for p in ("p50", "p90", "p99", "max", "mean")},
        "status_errors": raw["status_errors"],
        "socket_errors": {k: v for k, v in raw["socket_errors"].items() if v},
        # CPU per request, whatever else the machine runs: the load-independent figure
        **{
            f"{role}_cpu_ms_per_request": round(c * 1000 / max(raw["requests"], 1), 2)
            for role, c in cpu.items()
        },
        "sessions": len(sessions) if has_session else 0,
        "connections_per_worker": spread[0] if spread else None,
        "load_average_before": round(load_before, 2),
    }
    print(f"{name}: {json.dumps(result)}", file=sys.stderr)
    return result


BARE_APP = "bench_bare_app:create_app"


def server_phases(
    args: argparse.Namespace, redis_server: Any, tmp: Path, llm: bool, titles: Sequence[str]
) -> dict[str, Any]:
    """Warm-up, then the measured phases, on one server. Each phase's sessions follow their own
    conversations (`bench_workload.conversations`), different from the warm-up's."""
    with running_server(args.workers, redis_server.url, llm, tmp, balance=not args.no_balance) as (base, pid):
        pids = {"server": pid, "redis": redis_server.pid()}
        found = httpx.get(f"{base}/v1/items", params={"q": "toy story"}, timeout=30).json()["items"]
        item_id = int(found[0]["item_id"]) if found else 0
        prefix = "llm_" if llm else ""
        requests = args.llm_requests if llm else args.requests
        warmup = args.clients if llm else max(requests // 10, 2 * args.clients)  # LLM turns take seconds
        talks = {
            phase: conversations(args.conversations, titles, seed=seed)
            for seed, phase in enumerate(("warmup", "messages", "mixed"))
        }
        warm = [message_steps(t) for t in talks["warmup"]]
        run_wrk(base, warm, warmup, args, tmp, f"{prefix}warmup", pids)
        before = llm_counts(base)
        scripts = [message_steps(t) for t in talks["messages"]]
        out = {"messages": run_wrk(base, scripts, requests, args, tmp, f"{prefix}messages", pids)}
        if llm:  # how many LLM calls answered, and how many fell back to templates (timeouts, guard)
            after = llm_counts(base)
            out["messages"]["llm_calls"] = {k: v - before.get(k, 0) for k, v in after.items()}
        if not llm:
            mixed = [mixed_steps(t, item_id) for t in talks["mixed"]]
            out["mixed"] = run_wrk(base, mixed, requests, args, tmp, "mixed", pids)
            out["bare"] = run_wrk(base, [[("GET", "/healthz", "")]], 2 * requests, args, tmp, "bare", pids)
    if not llm:  # a bare FastAPI app (scripts/bench_bare_app.py), served the same way
        bare_server = running_server(
            args.workers, redis_server.url, False, tmp, BARE_APP, ready="/", balance=not args.no_balance
        )
        with bare_server as (base, pid):
            pids = {"server": pid, "redis": redis_server.pid()}
            bare = [[("GET", "/", "")]]
            run_wrk(base, bare, args.requests, args, tmp, "bare_app_warmup", pids)
            out["bare_app"] = run_wrk(base, bare, 2 * args.requests, args, tmp, "bare_app", pids)
    return out


def llm_counts(base: str) -> dict[str, float]:
    """The LLM counters of /metrics (all workers): calls by outcome and fallbacks by reason."""
    text = httpx.get(f"{base}/metrics", timeout=30).text
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(("crs_llm_calls_total{", "crs_llm_fallbacks_total{")):
            name, value = line.rsplit(" ", 1)
            counts[name] = counts.get(name, 0.0) + float(value)
    return counts


def http_stack() -> dict[str, str]:
    """What uvicorn's `auto` picks: httptools / h11 parser, uvloop / asyncio loop."""
    import importlib.util

    has = {m: importlib.util.find_spec(m) is not None for m in ("httptools", "uvloop")}
    return {
        "http": "httptools" if has["httptools"] else "h11",
        "loop": "uvloop" if has["uvloop"] else "asyncio",
    }


def markdown(results: dict[str, Any]) -> str:
    rows = [
        "| configuration | phase | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | "
        "server CPU ms/req | Redis CPU ms/req | connections per worker | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for config in ("no_llm", "llm"):
        for phase, r in (results.get(config) or {}).items():
            errors = {**r["status_errors"], **r["socket_errors"]} or "-"
            rows.append(
                f"| {config} | {phase} | {r['requests']} | {r['throughput_rps']} | {r['p50_ms']} | "
                f"{r['p90_ms']} | {r['p99_ms']} | {r['max_ms']} | {r['server_cpu_ms_per_request']} | "
                f"{r['redis_cpu_ms_per_request']} | "
                f"{'/'.join(map(str, r.get('connections_per_worker') or [])) or '-'} | {errors} |"
            )
    s = results["summary"]
    return "\n".join(
        [
            "# API load benchmark (`scripts/bench_api.py`)",
            "",
            f"{results['workers']} uvicorn workers ({results['stack']['http']}, {results['stack']['loop']}), "
            f"{results['clients']} concurrent wrk connections, {results['cpus']} CPUs, loopback; "
            f"Redis appendfsync {results['redis_appendfsync']}; "
            f"{'least-connections accept' if results.get('balanced_accept') else 'workers race'}; "
            f"load average {results['load_average_start']} at the start.",
            "",
            *rows,
            "",
            f"Message endpoint (no LLM): p99 {s['message_p99_ms']} ms (target < 100), "
            f"{s['message_rps']} turns/s = {s['ratio_to_bare']:.1%} of the API's bare endpoint "
            f"(`/healthz`, same middleware: {s['bare_rps']} req/s) and {s['ratio_to_bare_app']:.1%} of a "
            f"bare FastAPI app's ({s['bare_app_rps']} req/s) (target >= 30%).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000, help="message requests per phase")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--max-seconds", type=int, default=300, help="time cap of each phase")
    parser.add_argument("--timeout", type=int, default=60, help="per-request timeout (s)")
    parser.add_argument("--llm", action="store_true", help="also run the messages phase with the LLM")
    parser.add_argument("--llm-requests", type=int, default=128, help="message requests with the LLM")
    parser.add_argument(
        "--appendfsync",
        choices=("always", "everysec", "no"),
        default="always",
        help="the embedded Redis's durability (the server's default: always, every write on disk)",
    )
    parser.add_argument(
        "--conversations", type=int, default=1000, help="distinct scripted conversations per phase"
    )
    parser.add_argument(
        "--no-balance",
        action="store_true",
        help="workers race for connections (uvicorn's way) instead of least-connections (api.balance)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "api")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if args.requests < 1 or args.clients < 1:
        raise SystemExit("--requests and --clients must be positive")

    from dialogue.store.embedded import EmbeddedRedis
    from dialogue.system import train_models
    from recsys.settings import get_settings

    settings = get_settings()
    if args.llm and settings.llm_model == "none":
        raise SystemExit("--llm needs a language model: CRS_LLM_MODEL is 'none'")
    trained = train_models(settings, progress=True)  # once here, so that the workers only load
    print(f"models {'trained' if trained.built else 'loaded'}: {len(trained.catalog)} items", file=sys.stderr)
    catalog = trained.catalog
    by_popularity = sorted(range(len(catalog)), key=lambda i: (-catalog[i].popularity, i))
    titles = [catalog[i].title for i in by_popularity[:300]]  # the titles people name most
    results: dict[str, Any] = {
        "clients": args.clients,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "stack": http_stack(),
        "load_average_start": round(os.getloadavg()[0], 2),
        "redis_appendfsync": args.appendfsync,
        "balanced_accept": not args.no_balance,
    }
    with tempfile.TemporaryDirectory(prefix="crs-bench-") as tmp_name:
        tmp = Path(tmp_name)
        redis_server = EmbeddedRedis(tmp / "redis", appendfsync=args.appendfsync).start()
        try:
            results["no_llm"] = server_phases(args, redis_server, tmp, llm=False, titles=titles)
            if args.llm:
                results["llm"] = server_phases(args, redis_server, tmp, llm=True, titles=titles)
        finally:
            redis_server.close()
    messages, bare = results["no_llm"]["messages"], results["no_llm"]["bare"]
    bare_app = results["no_llm"]["bare_app"]
    results["summary"] = {
        "message_p50_ms": messages["p50_ms"],
        "message_p99_ms": messages["p99_ms"],
        "message_rps": messages["throughput_rps"],
        "bare_rps": bare["throughput_rps"],
        "ratio_to_bare": round(messages["throughput_rps"] / bare["throughput_rps"], 3),
        "bare_app_rps": bare_app["throughput_rps"],
        "ratio_to_bare_app": round(messages["throughput_rps"] / bare_app["throughput_rps"], 3),
        "message_server_cpu_ms": messages["server_cpu_ms_per_request"],
    }
    if "llm" in results:
        llm = results["llm"]["messages"]
        results["summary"] |= {f"llm_message_{k}": llm[k] for k in ("p50_ms", "p99_ms", "throughput_rps")}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_api.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "bench_api.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
