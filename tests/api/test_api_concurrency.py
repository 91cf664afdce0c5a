"""Concurrency against a real 2-worker uvicorn server and a real Redis (slow: subprocess server).

- 50 messages sent at once to one session: all recorded once each (turns 1..51, one transcript entry
  per turn whose reply is the one its response carried), and every response reflects the complete state
  before it: its state counts exactly the items recommended by the turns before it, and no item is ever
  recommended twice (a turn that missed another's events would repeat its items).
- 500 sessions in parallel (all 500 conversations in flight at once over 100 client connections),
  across both workers: every one is created and answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.api.servers import ApiServer
from tests.api.synthetic import CLUSTERS, MATRIX
from tests.redis_fixtures import RedisServer

pytestmark = pytest.mark.slow

N_ITEMS = sum(len(items) for items in CLUSTERS.values())


@pytest.fixture(scope="module")
def api(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with ApiServer(redis_server.url, tmp_path_factory.mktemp("api"), workers=2) as server:
        yield server


async def _post(client: httpx.AsyncClient, path: str, body: dict) -> httpx.Response:
    return await client.post(path, json=body)


def test_fifty_parallel_messages_to_one_session(api: ApiServer) -> None:
    async def run() -> tuple[list[httpx.Response], dict]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=api.url, timeout=60, limits=limits) as client:
            sid = (await client.post("/v1/sessions", json={})).json()["session_id"]
            first = await client.post(f"/v1/sessions/{sid}/messages", json={"text": "I loved The Matrix"})
            assert first.status_code == 200
            path = f"/v1/sessions/{sid}/messages"
            responses = await asyncio.gather(
                *(_post(client, path, {"text": "recommend me something else"}) for _ in range(50))
            )
            session = (await client.get(f"/v1/sessions/{sid}")).json()
            return [first, *responses], session

    responses, session = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 51, {r.status_code for r in responses}
    assert len({r.headers["x-worker-pid"] for r in responses}) == 2  # both workers took turns
    turns = sorted((r.json() for r in responses), key=lambda t: t["turn"])
    assert [t["turn"] for t in turns] == list(range(1, 52))  # none lost, none applied twice

    shown: list[int] = []
    for t in turns:
        assert t["state"]["turn"] == t["turn"]
        shown += [r["item_id"] for r in t["recommendations"]]
        assert t["state"]["items"]["shown"]["count"] == len(shown)  # saw every earlier turn's items
    assert len(shown) == len(set(shown)) == N_ITEMS - 1  # each item once; The Matrix is liked
    assert MATRIX not in shown

    transcript = session["transcript"]
    assert [e["turn"] for e in transcript] == list(range(52))
    assert [e["bot"] for e in transcript[1:]] == [t["reply"] for t in turns]
    assert all(e["user"] == "recommend me something else" for e in transcript[2:])


def test_five_hundred_sessions_in_parallel_across_two_workers(api: ApiServer) -> None:
    async def one(client: httpx.AsyncClient, i: int) -> tuple[int, dict, set[str]]:
        body = {"user_id": f"user-{i}"} if i % 10 == 0 else {}  # some with a profile to merge into
        created = await client.post("/v1/sessions", json=body)
        assert created.status_code == 201, created.text
        sid = created.json()["session_id"]
        r = await client.post(f"/v1/sessions/{sid}/messages", json={"text": "I loved The Matrix"})
        return r.status_code, r.json(), {created.headers["x-worker-pid"], r.headers["x-worker-pid"]}

    async def run() -> list[tuple[int, dict, set[str]]]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=api.url, timeout=60, limits=limits) as client:
            return await asyncio.gather(*(one(client, i) for i in range(500)))

    results = asyncio.run(run())
    assert [status for status, _, _ in results] == [200] * 500
    assert {body["turn"] for _, body, _ in results} == {1}
    assert len({body["session_id"] for _, body, _ in results}) == 500
    assert all(body["recommendations"][0]["item_id"] in CLUSTERS["sci-fi"] for _, body, _ in results)
    assert len(set().union(*(pids for _, _, pids in results))) == 2
