"""GO / GO WITH CONDITIONS / NO-GO from risk, checks and conflicts; train combination; overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from releasepilot.planning.decision import (
    apply_override,
    apply_overrides,
    assess_checks,
    assess_conflicts,
    assess_risk,
    combine_train_risk,
    decide_release,
    decide_train,
    latest_train_override,
)
from releasepilot.planning.types import (
    CheckResult,
    Conflict,
    Decision,
    Override,
    ReleaseRisk,
    RiskDriver,
    worst,
)
from releasepilot.policy import DecisionPolicy, Policy, RiskPolicy, parse_policy

DRIVERS = (RiskDriver("lines_changed", 2400, 0.8, "a large change"),
           RiskDriver("author_experience", 40, -0.3, "an experienced author"),
           RiskDriver("recent_incidents", 3, 0.5, "recent incidents on this service"),
           RiskDriver("touches_migration", 1, 0.2, "a database migration"),
           RiskDriver("friday", 1, 0.1, "a Friday deploy"))
PASSED = [CheckResult(name, "passed", "test", "ok") for name in ("ci_green", "approvals")]
T0 = datetime(2025, 3, 4, tzinfo=UTC)


def test_worst_and_parse():
    assert worst() is Decision.GO
    assert worst(Decision.GO, Decision.NO_GO, Decision.GO_WITH_CONDITIONS) is Decision.NO_GO
    assert Decision.parse("go-with-conditions") is Decision.GO_WITH_CONDITIONS
    assert Decision.parse("no_go") is Decision.NO_GO
    with pytest.raises(ValueError):
        Decision.parse("maybe")


@pytest.mark.parametrize("p, expected", [(0.05, Decision.GO), (0.10, Decision.GO_WITH_CONDITIONS),
                                         (0.2, Decision.GO_WITH_CONDITIONS), (0.35, Decision.NO_GO)])
def test_risk_thresholds(p, expected):
    reasons = assess_risk(ReleaseRisk("s", p, DRIVERS), RiskPolicy())
    assert reasons[0].decision is expected and reasons[0].code == "failure_probability"
    # the top three drivers that raise risk, largest first; the one that lowers it is not cited
    assert [r.code for r in reasons[1:]] == ["lines_changed", "recent_incidents", "touches_migration"]


def test_a_higher_risk_never_gets_a_better_decision():
    ranks = [assess_risk(ReleaseRisk("s", p / 100), RiskPolicy())[0].decision.rank for p in range(101)]
    assert ranks == sorted(ranks)


def test_missing_risk_asks_for_a_manual_review():
    (reason,) = assess_risk(None)
    assert reason.decision is Decision.GO_WITH_CONDITIONS and reason.condition


def test_checks_map_to_no_go_or_conditions_per_policy():
    checks = [CheckResult("ci_green", "failed", "train file", "CI failed"),
              CheckResult("approvals", "failed", "train file", "0 approvals"),
              CheckResult("oncall", "unknown", "raw.oncall", "no schedule"),
              CheckResult("error_budget", "failed", "slo", "2% left", required=False),
              CheckResult("no_freeze", "passed", "raw.freezes", "none")]
    reasons = {r.code: r for r in assess_checks(checks, DecisionPolicy())}
    assert reasons["ci_green"].decision is Decision.NO_GO
    assert reasons["approvals"].decision is Decision.GO_WITH_CONDITIONS and "approvals" in reasons["approvals"].condition
    assert reasons["oncall"].decision is Decision.GO_WITH_CONDITIONS
    assert reasons["error_budget"].decision is Decision.GO  # shown, not required
    assert "no_freeze" not in reasons
    strict = DecisionPolicy(unknown_check="no_go", no_go_checks=("approvals",))
    reasons = {r.code: r for r in assess_checks(checks, strict)}
    assert reasons["oncall"].decision is Decision.NO_GO and reasons["ci_green"].decision is Decision.GO_WITH_CONDITIONS
    lenient = {r.code for r in assess_checks(checks, DecisionPolicy(unknown_check="ignore"))}
    assert "oncall" not in lenient


def test_conflicts_force_no_go_only_when_listed():
    conflicts = [Conflict("freeze", ("a",), "freeze"),
                 Conflict("untested_contract", ("b", "a"), "untested", {"consumer": "b", "provider": "a"})]
    reasons = assess_conflicts(conflicts, DecisionPolicy())
    assert [r.decision for r in reasons] == [Decision.NO_GO, Decision.GO_WITH_CONDITIONS]
    assert reasons[1].condition == "run an integration test of b against the new a contract"


def test_release_decision_is_the_worst_reason_and_keeps_the_evidence():
    risk = ReleaseRisk("a", 0.05, DRIVERS)
    go = decide_release("a", risk, PASSED, [])
    assert go.decision is Decision.GO and go.success_probability == pytest.approx(0.95)
    conflict = Conflict("peak_traffic", ("a",), "peak", {})
    other = Conflict("peak_traffic", ("z",), "someone else's peak", {})
    cond = decide_release("a", risk, PASSED, [conflict, other])
    assert cond.decision is Decision.GO_WITH_CONDITIONS and cond.conflicts == (conflict,)
    assert cond.conditions == ("move the window off peak traffic or roll out in smaller steps",)
    failed = decide_release("a", risk, [CheckResult("rollback_target", "failed", "raw.deployments", "none")],
                            [conflict])
    assert failed.decision is Decision.NO_GO
    assert {r.kind for r in failed.reasons} == {"risk", "check", "conflict"}
    assert failed.as_dict()["decision"] == "NO-GO"


def test_policy_changes_the_decision():
    risk = ReleaseRisk("a", 0.2)
    assert decide_release("a", risk, PASSED, []).decision is Decision.GO_WITH_CONDITIONS
    lenient = parse_policy({"risk": {"go_below": 0.25, "no_go_at": 0.5}})
    assert decide_release("a", risk, PASSED, [], lenient).decision is Decision.GO


def test_combine_train_risk():
    assert combine_train_risk([0.1, 0.2]) == pytest.approx(1 - 0.9 * 0.8)
    assert combine_train_risk([0.1, 0.2], "max") == 0.2
    assert combine_train_risk([]) == 0.0
    with pytest.raises(ValueError):
        combine_train_risk([0.1], "mean")


def test_train_is_the_worst_of_releases_and_train_risk():
    a = decide_release("a", ReleaseRisk("a", 0.05), PASSED, [])
    b = decide_release("b", ReleaseRisk("b", 0.08), PASSED, [])
    train = decide_train("t", [a, b])
    assert train.decision is Decision.GO and train.failure_probability == pytest.approx(1 - 0.95 * 0.92)
    many = [decide_release(s, ReleaseRisk(s, 0.09), PASSED, []) for s in "abcdef"]  # each GO, together 43%
    train = decide_train("t", many)
    assert all(r.decision is Decision.GO for r in many)
    assert train.decision is Decision.GO_WITH_CONDITIONS and train.reasons[0].code == "train_failure_probability"
    assert decide_train("t", many, Policy(risk=RiskPolicy(train_rule="max"))).decision is Decision.GO
    bad = decide_release("c", ReleaseRisk("c", 0.5), PASSED, [])
    train = decide_train("t", [a, bad])
    assert train.decision is Decision.NO_GO
    assert any(r.kind == "release" and r.code == "c" for r in train.reasons)
    unscored = decide_release("d", None, PASSED, [])
    assert decide_train("t", [a, unscored]).failure_probability is None


def test_overrides_replace_the_decision_but_keep_the_recommendation():
    bad = decide_release("c", ReleaseRisk("c", 0.5), PASSED, [])
    first = Override("o1", "p", "c", Decision.GO, "alice", "hotfix for an outage", T0)
    later = Override("o2", "p", "c", Decision.GO_WITH_CONDITIONS, "bob", "canary only", T0 + timedelta(hours=1))
    (applied,) = apply_overrides([bad], [later, first])
    assert applied.decision is Decision.GO_WITH_CONDITIONS and applied.recommended is Decision.NO_GO
    assert applied.override is later and applied.reasons[0].kind == "override" and "bob" in applied.reasons[0].text
    train = decide_train("t", [applied])
    assert train.decision is Decision.GO_WITH_CONDITIONS  # train risk 50% and the overridden release
    assert "overridden to" in next(r.text for r in train.reasons if r.kind == "release")
    whole = Override("o3", "p", None, Decision.GO, "carol", "ship it", T0)
    assert latest_train_override([first, whole]) is whole and latest_train_override([first]) is None
    overridden = apply_override(train, whole)
    assert overridden.decision is Decision.GO and overridden.as_dict()["override"]["by"] == "carol"
