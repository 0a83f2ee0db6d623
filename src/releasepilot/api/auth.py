"""Bearer tokens with roles (viewer < release-manager < admin), stored hashed in DuckDB `app.api_tokens`.

A token reads `rp_<token_id>_<secret>`. Only the SHA-256 of the secret is stored; a request's token is
looked up by its id and its secret compared in constant time. A token is shown once, when created; a
revoked token stops working at once. `require(role)` is the FastAPI dependency every endpoint uses.
Creating and revoking a token are audited in the same transaction as the write.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from releasepilot.errors import InputError

TOKENS_TABLE = "app.api_tokens"
ROLES: tuple[str, ...] = ("viewer", "release-manager", "admin")   # lowest first
TOKEN_PREFIX = "rp"
SECRET_BYTES = 32
TOKEN_ID_HEX = 12
DDL = f"""create table if not exists {TOKENS_TABLE} (
    token_id varchar primary key, name varchar not null, role varchar not null, secret_sha256 varchar not null,
    created_at timestamp not null, created_by varchar not null, revoked_at timestamp, revoked_by varchar)"""


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: the token's id, name and role."""

    token_id: str
    name: str
    role: str

    def has(self, role: str) -> bool:
        return role_rank(self.role) >= role_rank(role)

    def as_dict(self) -> dict[str, str]:
        return {"token_id": self.token_id, "name": self.name, "role": self.role}


def role_rank(role: str) -> int:
    """0 for viewer, 1 for release-manager, 2 for admin; an InputError for anything else."""
    try:
        return ROLES.index(role)
    except ValueError:
        raise InputError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}", field="role") from None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """(token_id, secret) from `rp_<id>_<secret>`, or None when the text is not shaped like a token."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def ensure_tokens_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists app")
    con.execute(DDL)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _name(name: str | None) -> str:
    if name is None or not str(name).strip():
        raise InputError("a non-empty token name is required", field="name")
    return str(name).strip()


def create_token(con: duckdb.DuckDBPyConnection, name: str, role: str, created_by: str) -> dict[str, Any]:
    """Store a new token (hashed) with an audit entry, in one transaction; returns it with its secret
    (`token`), which is never shown again."""
    from releasepilot.audit import _append_audit, _Transaction, ensure_schema

    name = _name(name)
    role_rank(role)
    token_id = uuid.uuid4().hex[:TOKEN_ID_HEX]
    secret = secrets.token_urlsafe(SECRET_BYTES).replace("_", "-")
    token = f"{TOKEN_PREFIX}_{token_id}_{secret}"
    at = _now()
    ensure_schema(con)
    ensure_tokens_table(con)
    with _Transaction(con):
        con.execute(f"insert into {TOKENS_TABLE} values (?, ?, ?, ?, ?, ?, null, null)",
                    [token_id, name, role, hash_secret(secret), at, created_by])
        _append_audit(con, created_by, "token.create", f"token/{token_id}", None, {"name": name, "role": role},
                      at.replace(tzinfo=UTC))
    return {"token_id": token_id, "name": name, "role": role, "created_at": at.replace(tzinfo=UTC).isoformat(),
            "token": token}


def list_tokens(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every token without its secret, newest first."""
    ensure_tokens_table(con)
    rows = con.execute(f"select token_id, name, role, created_at, created_by, revoked_at, revoked_by "
                       f"from {TOKENS_TABLE} order by created_at desc, token_id").fetchall()
    keys = ("token_id", "name", "role", "created_at", "created_by", "revoked_at", "revoked_by")
    out = []
    for row in rows:
        item = dict(zip(keys, row))
        for key in ("created_at", "revoked_at"):
            if item[key] is not None:
                item[key] = item[key].replace(tzinfo=UTC).isoformat()
        item["active"] = item["revoked_at"] is None
        out.append(item)
    return out


def revoke_token(con: duckdb.DuckDBPyConnection, token_id: str, revoked_by: str) -> dict[str, Any] | None:
    """Revoke a token (audited, one transaction); None when there is no such token. Revoking twice is a no-op."""
    from releasepilot.audit import _append_audit, _Transaction, ensure_schema

    ensure_schema(con)
    ensure_tokens_table(con)
    rows = con.execute(f"select name, role, revoked_at from {TOKENS_TABLE} where token_id = ?", [token_id]).fetchall()
    if not rows:
        return None
    name, role, revoked_at = rows[0]
    if revoked_at is None:
        at = _now()
        with _Transaction(con):
            con.execute(f"update {TOKENS_TABLE} set revoked_at = ?, revoked_by = ? where token_id = ?",
                        [at, revoked_by, token_id])
            _append_audit(con, revoked_by, "token.revoke", f"token/{token_id}", None, {"name": name, "role": role},
                          at.replace(tzinfo=UTC))
    return next(t for t in list_tokens(con) if t["token_id"] == token_id)


def authenticate(con: duckdb.DuckDBPyConnection, token: str) -> Principal | None:
    """The principal of an active token whose secret matches, else None."""
    parts = split_token(token)
    if parts is None:
        return None
    token_id, secret = parts
    ensure_tokens_table(con)
    rows = con.execute(f"select name, role, secret_sha256, revoked_at from {TOKENS_TABLE} where token_id = ?",
                       [token_id]).fetchall()
    if not rows:
        hmac.compare_digest(hash_secret(secret), "0" * 64)   # same work whether or not the id exists
        return None
    name, role, stored, revoked_at = rows[0]
    if not hmac.compare_digest(hash_secret(secret), stored) or revoked_at is not None:
        return None
    return Principal(token_id, name, role)


def require(role: str):
    """A FastAPI dependency: the request's Principal when its bearer token has at least `role`;
    401 without a valid token, 403 when the role is too low."""
    role_rank(role)
    bearer = HTTPBearer(auto_error=False, description="A token from `releasepilot token create`.")

    def dependency(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
        from releasepilot.api.store import open_warehouse

        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)", headers=challenge)
        warehouse: Path = request.app.state.warehouse
        with open_warehouse(warehouse) as con:
            principal = authenticate(con, credentials.credentials)
        if principal is None:
            raise HTTPException(401, "invalid or revoked token", headers=challenge)
        if not principal.has(role):
            raise HTTPException(403, f"this needs the {role} role; token {principal.name!r} is {principal.role}")
        return principal

    return dependency
