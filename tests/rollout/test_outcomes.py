"""Outcomes land in raw.deployments (the data contract) and app.release_outcomes, once."""

from __future__ import annotations

import duckdb

from releasepilot.rollout.execution_plan import ExecutionPlan, save_execution_plan
from releasepilot.rollout.executor import execute_plan
from releasepilot.rollout.outcomes import read_outcomes
from releasepilot.simulation.telemetry import FaultSpec
from releasepilot.sources.schema import RAW_TABLES
from rollout.plans import fleet, release


def test_outcome_rows_land_in_raw_deployments(tmp_path):
    w = tmp_path / "w.duckdb"
    con = duckdb.connect(str(w))                       # raw.deployments as ingest makes it, with an old row
    con.execute("CREATE SCHEMA raw")
    con.execute(RAW_TABLES["deployments"].ddl())
    con.execute("INSERT INTO raw.deployments VALUES ('old-1', 'alpha-api', '1.9.0', NULL, 'x', "
                "'2024-12-01', '2024-12-01 01:00', 'production', 'ci', 'succeeded', now())")
    con.close()
    plan = ExecutionPlan("plan-out", "t", ((release("a1", "alpha-api"), release("b1", "beta-api")),),
                         watch_minutes=10)
    clock, target, health = fleet({"beta-api": FaultSpec("ramp", "latency_p99", 3, 2.0, 10)})
    execute_plan(plan, target, health, clock, w, fault_onset=target.fault_onset)
    con = duckdb.connect(str(w))
    rows = con.execute("SELECT deployment_id, service, version, commit_from, commit_to, environment, deployer, "
                       "status, finished_at > started_at FROM raw.deployments WHERE deployer = 'releasepilot' "
                       "ORDER BY deployment_id").fetchall()
    con.close()
    assert rows == [("plan-out/a1", "alpha-api", "2.0.0", "a1", "b2", "production", "releasepilot", "succeeded", True),
                    ("plan-out/b1", "beta-api", "2.0.0", "a1", "b2", "production", "releasepilot", "rolled_back",
                     True)]
    outcomes = {o["release_id"]: o for o in read_outcomes(w, "plan-out")}
    assert outcomes["b1"]["detected_from"] == "fault_onset"
    assert 0 < outcomes["b1"]["time_to_detect_minutes"] < 30
    assert outcomes["a1"]["time_to_detect_minutes"] is None
    # running the finished plan again writes nothing twice
    clock, target, health = fleet()
    execute_plan(plan, target, health, clock, w)
    con = duckdb.connect(str(w))
    assert con.execute("SELECT count(*) FROM raw.deployments").fetchone()[0] == 3
    con.close()


def test_release_command_runs_a_stored_plan_with_a_fault(tmp_path):
    import json

    from typer.testing import CliRunner

    from releasepilot.cli import app

    w = tmp_path / "w.duckdb"
    save_execution_plan(w, ExecutionPlan("cli-plan", "t", ((release("a1", "alpha-api"),),), watch_minutes=5))
    runner = CliRunner()
    out = runner.invoke(app, ["release", "--plan", "cli-plan", "--fault", "alpha-api=step:error_rate:5:2",
                              "--warehouse", str(w), "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["status"] == "rolled_back" and result["outcomes"][0]["detected_from"] == "fault_onset"
    listed = json.loads(runner.invoke(app, ["rollouts", "--plan", "cli-plan", "--warehouse", str(w),
                                            "--json"]).stdout)
    assert listed["rollouts"][0]["releases"] == {"a1": "rolled_back"}
    assert {"step_started", "step_failed", "rollback_completed"} <= {e["kind"] for e in listed["events"]}
    bad = runner.invoke(app, ["release", "--plan", "cli-plan", "--fault", "alpha-api=nonsense",
                              "--warehouse", str(w)])
    assert bad.exit_code == 2 and "--fault" in bad.output
