"""/api/v1/tokens (admin) and /api/v1/me: create, list and revoke API tokens; who am I."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field, field_validator

from releasepilot.api import auth
from releasepilot.api.auth import Principal, require
from releasepilot.api.deps import not_found, stripped, warehouse
from releasepilot.api.store import open_warehouse

router = APIRouter(tags=["tokens"])


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, description="Who or what uses the token (a person, a CI pipeline).")
    role: Literal["viewer", "release-manager", "admin"]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return stripped(value, "name")


@router.get("/me")
def me(who: Principal = Depends(require("viewer"))) -> dict[str, str]:
    """The token's id, name and role."""
    return who.as_dict()


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenRequest, who: Principal = Depends(require("admin")),
                 path: Path = Depends(warehouse)) -> dict[str, Any]:
    """A new token; its secret (`token`) is shown only in this answer."""
    with open_warehouse(path) as con:
        return auth.create_token(con, body.name, body.role, created_by=who.name)


@router.get("/tokens")
def list_tokens(_: Principal = Depends(require("admin")), path: Path = Depends(warehouse)) -> list[dict[str, Any]]:
    """Every token, without secrets."""
    with open_warehouse(path) as con:
        return auth.list_tokens(con)


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: str, who: Principal = Depends(require("admin")),
                 path: Path = Depends(warehouse)) -> dict[str, Any]:
    """Revoke a token: it stops working at once."""
    with open_warehouse(path) as con:
        revoked = auth.revoke_token(con, token_id, revoked_by=who.name)
    if revoked is None:
        raise not_found(f"token {token_id!r}")
    return revoked
