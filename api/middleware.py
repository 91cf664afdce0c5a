"""Pure ASGI middleware: request ids, the latency metric, and the request body size limit (413).

`RequestMiddleware` is one layer doing all three: every extra layer costs a coroutine call per request and
a wrapper per message sent (the event loop's CPU per request is what bounds a worker's throughput). When
CORS is on, the body limit runs as its own layer (`BodySizeLimitMiddleware`) inside the CORS one, so a
browser can read the 413, while the request id and the timing stay outermost.

Pure ASGI (not BaseHTTPMiddleware) so that streamed responses (Server-Sent Events) pass through untouched.
"""

from __future__ import annotations

import json
import os
import re
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import observe_request

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_NOSNIFF = (b"x-content-type-options", b"nosniff")


def new_request_id() -> str:
    """A fresh request id: 32 random hex digits (the form of a uuid4 hex, without its cost)."""
    return os.urandom(16).hex()


def _too_large_message(max_bytes: int) -> str:
    return f"request body larger than the limit of {max_bytes} bytes"


def declared_too_large(length: bytes | None, max_bytes: int) -> bool:
    """Whether a Content-Length header value announces more than `max_bytes`."""
    return length is not None and length.isdigit() and int(length) > max_bytes


def limited_receive(receive: Receive, max_bytes: int) -> Receive:
    """`receive` that raises HTTPException(413) as soon as the body streamed so far passes `max_bytes`
    (a chunked upload cannot sneak past a limit that only checks Content-Length)."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise HTTPException(413, _too_large_message(max_bytes))
        return message

    return limited


async def reject_too_large(send: Send, max_bytes: int, request_id: str | None) -> None:
    """Send the 413 response (the API's error body; the connection is closed)."""
    error = {"code": "payload_too_large", "message": _too_large_message(max_bytes)}
    if request_id:
        error["request_id"] = request_id
    body = json.dumps({"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestMiddleware:
    """The API's outermost layer, for every HTTP request:

    - an id: the client's `X-Request-ID` when well-formed, else a new one; kept in
      `request.state.request_id` (error bodies quote it) and echoed in the `X-Request-ID` response header;
    - `X-Content-Type-Options: nosniff` on every response: a JSON body that quotes a user's HTML (a
      message, a profile text) is never sniffed and rendered as a page by a browser;
    - its latency in `crs_http_request_duration_seconds{method, route, status}` by route template
      (`<unmatched>` when no route matched, as for a 413 refused before routing; status 500 when the app
      raised before answering);
    - with `max_bytes`: bodies larger than that are refused with 413, at once when Content-Length says
      so, else as soon as the streamed body passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        given = b""
        length: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value
            elif name == b"content-length":
                length = value
        given_id = given.decode("latin-1")
        request_id = given_id if _REQUEST_ID_RE.match(given_id) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode())
        status = 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                started = True
                message["headers"] = [*message.get("headers", ()), id_header, _NOSNIFF]
            await send(message)

        max_bytes = self.max_bytes
        try:
            if max_bytes is None:
                await self.app(scope, receive, send_wrapper)
            elif declared_too_large(length, max_bytes):
                await reject_too_large(send_wrapper, max_bytes, request_id)
            else:
                try:
                    await self.app(scope, limited_receive(receive, max_bytes), send_wrapper)
                except HTTPException as exc:
                    if exc.status_code != 413 or started:
                        raise
                    await reject_too_large(send_wrapper, max_bytes, request_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            observe_request(scope["method"], template, status, time.perf_counter() - start)


class BodySizeLimitMiddleware:
    """The body limit as a layer of its own (inside CORS when CORS is on; see the module docstring):
    bodies larger than `max_bytes` get 413, at once when Content-Length says so, else as soon as the
    streamed body passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = (scope.get("state") or {}).get("request_id")
        length = dict(scope.get("headers") or []).get(b"content-length")
        if declared_too_large(length, self.max_bytes):
            await reject_too_large(send, self.max_bytes, request_id)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive(receive, self.max_bytes), send_wrapper)
        except HTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await reject_too_large(send, self.max_bytes, request_id)
