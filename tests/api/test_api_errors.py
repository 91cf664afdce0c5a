"""Bad requests and failures: clear 4xx messages, 413 limits, 5xx without internals, one error body shape."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from redis.backoff import NoBackoff
from redis.retry import Retry

from api.errors import status_for
from dialogue.store import StateStore
from recsys import errors


def new_session(client: TestClient) -> str:
    return client.post("/v1/sessions", json={}).json()["session_id"]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return error


def test_malformed_json_is_422_naming_the_problem(client: TestClient) -> None:
    sid = new_session(client)
    r = client.post(
        f"/v1/sessions/{sid}/messages", content=b'{"text": "hi"', headers={"Content-Type": "application/json"}
    )
    error = assert_error(r, 422, "invalid_request")
    assert "malformed JSON" in error["message"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"text": 123}, "text", "valid string"),
        ({}, "text", "required"),
        ({"text": "hi", "mood": "happy"}, "mood", "not permitted"),
        ([1, 2], "request", "valid dictionary"),
    ],
)
def test_wrong_types_are_422_with_the_field(client: TestClient, body: object, field: str, words: str) -> None:
    sid = new_session(client)
    error = assert_error(client.post(f"/v1/sessions/{sid}/messages", json=body), 422, "invalid_request")
    detail = error["details"][0]
    assert detail["field"] == field or (field == "request" and detail["location"] == "body")
    assert words in detail["message"]


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_422(client: TestClient, text: str) -> None:
    sid = new_session(client)
    error = assert_error(
        client.post(f"/v1/sessions/{sid}/messages", json={"text": text}), 422, "invalid_request"
    )
    assert "empty" in error["message"]


def test_oversized_text_is_413_with_the_limit(make_client) -> None:
    client = make_client(max_text_chars=50)
    sid = new_session(client)
    ok = client.post(f"/v1/sessions/{sid}/messages", json={"text": "I loved The Matrix" + " " * 32})
    assert ok.status_code == 200
    for path in ("messages", "messages/stream"):
        r = client.post(f"/v1/sessions/{sid}/{path}", json={"text": "x" * 51})
        error = assert_error(r, 413, "payload_too_large")
        assert "51 characters" in error["message"] and "limit is 50" in error["message"]
    assert client.get(f"/v1/sessions/{sid}").json()["state"]["turn"] == 1  # the refused turns left no trace


def test_body_over_the_size_limit_is_413(make_client) -> None:
    client = make_client(max_body_bytes=2048)
    sid = new_session(client)
    big = {"text": "a" * 5000}
    error = assert_error(client.post(f"/v1/sessions/{sid}/messages", json=big), 413, "payload_too_large")
    assert "2048 bytes" in error["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
        yield b'{"text": "'
        for _ in range(10):
            yield b"b" * 500
        yield b'"}'

    r = client.post(
        f"/v1/sessions/{sid}/messages", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.put("/v1/sessions"), 405, "method_not_allowed")


class _Exploding:
    """A manager whose turns fail unexpectedly (with internals in the message)."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def turn(self, session_id: str, text: str) -> None:
        raise RuntimeError("secret: /srv/crs/artifacts password=hunter2")


def test_unexpected_error_is_500_without_internals(make_client, api_manager) -> None:
    client = make_client(manager=_Exploding(api_manager))
    sid = new_session(client)
    r = client.post(f"/v1/sessions/{sid}/messages", json={"text": "hello"})
    error = assert_error(r, 500, "internal_error")
    assert error["message"] == "internal server error"
    assert "secret" not in r.text and "hunter2" not in r.text and "RuntimeError" not in r.text


def test_store_down_is_503_with_retry_after(make_client, api_manager, redis_server_factory) -> None:
    server = redis_server_factory()
    down = copy.copy(api_manager)
    down.store = StateStore(server.client(socket_timeout=0.5, retry=Retry(NoBackoff(), 0)))
    client = make_client(manager=down)
    server.stop()
    r = client.post("/v1/sessions", json={"user_id": "dave"})
    error = assert_error(r, 503, "store_unavailable")
    assert int(r.headers["Retry-After"]) > 0
    assert error["message"] == "the state store is unavailable right now; retry later"
    assert str(server.socket_path) not in r.text


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.UnknownItemError("x"), 404),
        (errors.SessionNotFoundError("x"), 404),
        (errors.ValidationError("x"), 422),
        (errors.DataError("x", path="f.csv", line=3), 422),
        (errors.DataFormatError("x"), 422),
        (errors.SessionEndedError("x"), 409),
        (errors.ConflictError("x"), 409),
        (errors.StoreUnavailableError("x"), 503),
        (errors.NotFittedError("x"), 503),
        (errors.DownloadError("x"), 502),
        (errors.ArtifactError("x"), 500),
        (errors.ConfigError("x"), 500),
        (errors.CRSError("x"), 500),
    ],
)
def test_error_classes_map_to_statuses(error: errors.CRSError, status: int) -> None:
    assert status_for(error)[0] == status
