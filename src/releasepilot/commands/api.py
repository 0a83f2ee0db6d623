"""API commands: `serve` the HTTP API, manage API `token`s, and the CI `gate` of a planned release."""

from __future__ import annotations

from pathlib import Path

import typer

from releasepilot.cli import JsonOption, console, emit_json, run_command
from releasepilot.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
GATE_TIMEOUT_SECONDS = 30.0
BOOTSTRAP_CREATOR = "cli"

token_app = typer.Typer(help="Create, list and revoke API tokens (stored hashed in the warehouse).",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(gate)
    app.add_typer(token_app, name="token")


def _warehouse(path: Path | None) -> Path:
    from releasepilot.config import get_settings

    return path or get_settings().warehouse_path


def serve(
    host: str = typer.Option(DEFAULT_HOST, help="Address to listen on."),
    port: int = typer.Option(DEFAULT_PORT, min=1, max=65535, help="Port to listen on."),
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    as_json: bool = JsonOption,
) -> None:
    """Serve the JSON API (/api/v1, docs at /docs) and the dashboard with uvicorn."""

    def body() -> None:
        import uvicorn

        from releasepilot.api.app import create_app

        app = create_app(warehouse=_warehouse(warehouse))
        address = {"url": f"http://{host}:{port}", "docs": f"http://{host}:{port}/docs",
                   "warehouse": str(app.state.warehouse)}
        if as_json:
            emit_json(address)
        else:
            console().print(f"ReleasePilot API on {address['url']} (docs {address['docs']}), "
                            f"warehouse {address['warehouse']}")
        uvicorn.run(app, host=host, port=port, log_level="warning" if as_json else "info")

    run_command(body)


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., "--name", help="Who or what uses the token (a person, a CI pipeline)."),
    role: str = typer.Option(..., "--role", help="viewer, release-manager or admin."),
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    as_json: bool = JsonOption,
) -> None:
    """Create a token (this is how the first admin token is made); its secret is printed only now."""

    def body() -> None:
        from releasepilot.api.auth import create_token
        from releasepilot.api.store import open_warehouse

        with open_warehouse(_warehouse(warehouse)) as con:
            created = create_token(con, name, role, created_by=BOOTSTRAP_CREATOR)
        if as_json:
            emit_json(created)
            return
        console().print(f"token {created['token_id']} ({created['name']}, {created['role']}); keep it, it is "
                        f"not shown again:\n{created['token']}")

    run_command(body)


@token_app.command("list")
def token_list(
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    as_json: bool = JsonOption,
) -> None:
    """List tokens (never their secrets)."""

    def body() -> None:
        from releasepilot.api.auth import list_tokens
        from releasepilot.api.store import open_warehouse

        with open_warehouse(_warehouse(warehouse)) as con:
            tokens = list_tokens(con)
        if as_json:
            emit_json(tokens)
            return
        from rich.table import Table

        table = Table(title="API tokens")
        for column in ("token_id", "name", "role", "created_at", "active"):
            table.add_column(column)
        for t in tokens:
            table.add_row(t["token_id"], t["name"], t["role"], t["created_at"], "yes" if t["active"] else "revoked")
        console().print(table)

    run_command(body)


@token_app.command("revoke")
def token_revoke(
    token_id: str = typer.Argument(..., help="The token's id (from `token list`)."),
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    as_json: bool = JsonOption,
) -> None:
    """Revoke a token: it stops working at once."""

    def body() -> None:
        from releasepilot.api.auth import revoke_token
        from releasepilot.api.store import open_warehouse

        with open_warehouse(_warehouse(warehouse)) as con:
            revoked = revoke_token(con, token_id, revoked_by=BOOTSTRAP_CREATOR)
        if revoked is None:
            raise InputError(f"no token {token_id!r}", field="token_id")
        if as_json:
            emit_json(revoked)
        else:
            console().print(f"token {token_id} ({revoked['name']}) revoked at {revoked['revoked_at']}")

    run_command(body)


def gate_via_api(api: str, token: str | None, release: str) -> dict:
    """The gate verdict from a running API; unknown release and bad input are InputErrors (exit 2)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        answer = httpx.get(f"{api.rstrip('/')}/api/v1/releases/gate", params={"release": release}, headers=headers,
                           timeout=GATE_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise InputError(f"could not reach the API: {exc}", field="api") from None
    if answer.status_code == 200:
        return answer.json()
    try:
        message = answer.json().get("message") or answer.json().get("detail")
    except ValueError:
        message = answer.text
    raise InputError(f"the API answered {answer.status_code}: {message}",
                     field="token" if answer.status_code in (401, 403) else "release")


def gate(
    release: str = typer.Option(..., "--release", help="PLAN_ID/SERVICE (or PLAN_ID for the whole train)."),
    api: str = typer.Option(None, "--api", help="Ask a running API (e.g. http://127.0.0.1:8000) instead of "
                                                "reading the warehouse."),
    token: str = typer.Option(None, "--token", envvar="RELEASEPILOT_TOKEN", help="API token (with --api)."),
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    as_json: bool = JsonOption,
) -> None:
    """CI gate: exit 0 on GO, 1 on NO-GO, 3 on GO WITH CONDITIONS (2 on bad input or an unknown release)."""
    verdict: dict = {}

    def body() -> None:
        import re

        from releasepilot.api.queries import RELEASE_PATTERN

        if not re.match(RELEASE_PATTERN, release):
            raise InputError(f"expected PLAN_ID/SERVICE, got {release!r}", field="release")
        if api:
            verdict.update(gate_via_api(api, token, release))
        else:
            from releasepilot.api.queries import gate_verdict

            path = _warehouse(warehouse)
            if not Path(path).exists():
                raise InputError(f"warehouse {path} does not exist", field="warehouse")
            found = gate_verdict(path, release)
            if found is None:
                raise InputError(f"no planned release {release!r}", field="release")
            verdict.update(found)
        if as_json:
            emit_json(verdict)
            return
        lines = [f"{verdict['release']}: {verdict['decision']} (recommended {verdict['recommended']})"]
        if verdict.get("override"):
            o = verdict["override"]
            lines.append(f"overridden by {o['by']}: {o['reason']}")
        lines += [f"condition: {c}" for c in verdict.get("conditions") or []]
        console().print("\n".join(lines))

    run_command(body)
    raise typer.Exit(verdict["exit_code"])
