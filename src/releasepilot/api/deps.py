"""What every router needs from the app: the warehouse path and the settings (set by create_app)."""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException, Request

from releasepilot.config import Settings


def warehouse(request: Request) -> Path:
    return request.app.state.warehouse


def settings(request: Request) -> Settings:
    return request.app.state.settings


def not_found(what: str) -> HTTPException:
    return HTTPException(404, f"{what} not found")


def stripped(value: str | None, field: str) -> str | None:
    """Pydantic validator body: a text field that must not be blank (None stays None)."""
    if value is None:
        return None
    if not value.strip():
        raise ValueError(f"{field} must not be empty")
    return value.strip()
