"""build_features: the report it returns, its errors, and the Prefect flow around it."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent / "dbt"))
from fixture_history import write_fixture_history

from releasepilot.errors import NotReadyError, ReleasePilotError
from releasepilot.features import build_features


def test_report_lists_models_tests_and_rows(tmp_path, repo_root):
    path = write_fixture_history(tmp_path / "w.duckdb")
    report = build_features(path, repo_root / "dbt_project")
    kinds = {node.kind for node in report.nodes}
    assert {"model", "test", "unit_test"} <= kinds
    rows = {node.name: node.rows for node in report.nodes if node.kind == "model"}
    assert rows["release_features"] == 8 and rows["change_features"] == 6
    document = report.as_dict()
    assert document["failed"] == [] and document["models"] >= 20 and document["seconds"] > 0
    with duckdb.connect(str(path)) as con:  # dbt released the file
        assert con.execute("select count(*) from marts.release_features").fetchone()[0] == 8


def test_failing_data_test_raises_with_node_names(tmp_path, repo_root):
    path = write_fixture_history(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("insert into raw.deployments select * from raw.deployments where deployment_id = 'A1'")
    with pytest.raises(ReleasePilotError, match="unique") as caught:
        build_features(path, repo_root / "dbt_project")
    assert "deployment_id" in str(caught.value)


def test_missing_warehouse_is_not_ready(tmp_path, repo_root):
    with pytest.raises(NotReadyError, match="does not exist"):
        build_features(tmp_path / "none.duckdb", repo_root / "dbt_project")


@pytest.mark.slow
def test_flow_builds_and_returns_report(tmp_path, prefect_server, monkeypatch, repo_root):
    sys.path.insert(0, str(repo_root / "flows"))
    from build_features import build_features as flow

    path = write_fixture_history(tmp_path / "w.duckdb")
    monkeypatch.setenv("RELEASEPILOT_HOME", str(repo_root))
    result = flow(warehouse=str(path))
    assert result["failed"] == [] and result["models"] >= 20
