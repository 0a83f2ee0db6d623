"""`releasepilot override` end to end on a real DuckDB file (CliRunner, no mocks)."""

from __future__ import annotations

import json

import duckdb
from typer.testing import CliRunner

from releasepilot import audit
from releasepilot.cli import app

runner = CliRunner()


def make_warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    plan_id = audit.save_plan(con, train_name="t", decision="NO-GO", created_by="planner", releases=[
        {"service": "checkout", "version": "1", "decision": "NO-GO", "failure_probability": 0.4}])
    con.close()
    return path, plan_id


def test_override_json_records_who_why_and_the_recommendation(tmp_path):
    path, plan_id = make_warehouse(tmp_path)
    result = runner.invoke(app, ["override", plan_id, "--decision", "go with conditions", "--by", "alice",
                                 "--reason", "canary only", "--release", "checkout", "--warehouse", str(path),
                                 "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["decision"] == "GO WITH CONDITIONS" and document["recommended"] == "NO-GO"
    assert document["by"] == "alice" and document["service"] == "checkout"
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert [o.override_id for o in audit.list_overrides(con, plan_id)] == [document["override_id"]]
    finally:
        con.close()


def test_override_for_people_prints_a_table(tmp_path):
    path, plan_id = make_warehouse(tmp_path)
    result = runner.invoke(app, ["override", plan_id, "--decision", "GO", "--by", "bob", "--reason", "ok",
                                 "--warehouse", str(path)])
    assert result.exit_code == 0, result.output
    assert "Override recorded" in result.stdout and "(whole train)" in result.stdout


def test_override_errors_exit_2_and_name_the_problem(tmp_path):
    path, plan_id = make_warehouse(tmp_path)
    result = runner.invoke(app, ["override", plan_id, "--decision", "GO", "--by", "bob", "--reason", "ok",
                                 "--release", "ghost", "--warehouse", str(path), "--json"])
    assert result.exit_code == 2 and "no release of 'ghost'" in result.stderr
    result = runner.invoke(app, ["override", "plan-x", "--decision", "GO", "--by", "b", "--reason", "r",
                                 "--warehouse", str(tmp_path / "missing.duckdb")])
    assert result.exit_code == 3 and "does not exist" in result.stderr
    assert not (tmp_path / "missing.duckdb").exists()
