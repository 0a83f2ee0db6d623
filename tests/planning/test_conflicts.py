"""Conflict search on a hand-made graph, calendar and train."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from releasepilot.catalog_graph import build_graph
from releasepilot.planning.calendar import HourlyCalendar
from releasepilot.planning.conflicts import (
    ConflictInputs,
    conflicts_for,
    dependent_window_conflicts,
    find_conflicts,
    freeze_conflicts,
    module_changes,
    module_of,
    oncall_gap_conflicts,
    peak_traffic_conflicts,
    shared_module_conflicts,
    touches_contract,
    untested_contract_conflicts,
)
from releasepilot.planning.types import CONFLICT_KINDS, TimeWindow
from releasepilot.policy import ConflictPolicy

MON = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
GRAPH = build_graph([
    {"service": "web", "tier": 1, "owner": "team-web", "depends_on": ["checkout"], "system": "shop"},
    {"service": "checkout", "tier": 1, "owner": "team-pay", "depends_on": ["payments"],
     "contract_tests": ["payments"], "system": "shop"},
    {"service": "orders", "tier": 2, "owner": "team-orders", "depends_on": ["payments"], "system": "ops"},
    {"service": "payments", "tier": 1, "owner": "team-pay", "system": "shop"},
])


def window(hour: int, hours: int = 1, day: int = 0) -> TimeWindow:
    start = MON + timedelta(days=day, hours=hour)
    return TimeWindow(start, start + timedelta(hours=hours))


def test_module_of_and_contract_paths():
    assert module_of("src/cart/coupon.py") == "src/cart" and module_of("README.md") == "README.md"
    commits = [{"sha": "a1", "files": [{"path": "api/openapi.yaml"}, "src/x/y.py"]}]
    assert touches_contract(commits) == ["api/openapi.yaml"]


def test_a_module_changed_by_two_teams_is_a_conflict_with_commits_as_evidence():
    commits = [
        {"sha": "a1", "author": "ann", "files": ["src/cart/a.py", "src/cart/b.py"]},
        {"sha": "b2", "author": "bo", "files": ["src/cart/c.py"]},
        {"sha": "c3", "author": "stranger", "files": ["src/ui/x.py"]},
    ]
    changes = module_changes("checkout", commits, {"ann": "team-pay", "bo": "team-orders"}, "team-pay")
    (conflict,) = shared_module_conflicts(changes)
    assert conflict.kind == "shared_module" and conflict.services == ("checkout",)
    assert conflict.evidence["module"] == "src/cart"
    assert conflict.evidence["commits_by_team"] == {"team-orders": ["b2"], "team-pay": ["a1"]}
    assert shared_module_conflicts(changes, min_teams=3) == []


def test_a_contract_change_flags_each_untested_consumer_only():
    (conflict,) = untested_contract_conflicts(GRAPH, ["payments"], train_services=["payments", "orders"])
    assert conflict.services == ("orders", "payments")  # checkout has a contract test on payments
    assert conflict.evidence["consumer_in_train"] is True and conflict.evidence["consumer_tier"] == 2
    assert untested_contract_conflicts(GRAPH, ["web"]) == []  # nobody consumes web


def test_dependent_releases_in_overlapping_windows_conflict_even_transitively():
    windows = {"web": window(20, 2), "payments": window(21), "orders": window(23)}
    conflicts = dependent_window_conflicts(GRAPH, windows)
    assert [(c.evidence["consumer"], c.evidence["provider"]) for c in conflicts] == [("web", "payments")]
    assert conflicts[0].evidence["path"] == ["web", "checkout", "payments"]
    windows["orders"] = window(21)  # orders depends on payments and now overlaps it
    assert len(dependent_window_conflicts(GRAPH, windows)) == 2
    assert dependent_window_conflicts(GRAPH, {"web": window(1), "payments": window(2)}) == []


def calendar() -> HourlyCalendar:
    # checkout is busy every day 12:00-14:00 UTC; team-pay is on call Monday 08:00-22:00
    traffic = [{"hour": MON + timedelta(days=d, hours=h), "service": "checkout", "region": "eu",
                "requests": 1000 if 12 <= h < 14 else 10} for d in range(7) for h in range(24)]
    freezes = [{"freeze_id": "f1", "name": "quarter end", "starts_at": MON + timedelta(days=1),
                "ends_at": MON + timedelta(days=2), "scope": "shop", "reason": "finance"}]
    oncall = [{"team": "team-pay", "user_name": "ann", "starts_at": MON + timedelta(hours=8),
               "ends_at": MON + timedelta(hours=22)}]
    return HourlyCalendar.from_rows(traffic=traffic, freezes=freezes, oncall=oncall)


def test_peak_traffic_conflict_names_the_peak_hours():
    cal = calendar()
    (conflict,) = peak_traffic_conflicts({"checkout": window(11, 2)}, cal, 0.9)
    assert [h["hour"][11:16] for h in conflict.evidence["peak_hours"]] == ["12:00"]
    assert peak_traffic_conflicts({"checkout": window(2)}, cal, 0.9) == []
    assert peak_traffic_conflicts({"payments": window(12)}, cal, 0.9) == []  # no traffic: no evidence


def test_freeze_conflicts_respect_scope():
    cal = calendar()
    conflicts = freeze_conflicts({"checkout": window(10, day=1), "orders": window(10, day=1)}, cal,
                                 {"checkout": "shop", "orders": "ops"})
    assert [c.services for c in conflicts] == [("checkout",)]
    assert conflicts[0].evidence["freezes"][0]["name"] == "quarter end"


def test_oncall_gap_partial_and_total():
    cal = calendar()
    teams = {"checkout": "team-pay", "orders": "team-orders"}
    conflicts = oncall_gap_conflicts({"checkout": window(21, 2), "orders": window(10)}, cal, teams)
    assert [(c.services[0], "part" in c.text) for c in conflicts] == [("checkout", True), ("orders", False)]
    assert oncall_gap_conflicts({"checkout": window(9, 2)}, cal, teams) == []


def test_find_conflicts_gathers_every_kind_and_conflicts_for_attributes_them():
    cal = calendar()
    changes = module_changes("checkout", [{"sha": "a1", "author": "ann", "files": ["src/m/a.py"]},
                                          {"sha": "b2", "author": "bo", "files": ["src/m/b.py"]}],
                             {"ann": "team-pay", "bo": "team-web"}, "team-pay")
    inputs = ConflictInputs(
        graph=GRAPH, train_services=("checkout", "payments", "orders"),
        windows={"checkout": window(12, day=1), "payments": window(12, day=1), "orders": window(3)},
        calendar=cal, module_changes=tuple(changes), contract_changes=("payments",),
        teams={"checkout": "team-pay", "payments": "team-pay", "orders": "team-orders"})
    conflicts = find_conflicts(inputs, ConflictPolicy())
    assert {c.kind for c in conflicts} == set(CONFLICT_KINDS)
    kinds = [c.kind for c in conflicts]
    assert kinds == sorted(kinds, key=CONFLICT_KINDS.index)
    # the untested contract (orders x payments) belongs to payments, not to orders
    assert "untested_contract" in {c.kind for c in conflicts_for("payments", conflicts)}
    assert "untested_contract" not in {c.kind for c in conflicts_for("orders", conflicts)}
