"""Readiness checks: each one passed, failed and unknown, with its source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from releasepilot.planning.calendar import HourlyCalendar
from releasepilot.planning.readiness import (
    ReadinessFacts,
    assess_approvals,
    assess_ci,
    assess_dependencies,
    assess_error_budget,
    assess_freeze,
    assess_migrations,
    assess_oncall,
    assess_readiness,
    assess_rollback_target,
)
from releasepilot.planning.types import CHECK_NAMES, TimeWindow
from releasepilot.policy import ReadinessPolicy

T = datetime(2025, 3, 3, 20, tzinfo=UTC)
WINDOW = TimeWindow(T, T + timedelta(hours=1))
CAL = HourlyCalendar.from_rows(
    freezes=[{"freeze_id": "f", "name": "holidays", "starts_at": T + timedelta(days=1),
              "ends_at": T + timedelta(days=2), "scope": "shop"}],
    oncall=[{"team": "pay", "user_name": "a", "starts_at": T - timedelta(hours=2), "ends_at": T + timedelta(hours=4)}])


@pytest.mark.parametrize("status, expected", [("passed", "passed"), ("failed", "failed"), ("running", "unknown"),
                                              ("unknown", "unknown")])
def test_ci(status, expected):
    assert assess_ci(status).status == expected


def test_approvals_count_distinct_people():
    assert assess_approvals(["a", "a"], 2).status == "failed"
    assert assess_approvals(["a", "b"], 2).status == "passed"
    assert assess_approvals([], 0).status == "passed"


def test_rollback_target():
    assert assess_rollback_target("1.2.3").status == "passed"
    assert assess_rollback_target(None).status == "failed"
    assert assess_rollback_target(None, history_known=False).status == "unknown"


def test_oncall():
    assert assess_oncall("pay", WINDOW, CAL).status == "passed"
    late = TimeWindow(T + timedelta(hours=3), T + timedelta(hours=5))
    assert assess_oncall("pay", late, CAL).status == "failed"
    assert assess_oncall("other", WINDOW, CAL).status == "failed"
    assert assess_oncall(None, WINDOW, CAL).status == "unknown"
    assert assess_oncall("pay", None, CAL).status == "unknown"
    assert assess_oncall("pay", WINDOW, HourlyCalendar()).status == "unknown"
    assert assess_oncall("pay", WINDOW, CAL).source == "raw.oncall"


def test_freeze_by_scope():
    frozen = TimeWindow(T + timedelta(days=1), T + timedelta(days=1, hours=1))
    result = assess_freeze(frozen, CAL, "shop")
    assert result.status == "failed" and "holidays" in result.detail
    assert assess_freeze(frozen, CAL, "ops").status == "passed"
    assert assess_freeze(None, CAL, "shop").status == "unknown"


def test_dependencies_health():
    assert assess_dependencies(["a", "b"], {"a": True, "b": False}).status == "failed"
    assert assess_dependencies(["a", "b"], {"a": True}).status == "unknown"
    assert assess_dependencies(["a"], {"a": True}).status == "passed"
    assert assess_dependencies([], {}).status == "passed"


def test_error_budget():
    assert assess_error_budget(0.05, 0.1).status == "failed"
    assert assess_error_budget(0.1, 0.1).status == "passed"
    assert assess_error_budget(None, 0.1).status == "unknown"


@pytest.mark.parametrize("migration, reversible, flagged, expected", [
    (False, None, False, "passed"), (True, True, False, "passed"), (True, False, True, "passed"),
    (True, False, False, "failed"), (True, None, False, "unknown"),
])
def test_migrations(migration, reversible, flagged, expected):
    assert assess_migrations(migration, reversible, flagged).status == expected


def test_assess_readiness_runs_every_check_and_marks_required_ones():
    facts = ReadinessFacts(service="checkout", ci_status="passed", approvals=("a",), previous_version="1.0",
                           team="pay", window=WINDOW, system="shop", dependencies=("payments",),
                           dependency_health={"payments": True}, error_budget_remaining=0.5)
    results = assess_readiness(facts, CAL)
    assert tuple(r.name for r in results) == CHECK_NAMES
    assert all(r.status == "passed" and r.required for r in results)
    policy = ReadinessPolicy(required=("ci_green",), min_approvals=2)
    results = {r.name: r for r in assess_readiness(facts, CAL, policy)}
    assert results["approvals"].status == "failed" and not results["approvals"].required
    assert results["ci_green"].required
