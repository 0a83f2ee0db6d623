"""`make up` / `make down` for real: Prefect server, worker and MLflow on spare ports, a run through the worker.

One test on purpose (starting the stack costs tens of seconds): it starts the stack, checks every
deployment of prefect.yaml is registered with its schedule and the build-after-ingest automation,
runs the ingest deployment on a tiny simulated history through the worker, sees the automation start
build_features on the same warehouse and complete it, checks MLflow answers, then stops everything.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from releasepilot import processes
from releasepilot.deployments import read_deployments, registered_deployments
from releasepilot.stack import (
    SERVICE_ORDER,
    StackConfig,
    dashboard_available,
    service_commands,
    start_stack,
    stop_stack,
)

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
FLOW_RUN_TIMEOUT_SECONDS = 240


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_service_commands_use_the_configured_ports_and_pool(tmp_path):
    env = {"RELEASEPILOT_PREFECT_PORT": "4301", "RELEASEPILOT_MLFLOW_PORT": "5301",
           "RELEASEPILOT_DASHBOARD_PORT": "8301", "RELEASEPILOT_RUN_DIR": str(tmp_path)}
    config = StackConfig.from_env(env)
    commands = service_commands(config)
    assert config.run_dir == tmp_path and config.prefect_api_url == "http://127.0.0.1:4301/api"
    assert commands["prefect-server"][-4:] == ["--host", "127.0.0.1", "--port", "4301"]
    assert "5301" in commands["mlflow"] and "--artifacts-destination" in commands["mlflow"]
    assert commands["worker"][-4:-2] == ["--type", "process"] and "releasepilot" in commands["worker"]
    assert commands["dashboard"][-1] == "8301"


def test_a_bad_port_names_the_variable():
    from releasepilot.errors import InputError

    with pytest.raises(InputError, match="RELEASEPILOT_MLFLOW_PORT"):
        StackConfig.from_env({"RELEASEPILOT_MLFLOW_PORT": "50x"})


def _flow_runs(api_url: str, flow_name: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def read():
        with temporary_settings({PREFECT_API_URL: api_url}):
            async with get_client() as client:
                return await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])))

    return asyncio.run(read())


def _automations(api_url: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def read():
        with temporary_settings({PREFECT_API_URL: api_url}):
            async with get_client() as client:
                return await client.read_automations()

    return asyncio.run(read())


def _run_deployment(api_url: str, name: str, parameters: dict):
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        return run_deployment(name, parameters=parameters, timeout=FLOW_RUN_TIMEOUT_SECONDS, poll_interval=1)


@pytest.mark.timeout(900)
def test_up_deploys_runs_through_the_worker_and_down_stops_everything(tmp_path):
    import httpx

    from releasepilot.simulation import SimulationConfig, simulate
    from releasepilot.warehouse import connect

    sim, warehouse = tmp_path / "sim", tmp_path / "warehouse.duckdb"
    simulate(SimulationConfig(seed=3, services=4, teams=2, days=30), sim)
    env = {"RELEASEPILOT_PREFECT_PORT": str(_free_port()), "RELEASEPILOT_MLFLOW_PORT": str(_free_port()),
           "RELEASEPILOT_DASHBOARD_PORT": str(_free_port()), "RELEASEPILOT_RUN_DIR": str(tmp_path / "run"),
           "RELEASEPILOT_MLFLOW_BACKEND_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
           "RELEASEPILOT_MLFLOW_ARTIFACTS": str(tmp_path / "mlartifacts")}
    # Flow runs must never touch the project's own warehouse or MLflow database.
    config = StackConfig.from_env(env, worker_poll_seconds=2, extra_env={
        "RELEASEPILOT_WAREHOUSE": str(tmp_path / "default.duckdb"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"})
    api = config.prefect_api_url
    try:
        began = time.monotonic()
        report = start_stack(config)
        print(f"\nstack up in {time.monotonic() - began:.1f} s: {report.as_dict()['seconds']}")

        # Every deployment of prefect.yaml is on the server, under its flow, pool and schedule.
        expected = {spec.name: spec for spec in read_deployments(REPO)}
        registered = asyncio.run(registered_deployments(api))
        assert set(registered) == set(expected), report.skipped_deployments
        for name, spec in expected.items():
            assert registered[name]["flow"] == spec.flow_function
            assert registered[name]["work_pool"] == "releasepilot"
            assert registered[name]["schedules"] == [s["cron"] for s in spec.schedules]
            assert registered[name]["pull_steps"][0]["prefect.deployments.steps.set_working_directory"] == {
                "directory": str(REPO)}
        automation = next(a for a in _automations(api) if a.name == "build-features-after-ingest")
        assert automation.enabled and automation.actions[0].deployment_id.hex == registered[
            "build-features"]["id"].replace("-", "")

        # MLflow answers; so does the dashboard when it is installed.
        assert httpx.get(f"{config.mlflow_url}/health", timeout=5).text.strip() == "OK"
        assert httpx.get(f"{config.mlflow_url}/api/2.0/mlflow/experiments/search",
                         params={"max_results": 5}, timeout=5).status_code == 200
        if dashboard_available():
            assert httpx.get(config.dashboard_url + "/", timeout=5).status_code < 500

        # The ingest deployment runs through the worker; the automation then builds the same warehouse.
        ingest = _run_deployment(api, "ingest_history/ingest-hourly",
                                 {"source_dir": str(sim), "warehouse": str(warehouse)})
        assert ingest.state.is_completed(), ingest.state
        deadline, build = time.monotonic() + FLOW_RUN_TIMEOUT_SECONDS, None
        while time.monotonic() < deadline:
            runs = _flow_runs(api, "build_features")
            build = runs[0] if runs else None
            if build is not None and build.state.is_final():
                break
            time.sleep(2)
        assert build is not None, "the automation did not start build_features after ingest completed"
        assert build.state.is_completed(), build.state
        assert build.parameters["warehouse"] == str(warehouse)
        assert str(build.deployment_id) == registered["build-features"]["id"]
        with connect(warehouse, read_only=True) as con:
            assert con.execute("select count(*) from marts.release_features").fetchall()[0][0] > 0
        print(f"ingest + triggered build through the worker: {time.monotonic() - began:.1f} s since start")
    finally:
        stopped = stop_stack(config)
    assert stopped["worker"].startswith("stopped (SIGINT)"), stopped
    assert stopped["prefect-server"].startswith("stopped") and stopped["mlflow"].startswith("stopped"), stopped
    for name in SERVICE_ORDER:
        assert not processes.pid_file(config.run_dir, name).exists()
    for name in report.services:
        pid = int(report.services[name].split("pid ")[1].rstrip(")"))
        assert processes.group_members(pid) == [], name
    assert not processes.port_in_use(config.host, config.prefect_port)
    assert not processes.port_in_use(config.host, config.mlflow_port)
    assert stop_stack(config) == {name: "not running" for name in ("worker", "dashboard", "mlflow", "prefect-server")}
