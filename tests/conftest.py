"""Shared fixtures: one small generated history, warehouse and Prefect server per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "60")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server for the whole session (starting one costs ~13 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(scope="session")
def built_history(tmp_path_factory):
    """A small simulated history (12 services, 4 teams, 120 days), ingested and built into marts (~1 min).

    Returns (sim_dir, warehouse). Treat the warehouse as read-only: copy it (shutil.copy) before writing.
    """
    from releasepilot.features import build_features
    from releasepilot.ingest import IngestRequest, run_ingest
    from releasepilot.simulation import SimulationConfig, simulate

    root = tmp_path_factory.mktemp("built-history")
    sim_dir, warehouse = root / "sim", root / "warehouse.duckdb"
    simulate(SimulationConfig(seed=7, services=12, teams=4, days=120), sim_dir)
    run_ingest(IngestRequest(source_dir=sim_dir, warehouse=warehouse))
    build_features(warehouse, REPO_ROOT / "dbt_project")
    return sim_dir, warehouse
