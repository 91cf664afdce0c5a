"""Dialogue sessions: create, talk (JSON or Server-Sent Events), feedback, read, end.

The writes (messages, feedback, ending) of one session run one at a time, whichever worker serves them,
and messages and feedback accept an `Idempotency-Key` header: see `api.writes`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api import metrics
from api.deps import PROTECTED, DialogueService, caller
from api.lean import LeanRoute
from api.responses import FastJSONResponse
from api.schemas import (
    ErrorPublic,
    FeedbackCreate,
    FeedbackPublic,
    MessageCreate,
    SessionCreate,
    SessionCreatedPublic,
    SessionPublic,
    TurnPublic,
)
from api.security import Principal
from api.turns import checked_text, record_turn, turn_body, turn_events
from api.writes import WriteResult, run_session_write, write_stores

# LeanRoute: the routes whose shape allows it (messages, their stream, feedback) skip FastAPI's generic
# request machinery on well-formed JSON requests (see api.lean); the others are served as usual
router = APIRouter(prefix="/v1/sessions", tags=["sessions"], dependencies=PROTECTED, route_class=LeanRoute)

_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such session (or it expired)."}}
_BUSY = (
    "`session_busy` (with Retry-After): another write of this session kept it busy too long; "
    "`idempotency_interrupted`: an earlier attempt with this Idempotency-Key was cut off mid-way."
)
_WRITE_ERRORS = {
    **_NOT_FOUND,
    409: {"model": ErrorPublic, "description": f"The session has ended; or {_BUSY}"},
    422: {
        "model": ErrorPublic,
        "description": "Malformed body; or `idempotency_key_reused`: the key was sent with another request.",
    },
    503: {"model": ErrorPublic, "description": "Redis is unavailable (Retry-After)."},
}
_TURN_ERRORS = {
    **_WRITE_ERRORS,
    413: {"model": ErrorPublic, "description": "The message is longer than CRS_MAX_TEXT_CHARS."},
}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Any unique string (a UUID): a retry with the same key and body returns the first "
        "result (header `Idempotent-Replayed: true`) and applies the request once.",
    ),
]


def _turn(manager: DialogueService, session_id: str, text: str) -> Callable[[], dict[str, Any]]:
    """The action of a message: run the turn, count it, return its JSON body."""

    def run() -> dict[str, Any]:
        body = turn_body(manager.turn(session_id, text))
        record_turn(body)
        return body

    return run


def _write(
    request: Request,
    manager: DialogueService,
    session_id: str,
    action: Callable[[], dict[str, Any]],
    principal: Principal,
    idempotency_key: str | None,
    body: BaseModel | None,
) -> WriteResult:
    """`action` as one write of the session (locked; idempotent with a key): see `api.writes`. The request
    body only matters for the idempotency fingerprint, so it is dumped only when a key is sent."""
    return run_session_write(
        request,
        manager,
        session_id,
        action,
        principal=principal,
        idempotency_key=idempotency_key,
        request_body=body.model_dump(mode="json")
        if body is not None and idempotency_key is not None
        else None,
    )


def _json(result: WriteResult) -> JSONResponse:
    return FastJSONResponse(result.body, status_code=result.status, headers=result.headers)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionCreatedPublic,
    summary="Start a conversation (optionally for a user, whose profile it reads and extends).",
)
def create_session(request: Request, body: SessionCreate | None = None) -> SessionCreatedPublic:
    user_id = body.user_id if body is not None else None
    session_id = caller(request).manager.start_session(user_id)
    metrics.SESSIONS_STARTED.inc()
    return SessionCreatedPublic(session_id=session_id, user_id=user_id)


@router.post(
    "/{session_id}/messages",
    response_model=TurnPublic,
    summary="Send a message; get the reply, recommendations with explanations, or a question.",
    responses=_TURN_ERRORS,
)
def post_message(
    session_id: str, body: MessageCreate, request: Request, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    who = caller(request)
    text = checked_text(body.text, who.settings)
    turn = _turn(who.manager, session_id, text)
    return _json(_write(request, who.manager, session_id, turn, who.principal, idempotency_key, body))


@router.post(
    "/{session_id}/messages/stream",
    summary="Send a message; the turn comes back as Server-Sent Events.",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`text/event-stream`: `reply` chunks, one `recommendation` per item, an optional "
            "`question`, then `done` with the whole turn.",
            "content": {
                "text/event-stream": {
                    "example": 'id: 1.1\nevent: reply\ndata: {"text":"How "}\n\n'
                    'id: 1.7\nevent: done\ndata: {"session_id":"...","turn":1,...}\n\n'
                }
            },
        },
        **_TURN_ERRORS,
    },
)
async def stream_message(
    session_id: str, body: MessageCreate, request: Request, idempotency_key: IdempotencyKey = None
) -> StreamingResponse:
    who = caller(request)
    text = checked_text(body.text, who.settings)

    # The turn runs before the response starts: a missing session or a bad message is a plain HTTP error.
    turn = _turn(who.manager, session_id, text)
    result = await run_in_threadpool(
        _write, request, who.manager, session_id, turn, who.principal, idempotency_key, body
    )

    async def frames() -> AsyncIterator[str]:
        for frame in turn_events(result.body):
            yield frame

    return StreamingResponse(
        frames(),
        media_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **result.headers},
    )


@router.get(
    "/{session_id}",
    response_model=SessionPublic,
    summary="The session's state and its whole transcript, with turn numbers.",
    responses=_NOT_FOUND,
)
def get_session(session_id: str, request: Request) -> SessionPublic:
    return SessionPublic.model_validate(caller(request).manager.get_session(session_id).to_dict())


@router.delete(
    "/{session_id}",
    response_model=SessionPublic,
    summary="End the session (its facts are merged into the user's profile) and delete it.",
    responses=_NOT_FOUND,
)
def delete_session(session_id: str, request: Request) -> JSONResponse:
    who = caller(request)
    manager = who.manager

    def end() -> dict[str, Any]:
        final = SessionPublic.model_validate(manager.end_session(session_id).to_dict())
        manager.store.delete_session(session_id)
        write_stores(request, manager).idempotency.forget_session(session_id)  # stored responses too
        return final.model_dump(mode="json")

    return _json(_write(request, manager, session_id, end, who.principal, None, None))


@router.post(
    "/{session_id}/feedback",
    response_model=FeedbackPublic,
    summary="Like, dislike, accept, reject or mark as seen an item (e.g. a recommendation's buttons).",
    responses=_WRITE_ERRORS,
)
def post_feedback(
    session_id: str,
    body: FeedbackCreate,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    who = caller(request)
    manager = who.manager

    def give() -> dict[str, Any]:
        state = manager.feedback(session_id, body.item_id, body.kind)
        metrics.FEEDBACK.labels(body.kind).inc()
        summary = state.to_dict() if hasattr(state, "to_dict") else dict(state)
        public = FeedbackPublic(session_id=session_id, item_id=body.item_id, kind=body.kind, state=summary)
        return public.model_dump(mode="json")

    return _json(_write(request, manager, session_id, give, who.principal, idempotency_key, body))
