"""A ConversationClient that drives a running server through the REST API (httpx).

POST {base}/v1/sessions -> {"session_id"}; POST {base}/v1/sessions/{id}/messages {"text"} -> the turn
(`recommendations` [{item_id, ...}], `question` or null, `action`). HTTP errors raise CRSError with the
status and the server's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from recsys.errors import CRSError


class HttpClient:
    """Talks to one server; use as a context manager (or call `close`)."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def _post(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self.http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise CRSError(f"{self.base_url}{path}: {exc}") from exc
        if response.status_code >= 400:
            raise CRSError(f"{self.base_url}{path}: HTTP {response.status_code}: {response.text[:300]}")
        data = response.json()
        if not isinstance(data, dict):
            raise CRSError(f"{self.base_url}{path}: expected a JSON object, got {type(data).__name__}")
        return data

    def start(self) -> str:
        data = self._post("/v1/sessions", {})
        if "session_id" not in data:
            raise CRSError(f"{self.base_url}/v1/sessions: no session_id in the response")
        return str(data["session_id"])

    def send(self, session_id: str, text: str) -> Mapping[str, Any]:
        return self._post(f"/v1/sessions/{session_id}/messages", {"text": text})

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
