"""API fixtures: a small warehouse with tokens of each role and stored plans, and a TestClient over it.

Plans are stored with the real library (audit.save_plan, or build_plan + store_plan on the simulated
history); tokens with api.auth.create_token.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from api.helpers import store_small_plan
from releasepilot.api import auth
from releasepilot.api.store import open_warehouse


@pytest.fixture()
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    store_small_plan(path)
    return path


@pytest.fixture()
def tokens(warehouse) -> dict[str, str]:
    with open_warehouse(warehouse) as con:
        return {role: auth.create_token(con, f"{role}-person", role, created_by="tests")["token"]
                for role in auth.ROLES}


@pytest.fixture()
def settings(tmp_path):
    """Settings with an empty MLflow store of its own and no policy file."""
    from releasepilot.config import Settings

    return Settings(_env_file=None, RELEASEPILOT_HOME=str(tmp_path), MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}",
                    RELEASEPILOT_POLICY=str(tmp_path / "no-policy.yaml"))


@pytest.fixture()
def client(warehouse, settings):
    from fastapi.testclient import TestClient

    from releasepilot.api.app import create_app

    with TestClient(create_app(settings, warehouse=warehouse)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def built_warehouse(built_history, tmp_path_factory):
    """A copy of the simulated history with one real plan (build_plan + store_plan, no risk model)."""
    from releasepilot.planning.assemble import build_plan, store_plan
    from releasepilot.planning.from_git import generate_train
    from releasepilot.planning.risk_source import unavailable

    path = tmp_path_factory.mktemp("api-built") / "warehouse.duckdb"
    shutil.copy(built_history[1], path)
    train = generate_train(path, teams=3, seed=5)
    plan = build_plan(train, path, scorer=unavailable("tests"))
    store_plan(plan, path, created_by="tests")
    return path, plan
