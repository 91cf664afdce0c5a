"""`LeanRoute`: the message routes without FastAPI's generic per-request machinery on the common request.

FastAPI handles a request by reading the body, parsing its content type (an `email.message` per
request), decoding the JSON, solving the dependency tree and validating every declared parameter through
pydantic adapters, then hopping to a thread through a telemetry wrapper: about a third of the event loop's
CPU per message, measured. A `LeanRoute` is still an ordinary `APIRoute` - its OpenAPI operation, its
path template (the metrics label), its exception handling are FastAPI's - but its handler first tries the
short way for the request every client sends, `Content-Type: application/json` with a body the body model
accepts: the body validated from the bytes in one pydantic call, the router's guard (`api.deps.guard`,
401 / 429 exactly as the dependency raises them), then the endpoint with the path, header and body values.

Anything else - another content type, a body that does not validate, malformed JSON - goes to FastAPI's
own handler with the same request object (the body is cached on it), so every error response is the one
FastAPI gives. The short way only accepts what the standard way accepts with the same result: pydantic's
JSON parser is stricter than `json.loads` (no byte-order mark, no lone surrogates, UTF-8 only), and the
model is the same (tests/api/test_api_lean.py replays the hostile corpus through both ways).

Routes qualify only with exactly the shape it handles (checked when the route is built; otherwise the
route keeps FastAPI's handler): `str` path parameters, optional `str` headers, one body model, the
`Request`, and no dependency but the guard.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine
from types import NoneType, UnionType
from typing import Any, get_args

import pydantic
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api.deps import guard

log = logging.getLogger(__name__)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class LeanRoute(APIRoute):
    """An APIRoute with the short way in front of FastAPI's handler (see the module docstring)."""

    def get_route_handler(self) -> Handler:
        standard = super().get_route_handler()
        shape = _shape(self)
        if shape is None:
            log.debug("%s %s does not fit LeanRoute: FastAPI's handler serves it", self.methods, self.path)
            return standard
        model, body_name, path_names, headers, request_name = shape
        endpoint = self.endpoint
        is_coroutine = inspect.iscoroutinefunction(endpoint)

        async def handle(request: Request) -> Response:
            if request.headers.get("content-type") != "application/json" or guard in overrides(request):
                return await standard(request)
            try:
                body = model.model_validate_json(await request.body())
            except pydantic.ValidationError:
                return await standard(request)  # FastAPI builds the 422 (the body is cached on `request`)
            await guard(request, Response())  # what the router's dependency does (its headers: see guard)
            values: dict[str, Any] = {body_name: body, request_name: request}
            path_params = request.path_params
            for name in path_names:
                values[name] = path_params[name]
            for name, alias in headers:
                values[name] = request.headers.get(alias)
            if is_coroutine:
                response = await endpoint(**values)
            else:
                response = await run_in_threadpool(endpoint, **values)
            if not isinstance(response, Response):
                raise TypeError(f"{endpoint.__name__} must return a Response under LeanRoute")
            return response

        return handle


def overrides(request: Request) -> dict[Any, Any]:
    """The app's dependency overrides (a test replacing the guard gets FastAPI's handler)."""
    return getattr(request.app, "dependency_overrides", None) or {}


def _shape(
    route: APIRoute,
) -> tuple[type[pydantic.BaseModel], str, list[str], list[tuple[str, str]], str] | None:
    """(body model, body parameter, path parameters, (header parameter, header name), request parameter)
    when the route has the shape `LeanRoute` handles, else None."""
    dependant = route.dependant
    if [d.call for d in dependant.dependencies] != [guard] or dependant.dependencies[0].dependencies:
        return None
    if dependant.query_params or dependant.cookie_params or len(dependant.body_params) != 1:
        return None
    if dependant.request_param_name is None or dependant.response_param_name is not None:
        return None
    if dependant.background_tasks_param_name or dependant.security_scopes_param_name:
        return None
    body = dependant.body_params[0]
    if getattr(body.field_info, "embed", False):
        return None
    model = body.field_info.annotation
    if not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)):
        return None
    if not body.field_info.is_required():
        return None
    if any(p.field_info.annotation is not str for p in dependant.path_params):
        return None
    headers = []
    for param in dependant.header_params:
        annotation = param.field_info.annotation
        if not isinstance(annotation, UnionType) or set(get_args(annotation)) != {str, NoneType}:
            return None
        if param.field_info.default is not None or param.field_info.metadata:
            return None
        headers.append((param.name, param.alias))
    path_names = [p.name for p in dependant.path_params]
    return model, body.name, path_names, headers, dependant.request_param_name
