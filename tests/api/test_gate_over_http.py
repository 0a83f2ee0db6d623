"""`releasepilot gate --api URL --token T` against a real uvicorn server: exit codes 0/1/3, 2 for bad input."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
from typer.testing import CliRunner

from api.helpers import bearer
from releasepilot.cli import app

START_WAIT_SECONDS = 15


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def server(warehouse, settings):
    import uvicorn

    from releasepilot.api.app import create_app

    port = _free_port()
    instance = uvicorn.Server(uvicorn.Config(create_app(settings, warehouse=warehouse), host="127.0.0.1", port=port,
                                             log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + START_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    instance.should_exit = True
    thread.join(START_WAIT_SECONDS)


def test_gate_command_over_http(server, tokens):
    runner = CliRunner()
    viewer = tokens["viewer"]

    def gate(release, token=viewer):
        return runner.invoke(app, ["gate", "--release", release, "--api", server, "--token", token, "--json"])

    assert gate("plan-small/alpha-api").exit_code == 0
    assert gate("plan-small/beta-api").exit_code == 3
    httpx.post(f"{server}/api/v1/plans/plan-small/overrides", headers=bearer(tokens["release-manager"]),
               json={"decision": "NO-GO", "reason": "canary failed in staging", "service": "alpha-api"})
    assert gate("plan-small/alpha-api").exit_code == 1
    unknown = gate("plan-small/nope")
    assert unknown.exit_code == 2 and "404" in unknown.output
    assert gate("plan-small/alpha-api", token="rp_bad_token").exit_code == 2
    assert runner.invoke(app, ["gate", "--release", "plan-small/alpha-api", "--api", "http://127.0.0.1:9",
                               "--token", viewer]).exit_code == 2


def test_openapi_docs_list_every_endpoint(server):
    spec = httpx.get(f"{server}/api/v1/openapi.json").json()
    assert {"/api/v1/plans", "/api/v1/plans/{plan_id}/overrides", "/api/v1/rollouts/{plan_id}/approvals",
            "/api/v1/outcomes", "/api/v1/releases/gate", "/api/v1/tokens/{token_id}", "/api/v1/metrics/dora",
            "/api/v1/models", "/api/v1/me", "/api/v1/health"} <= set(spec["paths"])
    assert httpx.get(f"{server}/docs").status_code == 200
