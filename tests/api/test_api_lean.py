"""`api.lean.LeanRoute`: the short way of the message and feedback routes answers exactly what FastAPI's
own handler answers. Each request is sent twice: as `application/json` (the short way) and as
`application/json; charset=utf-8` (the same JSON for FastAPI, which the short way leaves to FastAPI's
handler), and the two answers are compared."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import Request, Response
from fastapi import routing as fastapi_routing
from fastapi.testclient import TestClient

from api.deps import guard
from api.lean import LeanRoute, _shape
from api.routes import sessions
from recsys.settings import hash_api_key
from tests.api.hostile_corpus import REFUSED, Refused
from tests.api.synthetic import MATRIX
from tests.api.test_api_sessions import start

SHORT = {"Content-Type": "application/json"}
STANDARD = {"Content-Type": "application/json; charset=utf-8"}
KEY = "lean-key-0123456789"


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths FastAPI solved dependencies for (its handler ran), in order."""
    seen: list[str] = []
    original = fastapi_routing.solve_dependencies

    async def counting(**kwargs: Any) -> Any:
        seen.append(kwargs["request"].url.path)
        return await original(**kwargs)

    monkeypatch.setattr(fastapi_routing, "solve_dependencies", counting)
    yield seen


def _comparable(response: Any) -> tuple[int, Any, str | None]:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body["error"].pop("request_id", None)
    return response.status_code, body, response.headers.get("retry-after")


def test_which_routes_take_the_short_way() -> None:
    lean = {
        (next(iter(r.methods)), r.path)
        for r in sessions.router.routes
        if isinstance(r, LeanRoute) and _shape(r) is not None
    }
    assert lean == {
        ("POST", "/v1/sessions/{session_id}/messages"),
        ("POST", "/v1/sessions/{session_id}/messages/stream"),
        ("POST", "/v1/sessions/{session_id}/feedback"),
    }


def test_a_turn_skips_fastapis_handler_and_answers_the_same(client: TestClient, solved: list[str]) -> None:
    short_sid, standard_sid = start(client), start(client)
    solved.clear()
    for text in ("I loved The Matrix", "something funny instead", "no, more like Alien"):
        short = client.post(f"/v1/sessions/{short_sid}/messages", json={"text": text}, headers=SHORT)
        standard = client.post(f"/v1/sessions/{standard_sid}/messages", json={"text": text}, headers=STANDARD)
        assert short.status_code == standard.status_code == 200
        a, b = short.json(), standard.json()
        assert a.pop("session_id") == short_sid and b.pop("session_id") == standard_sid
        assert a == b and a["reply"]
        assert short.headers["x-request-id"] and short.headers["x-content-type-options"] == "nosniff"
    assert solved == [f"/v1/sessions/{standard_sid}/messages"] * 3  # only the standard requests


def _json_posts() -> list[Refused]:
    """The refused POSTs sent as JSON (a case with a content type of its own is not about JSON)."""
    return [
        c
        for c in REFUSED
        if c.method == "POST" and c.headers.get("Content-Type", "application/json") == "application/json"
    ]


@pytest.mark.parametrize("case", _json_posts(), ids=lambda c: c.name)
def test_refused_requests_get_the_same_answer_both_ways(
    make_client: Callable[..., TestClient], case: Refused
) -> None:
    client = make_client(max_text_chars=2000)
    sid = start(client)
    path = case.path.replace("{sid}", sid)
    answers = []
    for content_type in (SHORT, STANDARD):
        headers = {**case.headers, **content_type}
        if case.content is not None:
            r = client.post(path, content=case.content, headers=headers, params=case.params)
        elif case.json is not None:
            r = client.post(path, json=case.json, headers=headers, params=case.params)
        else:
            r = client.post(path, headers=headers, params=case.params)
        answers.append(_comparable(r))
    assert answers[0] == answers[1]
    assert answers[0][0] == case.status


def test_feedback_both_ways(client: TestClient, solved: list[str]) -> None:
    sid = start(client)
    solved.clear()
    bodies = [
        {"item_id": MATRIX, "kind": "like"},
        {"item_id": str(MATRIX), "kind": "dislike"},  # coerced the same way by both validators
        {"item_id": True, "kind": "like"},
        {"item_id": MATRIX, "kind": "LIKE"},
        {"item_id": 10**6, "kind": "like"},
    ]
    for body in bodies:
        short = client.post(f"/v1/sessions/{sid}/feedback", json=body, headers=SHORT)
        standard = client.post(f"/v1/sessions/{sid}/feedback", json=body, headers=STANDARD)
        assert _comparable(short) == _comparable(standard), body
    # FastAPI solved every standard request, and the two bodies the model refuses sent the short way (the
    # unknown item is a valid body: the manager's 404, on the short way)
    assert len(solved) == len(bodies) + 2


def test_the_guard_runs_on_the_short_way(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_keys=hash_api_key(KEY), rate_limit=2, rate_limit_window_seconds=60)
    auth = {"Authorization": f"Bearer {KEY}"}
    sid = client.post("/v1/sessions", json={}, headers=auth).json()["session_id"]  # 1st request
    denied = client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"}, headers=SHORT)
    assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
    assert denied.json()["error"]["code"] == "unauthorized"
    ok = client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"}, headers={**SHORT, **auth})
    assert ok.status_code == 200 and ok.json()["turn"] == 1  # 2nd request
    limited = client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"}, headers={**SHORT, **auth})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"


def test_an_overridden_guard_gets_fastapis_handler(client: TestClient, solved: list[str]) -> None:
    sid = start(client)
    calls: list[bool] = []
    original = guard

    async def spy(request: Request, response: Response) -> Any:
        calls.append(True)
        return await original(request, response)

    client.app.dependency_overrides[guard] = spy  # type: ignore[attr-defined]
    solved.clear()
    r = client.post(f"/v1/sessions/{sid}/messages", json={"text": "I loved The Matrix"}, headers=SHORT)
    assert r.status_code == 200 and calls == [True] and len(solved) == 1
