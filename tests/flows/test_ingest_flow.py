"""The ingest flow, run once through a real (temporary) Prefect server."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import pytest

from sources.fixtures import ROW_COUNTS, write_history

FLOW_FILE = Path(__file__).resolve().parents[2] / "flows" / "ingest_history.py"


def _load_flow():
    spec = importlib.util.spec_from_file_location("ingest_history_flow", FLOW_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_flow_loads_history_and_publishes_counts(tmp_path, prefect_server):
    from prefect.client.orchestration import get_client

    module = _load_flow()
    history = write_history(tmp_path / "history")
    warehouse = tmp_path / "wh.duckdb"
    result = module.ingest_history(source_dir=str(history), warehouse=str(warehouse))

    inserted = {row["table_name"]: row["rows_inserted"] for row in result["tables"]}
    assert inserted == ROW_COUNTS
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.deployments").fetchone()[0] == ROW_COUNTS["deployments"]

    async def latest_artifact():
        async with get_client() as client:
            return await client.read_latest_artifacts()

    import asyncio

    artifacts = [a for a in asyncio.run(latest_artifact()) if a.key == module.ARTIFACT_KEY]
    assert artifacts and artifacts[0].type == "table"
    assert "deployments" in str(artifacts[0].data)
