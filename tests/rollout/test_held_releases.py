"""NO-GO releases are not deployed: the run reads the stored decisions (after overrides) as it starts."""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest

from releasepilot.audit import record_override, save_plan
from releasepilot.rollout.execution_plan import save_execution_plan
from releasepilot.rollout.executor import HELD, SKIPPED, SUCCEEDED, execute_plan
from releasepilot.rollout.runner import held_by_decision, run_stored_plan
from rollout.plans import fleet, three_wave_plan


@pytest.fixture
def warehouse(tmp_path):
    return tmp_path / "warehouse.duckdb"


def _deployed(target):
    return Counter(r.service for r in target.history if r.action == "deploy_step" and r.ok)


def test_a_held_release_and_its_dependents_are_not_deployed(warehouse):
    clock, target, health = fleet()
    plan = three_wave_plan("plan-held")
    result = execute_plan(plan, target, health, clock, warehouse, held={"r2": "NO-GO: test"})
    status = {o.release_id: o.status for o in result.outcomes}
    assert status == {"r1": SUCCEEDED, "r2": HELD, "r3": SUCCEEDED, "r4": SKIPPED}
    assert "payments-api" not in _deployed(target) and "checkout-api" not in _deployed(target)
    assert result.status == "partial"
    con = duckdb.connect(str(warehouse), read_only=True)
    shipped = {r[0] for r in con.execute("select service from raw.deployments").fetchall()}
    assert shipped == {"payments-db", "search-api"}          # a held release never reaches the history


def _store(warehouse, plan_id, decisions):
    con = duckdb.connect(str(warehouse))
    save_plan(con, train_name="train-7", decision="NO-GO" if "NO-GO" in decisions.values() else "GO",
              created_by="test", plan_id=plan_id,
              releases=[{"service": s, "version": "2.0.0", "decision": d} for s, d in decisions.items()])
    con.close()


def test_an_override_to_go_lets_a_no_go_release_ship(warehouse):
    plan = three_wave_plan("plan-ovr")
    # the executor's release ids are the plan's services in a stored plan
    from dataclasses import replace

    plan = replace(plan, waves=tuple(tuple(replace(r, release_id=r.service, depends_on_release_ids=tuple(
        {"r1": "payments-db", "r2": "payments-api"}[d] for d in r.depends_on_release_ids)) for r in w)
        for w in plan.waves))
    save_execution_plan(warehouse, plan)
    _store(warehouse, "plan-ovr", {"payments-db": "GO", "payments-api": "NO-GO", "search-api": "GO",
                                   "checkout-api": "GO"})
    assert set(held_by_decision(warehouse, "plan-ovr")) == {"payments-api", "payments-db", "search-api",
                                                            "checkout-api"}   # a NO-GO train holds all
    con = duckdb.connect(str(warehouse))
    record_override(con, "plan-ovr", "GO", by="carol", reason="fix verified in staging", service="payments-api")
    record_override(con, "plan-ovr", "GO", by="carol", reason="train reviewed")
    con.close()
    assert held_by_decision(warehouse, "plan-ovr") == {}
    result = run_stored_plan("plan-ovr", warehouse=warehouse)
    assert {o.status for o in result.outcomes} == {SUCCEEDED}


def test_a_train_that_is_no_go_only_because_of_one_release_ships_the_others():
    from releasepilot.planning.decision import effective_decisions, held_releases

    row = {"decision": "NO-GO", "releases": [{"service": "a", "decision": "NO-GO"},
                                             {"service": "b", "decision": "GO WITH CONDITIONS"}]}
    own_reasons_fine = {"decision": {"reasons": [{"kind": "release", "decision": "NO-GO"},
                                                 {"kind": "risk", "decision": "GO"}]}}
    assert set(held_releases(effective_decisions(row, own_reasons_fine, []))) == {"a"}
    train_too_risky = {"decision": {"reasons": [{"kind": "risk", "decision": "NO-GO"}]}}
    assert set(held_releases(effective_decisions(row, train_too_risky, []))) == {"a", "b"}
