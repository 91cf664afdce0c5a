"""Probes, metrics, the OpenAPI document and the chat page."""

from __future__ import annotations

import copy
import re
import threading
from types import SimpleNamespace

from fastapi.testclient import TestClient
from redis.backoff import NoBackoff
from redis.retry import Retry

from api.main import create_app
from dialogue.store import StateStore
from recsys.errors import ArtifactError
from recsys.settings import Settings


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"models": "loaded", "redis": "ok", "llm": "off"}}


def test_readyz_503_when_redis_is_down(make_client, api_manager, redis_server_factory) -> None:
    server = redis_server_factory()
    down = copy.copy(api_manager)
    down.store = StateStore(server.client(socket_timeout=0.5, retry=Retry(NoBackoff(), 0)))
    client = make_client(manager=down)
    assert client.get("/readyz").status_code == 200
    server.stop()
    r = client.get("/readyz")
    assert r.status_code == 503 and r.headers["Retry-After"]
    body = r.json()
    assert body["status"] == "not_ready" and body["checks"]["models"] == "loaded"
    assert body["checks"]["redis"].startswith("unavailable")
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_models_loading_and_failing(api_manager) -> None:
    """Readiness follows the manager build: loading, then ready; a failed build: 503 with the reason."""
    release = threading.Event()

    def slow_build():
        release.wait(10)
        return api_manager

    app = create_app(Settings(rate_limit=0, api_warm_up=True), manager_factory=slow_build)
    with TestClient(app) as client:
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["models"] == "loading"
        release.set()
        app.state.manager_holder.get()  # wait for the background build
        assert client.get("/readyz").status_code == 200

    def broken_build():
        raise ArtifactError("artifacts/v1/dialogue_models: missing")

    app = create_app(Settings(rate_limit=0, api_warm_up=False), manager_factory=broken_build)
    with TestClient(app) as client:
        r = client.post("/v1/sessions", json={})
        assert r.status_code == 503 and r.json()["error"]["code"] == "not_ready"
        assert r.headers["Retry-After"] and "artifacts" not in r.text
        ready = client.get("/readyz").json()
        assert ready["checks"]["models"] == "failed: ArtifactError"  # the class, not the path


def metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name:
            got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
            if got == want:
                return float(m.group(3))
    return 0.0


def test_metrics_count_turns_and_time_routes_by_template(client: TestClient) -> None:
    before = client.get("/metrics").text
    sid = client.post("/v1/sessions", json={}).json()["session_id"]
    turn = client.post(f"/v1/sessions/{sid}/messages", json={"text": "I loved The Matrix"}).json()
    client.get("/v1/sessions/" + "0" * 32)
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    assert (
        metric(text, "crs_dialogue_turns_total", action="recommend")
        == metric(before, "crs_dialogue_turns_total", action="recommend") + 1
    )
    assert metric(text, "crs_recommendations_served_total", endpoint="messages") == metric(
        before, "crs_recommendations_served_total", endpoint="messages"
    ) + len(turn["recommendations"])
    template = "/v1/sessions/{session_id}/messages"
    count = metric(
        text, "crs_http_request_duration_seconds_count", method="POST", route=template, status="200"
    )
    assert count >= 1
    assert (
        metric(
            text,
            "crs_http_request_duration_seconds_count",
            method="GET",
            route="/v1/sessions/{session_id}",
            status="404",
        )
        >= 1
    )
    assert sid not in text  # ids never become label values
    for name in ("crs_llm_tokens_total", "crs_llm_fallbacks_total", "crs_rate_limited_total"):
        assert f"# TYPE {name} counter" in text


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/v1/sessions": {"post"},
        "/v1/sessions/{session_id}": {"get", "delete"},
        "/v1/sessions/{session_id}/messages": {"post"},
        "/v1/sessions/{session_id}/messages/stream": {"post"},
        "/v1/sessions/{session_id}/feedback": {"post"},
        "/v1/users/{user_id}/profile": {"get", "put", "patch"},
        "/v1/users/{user_id}": {"delete"},
        "/v1/items": {"get"},
        "/v1/items/{item_id}": {"get"},
        "/v1/recommendations": {"post"},
        "/healthz": {"get"},
        "/readyz": {"get"},
        "/metrics": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    stream = paths["/v1/sessions/{session_id}/messages/stream"]["post"]["responses"]["200"]["content"]
    assert "text/event-stream" in stream
    schemas = spec["components"]["schemas"]
    assert schemas["MessageCreate"]["properties"]["text"]["examples"]
    assert schemas["RecommendationsCreate"]["examples"] == [{"liked": [0, 3], "disliked": [7], "k": 5}]
    assert paths["/v1/sessions/{session_id}/messages"]["post"]["responses"]["413"]


def test_chat_page_is_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for element in ('id="message"', 'id="transcript"', 'id="profile-edit"', 'src="/static/app.js"'):
        assert element in page.text
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "/messages/stream" in script.text and "/feedback" in script.text
    assert client.get("/static/style.css").status_code == 200


def test_readyz_reports_the_language_model_without_gating_on_it(make_client, api_manager) -> None:
    loading = copy.copy(api_manager)
    loading.explainer = SimpleNamespace(runtime=SimpleNamespace(status="not_loaded"))
    r = make_client(manager=loading).get("/readyz")
    assert r.status_code == 200 and r.json()["checks"]["llm"] == "not_loaded"  # templates meanwhile
