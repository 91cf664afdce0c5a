"""The pure-ASGI middleware of the API (request id + nosniff, latency metrics by route template, body size
limit), as `api.main` adds it (one layer; the body limit split off inside CORS), on a small app of known
routes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from api.errors import install_error_handlers
from api.middleware import BodySizeLimitMiddleware, RequestMiddleware

LIMIT = 1024


def _routes(app: FastAPI) -> FastAPI:
    install_error_handlers(app)

    @app.post("/echo/{name}")
    async def echo(name: str, request: Request) -> dict[str, object]:
        return {"name": name, "size": len(await request.body()), "id": request.state.request_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("internal detail that must not leak")

    return app


def layered(split: bool = False) -> FastAPI:
    """The stack as `api.main` builds it: one layer, or (`split`, what CORS needs) the body limit as its
    own inner layer."""
    app = _routes(FastAPI())
    if split:
        app.add_middleware(BodySizeLimitMiddleware, max_bytes=LIMIT)
        app.add_middleware(RequestMiddleware)
    else:
        app.add_middleware(RequestMiddleware, max_bytes=LIMIT)
    return app


@pytest.fixture(params=[False, True], ids=["one-layer", "split"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    with TestClient(layered(split=request.param), raise_server_exceptions=False) as c:
        yield c


def _count(method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("crs_http_request_duration_seconds_count", labels) or 0.0


def test_request_id_is_echoed_or_generated_and_nosniff_is_set(client: TestClient) -> None:
    given = client.post("/echo/a", content=b"x", headers={"X-Request-ID": "abc-123.X:y"})
    assert given.status_code == 200
    assert given.headers["x-request-id"] == "abc-123.X:y" == given.json()["id"]
    assert given.headers["x-content-type-options"] == "nosniff"
    for bad in ("", "has space", "x" * 65, "semi;colon"):
        r = client.post("/echo/a", content=b"x", headers={"X-Request-ID": bad} if bad else {})
        new = r.headers["x-request-id"]
        assert new != bad and len(new) == 32 and int(new, 16) >= 0 and r.json()["id"] == new
    assert client.post("/echo/a").headers["x-request-id"] != client.post("/echo/a").headers["x-request-id"]


def test_latency_is_recorded_by_route_template_and_status(client: TestClient) -> None:
    before = (
        _count("POST", "/echo/{name}", 200),
        _count("GET", "<unmatched>", 404),
        _count("GET", "/boom", 500),
    )
    for name in ("one", "two", "three"):
        assert client.post(f"/echo/{name}", content=b"").status_code == 200
    assert client.get("/nowhere").status_code == 404
    assert client.get("/boom").status_code == 500
    after = (
        _count("POST", "/echo/{name}", 200),
        _count("GET", "<unmatched>", 404),
        _count("GET", "/boom", 500),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [3, 1, 1]


def test_errors_keep_the_error_shape_and_the_request_id(client: TestClient) -> None:
    r = client.get("/boom", headers={"X-Request-ID": "req-500"})
    assert r.status_code == 500 and "internal detail" not in r.text
    assert r.json()["error"]["request_id"] == "req-500" and r.headers["x-request-id"] == "req-500"


def test_declared_oversized_body_is_413_before_the_route(client: TestClient) -> None:
    before = _count("POST", "<unmatched>", 413)
    r = client.post("/echo/a", content=b"x" * (LIMIT + 1), headers={"X-Request-ID": "big-1"})
    assert r.status_code == 413
    assert r.json() == {
        "error": {
            "code": "payload_too_large",
            "message": f"request body larger than the limit of {LIMIT} bytes",
            "request_id": "big-1",
        }
    }
    assert r.headers["x-request-id"] == "big-1" and r.headers["x-content-type-options"] == "nosniff"
    assert _count("POST", "<unmatched>", 413) == before + 1
    assert client.post("/echo/a", content=b"x" * LIMIT).json()["size"] == LIMIT  # the limit itself is fine


def test_chunked_body_cannot_sneak_past_the_limit(client: TestClient) -> None:
    def chunks(n: int, size: int) -> Iterator[bytes]:
        for _ in range(n):
            yield b"y" * size

    small = client.post("/echo/a", content=chunks(4, 100))
    assert small.status_code == 200 and small.json()["size"] == 400
    big = client.post("/echo/a", content=chunks(12, 100), headers={"X-Request-ID": "chunky"})
    assert big.status_code == 413
    error = big.json()["error"]
    assert error["code"] == "payload_too_large" and error["request_id"] == "chunky"
    assert big.headers["x-request-id"] == "chunky"


def test_cors_headers_also_on_a_413_and_preflights_get_an_id(make_client) -> None:
    """The body limit sits inside CORS (a browser can read the 413), the request id outside it."""
    c = make_client(cors_origins="https://app.example", max_body_bytes=LIMIT)
    origin = {"Origin": "https://app.example"}
    r = c.post("/v1/sessions", content=b"x" * (LIMIT + 1), headers=origin)
    assert r.status_code == 413 and r.headers["access-control-allow-origin"] == "https://app.example"
    pre = c.options("/v1/sessions", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 200 and len(pre.headers["x-request-id"]) == 32


def test_lifespan_passes_through() -> None:
    started: list[bool] = []
    app = layered()
    app.router.on_startup.append(lambda: started.append(True))
    with TestClient(app) as c:
        assert c.post("/echo/a").status_code == 200
    assert started == [True]
