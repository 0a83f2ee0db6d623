"""The plan_release flow, run through a real (temporary) Prefect server."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import duckdb
import pytest

FLOW_FILE = Path(__file__).resolve().parents[2] / "flows" / "plan_release.py"


def _load_flow():
    spec = importlib.util.spec_from_file_location("plan_release_flow", FLOW_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_flow_stores_the_plan_and_publishes_markdown_and_table(built_history, tmp_path, prefect_server, monkeypatch):
    import asyncio

    from prefect.client.orchestration import get_client

    from releasepilot.audit import get_plan
    from releasepilot.config import get_settings
    from releasepilot.planning.from_git import generate_train, write_train

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    get_settings.cache_clear()
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built_history[1], warehouse)
    train = write_train(generate_train(warehouse, teams=8, seed=2, name="flow-train"), tmp_path / "t.yaml")
    result = _load_flow().plan_release(train_file=str(train), warehouse=str(warehouse))
    get_settings.cache_clear()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert get_plan(con, result["plan_id"])["decision"] == result["decision"]
    finally:
        con.close()

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts()

    keys = {a.key: a for a in asyncio.run(artifacts())}
    assert "Release plan: flow-train" in keys["plan-flow-train"].data
    assert "plan-flow-train-releases" in keys
