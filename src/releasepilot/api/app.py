"""The FastAPI application: JSON API under /api/v1 (OpenAPI docs at /docs), plus the dashboard when installed.

Errors follow one rule: 401 without or with a bad token, 403 for a role too low, 404 for unknown ids,
422 for malformed input with a message naming the field (`field` and `message` in the body), 409 when the
state does not allow the write, 503 when the warehouse file is held by another process for too long.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.routing import Mount

from releasepilot.config import Settings, get_settings
from releasepilot.errors import InputError, NotReadyError

API_PREFIX = "/api/v1"
DASHBOARD_MODULE = "releasepilot.dashboard"
ROUTER_MODULES = ("plans", "rollouts", "models", "metrics", "tokens", "gate")


def _field(loc: tuple[Any, ...]) -> str:
    """'reason' from ('body', 'reason'); 'train.releases[0].service' from nested locations."""
    parts: list[str] = []
    for item in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]" if parts else f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(body)"


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    fields = [_field(tuple(e.get("loc", ()))) for e in errors]
    message = "; ".join(f"{f}: {e.get('msg', 'invalid')}" for f, e in zip(fields, errors))
    detail = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]
    return JSONResponse(status_code=422, content={"message": message, "field": fields[0] if fields else None,
                                                  "detail": detail})


async def _input_error(request: Request, exc: InputError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"message": str(exc), "field": exc.field, "detail": str(exc)})


async def _not_ready(request: Request, exc: NotReadyError) -> JSONResponse:
    return JSONResponse(status_code=409, content={"message": str(exc), "detail": str(exc)})


async def _locked(request: Request, exc: Exception) -> JSONResponse:
    import duckdb

    if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
        return JSONResponse(status_code=503, headers={"Retry-After": "2"},
                            content={"message": "the warehouse is busy (held by another process); retry",
                                     "detail": str(exc)})
    raise exc


def create_app(settings: Settings | None = None, *, warehouse: Path | str | None = None) -> FastAPI:
    """The API (and the dashboard's router when `releasepilot.dashboard` exists) over one warehouse."""
    import duckdb

    settings = settings or get_settings()
    app = FastAPI(title="ReleasePilot", version="1", docs_url="/docs", openapi_url=f"{API_PREFIX}/openapi.json",
                  description="Plans, risk, rollouts and the CI gate. Authenticate with `Authorization: Bearer "
                              "<token>` (`releasepilot token create`).")
    app.state.settings = settings
    app.state.warehouse = Path(warehouse) if warehouse is not None else settings.warehouse_path
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(NotReadyError, _not_ready)
    app.add_exception_handler(duckdb.IOException, _locked)

    api = APIRouter(prefix=API_PREFIX)

    @api.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: the process answers (no token needed)."""
        return {"status": "ok"}

    for name in ROUTER_MODULES:
        api.include_router(importlib.import_module(f"releasepilot.api.{name}").router)
    app.include_router(api)
    if importlib.util.find_spec(DASHBOARD_MODULE) is not None:
        dashboard = importlib.import_module(DASHBOARD_MODULE)
        if hasattr(dashboard, "router"):
            app.include_router(dashboard.router)
            for route in dashboard.router.routes:   # include_router skips mounts (static files): add them here
                if isinstance(route, Mount) and not any(getattr(r, "path", None) == route.path for r in app.routes):
                    app.router.routes.append(route)
    return app
