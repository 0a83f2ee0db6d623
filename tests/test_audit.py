"""Stored plans, overrides and the append-only audit trail, on a real DuckDB file."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from releasepilot import audit
from releasepilot.errors import InputError
from releasepilot.planning.types import Decision

T0 = datetime(2025, 3, 4, 12, tzinfo=UTC)
RELEASES = [
    {"service": "checkout", "version": "2.4.0", "decision": "NO-GO", "failure_probability": 0.41,
     "reasons": [{"kind": "risk", "code": "failure_probability"}], "conditions": []},
    {"service": "orders", "version": "1.2.0", "decision": "GO WITH CONDITIONS", "failure_probability": 0.12,
     "conditions": ["collect the missing approvals"]},
]


@pytest.fixture()
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def make_plan(con) -> str:
    return audit.save_plan(con, train_name="march", decision="NO-GO", created_by="planner", releases=RELEASES,
                           failure_probability=0.48, source_file="train.yaml", at=T0)


def test_a_saved_plan_reads_back_with_its_releases_and_an_audit_entry(con):
    plan_id = make_plan(con)
    plan = audit.get_plan(con, plan_id)
    assert plan["decision"] == "NO-GO" and plan["created_at"] == T0 and plan["failure_probability"] == 0.48
    assert [(r["service"], r["decision"]) for r in plan["releases"]] == [
        ("checkout", "NO-GO"), ("orders", "GO WITH CONDITIONS")]
    assert plan["releases"][1]["conditions"] == ["collect the missing approvals"]
    entries = audit.audit_entries(con)
    assert [(e["who"], e["action"], e["target"]) for e in entries] == [("planner", "plan.create", plan_id)]


def test_overrides_append_and_never_change_earlier_rows(con):
    plan_id = make_plan(con)
    first = audit.record_override(con, plan_id, "GO", "alice", "fix verified on staging", service="checkout",
                                  at=T0 + timedelta(hours=1))
    before = con.execute("select * from app.overrides").fetchall()
    second = audit.record_override(con, plan_id, "no-go", "bob", "changed my mind", service="checkout",
                                   at=T0 + timedelta(hours=2))
    train = audit.record_override(con, plan_id, Decision.GO_WITH_CONDITIONS, "carol", "ship with care",
                                  at=T0 + timedelta(hours=3))
    after = con.execute("select * from app.overrides").fetchall()
    assert after[: len(before)] == before and len(after) == 3
    overrides = audit.list_overrides(con, plan_id)
    assert [o.override_id for o in overrides] == [first.override_id, second.override_id, train.override_id]
    assert overrides[1].decision is Decision.NO_GO and overrides[2].service is None
    recommended = dict(con.execute("select override_id, recommended from app.overrides").fetchall())
    assert recommended[first.override_id] == "NO-GO" and recommended[train.override_id] == "NO-GO"
    log = audit.audit_entries(con, target_prefix=plan_id + "/")
    assert [(e["who"], e["reason"]) for e in log] == [
        ("alice", "fix verified on staging"), ("bob", "changed my mind"), ("carol", "ship with care")]
    assert log[0]["details"]["recommended"] == "NO-GO" and log[2]["target"] == f"{plan_id}/*"
    # the plan itself is untouched by overrides
    assert audit.get_plan(con, plan_id)["decision"] == "NO-GO"


@pytest.mark.parametrize("kwargs, expected", [
    ({"by": " ", "reason": "r", "decision": "GO"}, "field 'by'"),
    ({"by": "a", "reason": "", "decision": "GO"}, "field 'reason'"),
    ({"by": "a", "reason": "r", "decision": "MAYBE"}, "unknown decision 'MAYBE'"),
    ({"by": "a", "reason": "r", "decision": "GO", "service": "ghost"}, "no release of 'ghost'"),
])
def test_bad_overrides_are_rejected_and_write_nothing(con, kwargs, expected):
    plan_id = make_plan(con)
    with pytest.raises(InputError, match=expected):
        audit.record_override(con, plan_id, **kwargs)
    assert audit.list_overrides(con, plan_id) == []
    assert len(audit.audit_entries(con)) == 1


def test_an_override_of_an_unknown_plan_is_an_error(con):
    with pytest.raises(InputError, match="no stored plan 'plan-nope'"):
        audit.record_override(con, "plan-nope", "GO", "a", "r")


def test_a_failed_plan_write_leaves_nothing_behind(con, monkeypatch):
    bad = RELEASES + [{"service": "x", "decision": "SOMETIMES"}]
    with pytest.raises(InputError, match=r"releases\[2\].decision"):
        audit.save_plan(con, train_name="t", decision="GO", created_by="p", releases=bad)
    with pytest.raises(InputError, match="'checkout' appears twice"):
        audit.save_plan(con, train_name="t", decision="GO", created_by="p", releases=RELEASES + [RELEASES[0]])

    def fail(*args, **kwargs):  # the last statement of the transaction fails: the earlier inserts roll back
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "_append_audit", fail)
    with pytest.raises(RuntimeError):
        audit.save_plan(con, train_name="t", decision="GO", created_by="p", releases=RELEASES)
    assert con.execute("select count(*) from app.plans").fetchone()[0] == 0
    assert con.execute("select count(*) from app.plan_releases").fetchone()[0] == 0
    assert audit.audit_entries(con) == []


def test_readers_do_not_create_tables_on_a_read_only_warehouse(tmp_path):
    path = tmp_path / "ro.duckdb"
    duckdb.connect(str(path)).close()
    ro = duckdb.connect(str(path), read_only=True)
    try:
        assert audit.get_plan(ro, "p") is None and audit.list_overrides(ro, "p") == []
        assert audit.audit_entries(ro) == []
    finally:
        ro.close()


def test_record_audit_for_other_writes(con):
    audit.record_audit(con, "ci-bot", "model.promote", "release-risk", "better AUC", {"version": 3}, at=T0)
    (entry,) = audit.audit_entries(con)
    assert entry["details"] == {"version": 3} and entry["at"] == T0


def test_the_module_never_updates_or_deletes():
    source = Path(audit.__file__).read_text().lower()
    assert not re.search(r"\b(update|delete|truncate|drop)\s", source.replace("updated", ""))
