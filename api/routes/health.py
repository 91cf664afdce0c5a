"""Liveness, readiness and metrics: GET /healthz, GET /readyz, GET /metrics (no API key, no rate limit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from api import metrics
from api.deps import DialogueService, get_manager
from api.schemas import HealthPublic, ReadinessPublic
from recsys.errors import StoreUnavailableError

router = APIRouter(tags=["health"])


def get_loaded_manager(request: Request) -> DialogueService | None:
    """The manager if it is built (or overridden), without building it: readiness must not block."""
    override = request.app.dependency_overrides.get(get_manager)
    if override is not None:
        return override()
    return request.app.state.manager_holder.manager


@router.get("/healthz", response_model=HealthPublic, summary="Liveness: the process answers.")
async def healthz() -> HealthPublic:
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    response_model=ReadinessPublic,
    summary="Readiness: the models are loaded and Redis answers.",
    responses={503: {"model": ReadinessPublic, "description": "Not ready (models loading, or Redis down)."}},
)
def readyz(
    request: Request, manager: Annotated[DialogueService | None, Depends(get_loaded_manager)]
) -> JSONResponse:
    checks: dict[str, str] = {}
    if manager is None:
        checks["models"] = request.app.state.manager_holder.status
        checks["redis"] = "unknown"
    else:
        checks["models"] = "loaded"
        try:
            manager.store.ping()
            checks["redis"] = "ok"
        except StoreUnavailableError as exc:
            checks["redis"] = f"unavailable: {type(exc.__cause__ or exc).__name__}"
    ready = checks["models"] == "loaded" and checks["redis"] == "ok"
    runtime = getattr(getattr(manager, "explainer", None), "runtime", None)
    # informational, never gating: without a loaded language model turns use templates
    checks["llm"] = "unknown" if manager is None else runtime.status if runtime is not None else "off"
    body = ReadinessPublic(status="ready" if ready else "not_ready", checks=checks)
    headers = {} if ready else {"Retry-After": "5"}
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503, headers=headers)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format).",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def prometheus_metrics() -> Response:
    data, content_type = metrics.render_latest()
    return Response(data, media_type=content_type)
