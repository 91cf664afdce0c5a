"""JSON responses rendered with orjson: the same JSON (compact, UTF-8, non-ASCII characters as they are)
as Starlette's `JSONResponse`, encoded several times faster - the turn bodies are the largest responses
the API sends, on every message."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    """`JSONResponse` encoded by orjson. What orjson refuses (a key that is not a string, an integer
    beyond 64 bits) is encoded by the standard library as before. One difference: a float NaN or
    infinity becomes `null` (the standard encoder, as Starlette calls it, raises)."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return super().render(content)
