"""Dialogue sessions: create, talk (JSON or Server-Sent Events), feedback, read, end."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api import metrics
from api.deps import PROTECTED, ApiSettingsDep, ManagerDep
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
from api.turns import checked_text, record_turn, turn_events, turn_public

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], dependencies=PROTECTED)

_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such session (or it expired)."}}
_TURN_ERRORS = {
    **_NOT_FOUND,
    409: {"model": ErrorPublic, "description": "The session has ended."},
    413: {"model": ErrorPublic, "description": "The message is longer than CRS_MAX_TEXT_CHARS."},
    422: {"model": ErrorPublic, "description": "Malformed body, or an empty message."},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionCreatedPublic,
    summary="Start a conversation (optionally for a user, whose profile it reads and extends).",
)
def create_session(manager: ManagerDep, body: SessionCreate | None = None) -> SessionCreatedPublic:
    user_id = body.user_id if body is not None else None
    session_id = manager.start_session(user_id)
    metrics.SESSIONS_STARTED.inc()
    return SessionCreatedPublic(session_id=session_id, user_id=user_id)


@router.post(
    "/{session_id}/messages",
    response_model=TurnPublic,
    summary="Send a message; get the reply, recommendations with explanations, or a question.",
    responses=_TURN_ERRORS,
)
def post_message(
    session_id: str, body: MessageCreate, manager: ManagerDep, settings: ApiSettingsDep
) -> TurnPublic:
    turn = turn_public(manager.turn(session_id, checked_text(body.text, settings)))
    record_turn(turn)
    return turn


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
    session_id: str, body: MessageCreate, manager: ManagerDep, settings: ApiSettingsDep
) -> StreamingResponse:
    text = checked_text(body.text, settings)
    # The turn runs before the response starts: a missing session or a bad message is a plain HTTP error.
    turn = turn_public(await run_in_threadpool(manager.turn, session_id, text))
    record_turn(turn)

    async def frames() -> AsyncIterator[str]:
        for frame in turn_events(turn):
            yield frame

    return StreamingResponse(
        frames(),
        media_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/{session_id}",
    response_model=SessionPublic,
    summary="The session's state and its whole transcript, with turn numbers.",
    responses=_NOT_FOUND,
)
def get_session(session_id: str, manager: ManagerDep) -> SessionPublic:
    return SessionPublic.model_validate(manager.get_session(session_id).to_dict())


@router.delete(
    "/{session_id}",
    response_model=SessionPublic,
    summary="End the session (its facts are merged into the user's profile) and delete it.",
    responses=_NOT_FOUND,
)
def delete_session(session_id: str, manager: ManagerDep) -> SessionPublic:
    final = SessionPublic.model_validate(manager.end_session(session_id).to_dict())
    manager.store.delete_session(session_id)
    return final


@router.post(
    "/{session_id}/feedback",
    response_model=FeedbackPublic,
    summary="Like, dislike, accept, reject or mark as seen an item (e.g. a recommendation's buttons).",
    responses={**_NOT_FOUND, 409: {"model": ErrorPublic, "description": "The session has ended."}},
)
def post_feedback(session_id: str, body: FeedbackCreate, manager: ManagerDep) -> FeedbackPublic:
    state = manager.feedback(session_id, body.item_id, body.kind)
    metrics.FEEDBACK.labels(body.kind).inc()
    summary = state.to_dict() if hasattr(state, "to_dict") else dict(state)
    return FeedbackPublic(session_id=session_id, item_id=body.item_id, kind=body.kind, state=summary)
