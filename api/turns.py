"""One dialogue turn over HTTP: the text checks, the metrics it feeds, and its Server-Sent Events form.

SSE framing (`text/event-stream`, UTF-8): every event is `id: <turn>.<n>`, `event: <name>` and one
`data: <JSON>` line, then a blank line. JSON never contains a raw newline, so one data line always holds
the whole payload. Events of one turn, in order:

    reply           {"text": "<chunk>"}      the reply, word by word (concatenated: the whole reply)
    recommendation  {"rank": 1, ...}         each recommended item with its explanation (RecommendationPublic)
    question        {...}                    the question asked, if any (QuestionPublic)
    done            {...}                    the whole turn (TurnPublic), last

The body of a turn is built once, straight from the manager's TurnResult (`turn_body`): its `to_dict()` is
the TurnPublic JSON form by construction (tests/api/test_api_turn_body.py proves it on varied turns), so
the API's own output is not validated again; TurnPublic stays the documented response model.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from starlette.exceptions import HTTPException

from api import metrics
from api.schemas import TurnPublic
from dialogue.results import TurnResult
from recsys.errors import ValidationError
from recsys.settings import Settings

_CHUNK_RE = re.compile(r"\s*\S+\s*|\s+")


def checked_text(text: str, settings: Settings) -> str:
    """The message if usable: blank -> 422, longer than `max_text_chars` -> 413."""
    if not text.strip():
        raise ValidationError("text: the message is empty")
    if len(text) > settings.max_text_chars:
        raise HTTPException(
            413, f"text: the message is {len(text)} characters long; the limit is {settings.max_text_chars}"
        )
    return text


def turn_body(result: Any) -> dict[str, Any]:
    """The JSON body of a turn (the TurnPublic form). A `dialogue.results.TurnResult` gives it directly;
    anything else (a mapping, another manager's result) goes through TurnPublic validation."""
    if isinstance(result, TurnResult):
        return result.to_dict()
    return turn_public(result).model_dump(mode="json")


def turn_public(result: Any) -> TurnPublic:
    """A turn as the validated response model (a TurnResult, its `to_dict()`, or a stored body)."""
    return TurnPublic.model_validate(result.to_dict() if hasattr(result, "to_dict") else result)


def record_turn(body: dict[str, Any]) -> None:
    """Feed a turn body into the metrics (turns by action, items recommended, LLM calls and tokens)."""
    metrics.count_turn(body["action"], len(body["recommendations"]))
    sync_llm_metrics()


def sync_llm_metrics() -> None:
    """Copy what the process' LLM runtime counted into the Prometheus counters."""
    metrics.sync_llm(_llm_runtime())


@functools.cache
def _runtime_getter() -> Callable[[], Any]:
    from dialogue.llm.runtime import get_runtime  # imported on first use (a function-level import per
    # turn costs as much as the counting itself)

    return get_runtime


def _llm_runtime() -> Any:
    return _runtime_getter()()


def sse_event(event: str, data: Any, event_id: str | None = None) -> str:
    """One Server-Sent Event (a JSON payload on a single data line)."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {payload}\n\n"


def reply_chunks(reply: str) -> list[str]:
    """The reply cut into word chunks (leading / trailing whitespace kept: they concatenate back)."""
    return _CHUNK_RE.findall(reply)


def turn_events(body: dict[str, Any]) -> Iterator[str]:
    """The SSE frames of one turn body (`turn_body`, or a stored one; see the module docstring)."""
    n = 0

    def next_id() -> str:
        nonlocal n
        n += 1
        return f"{body['turn']}.{n}"

    for chunk in reply_chunks(body["reply"]):
        yield sse_event("reply", {"text": chunk}, next_id())
    for rank, rec in enumerate(body["recommendations"], start=1):
        yield sse_event("recommendation", {"rank": rank, **rec}, next_id())
    if body["question"] is not None:
        yield sse_event("question", body["question"], next_id())
    yield sse_event("done", body, next_id())
