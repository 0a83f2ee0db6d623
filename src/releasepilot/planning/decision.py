"""GO, GO WITH CONDITIONS or NO-GO, per release and for the train, with every reason traced.

Three kinds of evidence push a release towards a status: its predicted risk (threshold plus the model's
top drivers), its readiness checks and the conflicts it is part of. Each becomes a `Reason` carrying the
status it pushes towards; the release's decision is the worst of them. The train's decision is the worst
of its releases and of the combined train risk. A person's override replaces the recommendation but the
recommendation and its reasons stay visible next to it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from releasepilot.planning.conflicts import conflicts_for
from releasepilot.planning.types import (
    CheckResult,
    Conflict,
    Decision,
    Override,
    Reason,
    ReleaseRisk,
    worst,
)
from releasepilot.policy import DecisionPolicy, Policy, RiskPolicy

CHECK_CONDITIONS = {
    "ci_green": "get CI green on this version before deploying",
    "approvals": "collect the missing approvals",
    "rollback_target": "prepare a tested rollback path (there is no previous version to roll back to)",
    "oncall": "arrange on-call cover for the owning team for the whole window",
    "no_freeze": "get a freeze exception or move the window out of the freeze",
    "dependencies_healthy": "wait until the services it depends on are healthy",
    "error_budget": "ship only with SRE sign-off: little error budget is left",
    "migrations_safe": "make the database migration reversible or put it behind a feature flag",
}
NO_RISK_CONDITION = "review by hand: no risk score is available for this release"
RISK_CONDITION = "staged rollout with health gates: predicted risk is above the GO threshold"


def _pct(value: float) -> str:
    return f"{value:.0%}" if value >= 0.01 or value == 0 else f"{value:.1%}"


def conflict_condition(conflict: Conflict) -> str:
    """What must be done about one conflict before shipping."""
    ev = conflict.evidence
    return {
        "shared_module": lambda: f"have {', '.join(ev.get('commits_by_team', {}))} review the combined change "
                                 f"to {ev.get('service')}:{ev.get('module')}",
        "untested_contract": lambda: f"run an integration test of {ev.get('consumer')} against the new "
                                     f"{ev.get('provider')} contract",
        "dependent_same_window": lambda: f"deploy {ev.get('provider')} before {ev.get('consumer')}, not in "
                                         f"overlapping windows",
        "peak_traffic": lambda: "move the window off peak traffic or roll out in smaller steps",
        "freeze": lambda: CHECK_CONDITIONS["no_freeze"],
        "oncall_gap": lambda: f"arrange on-call cover for {ev.get('team')} for the whole window",
    }.get(conflict.kind, lambda: f"resolve the {conflict.kind} conflict")()


def assess_risk(risk: ReleaseRisk | None, policy: RiskPolicy | None = None) -> list[Reason]:
    """The threshold verdict on the failure probability, then the top drivers that raise it."""
    policy = policy or RiskPolicy()
    if risk is None:
        return [Reason("risk", "no_risk_score", Decision.GO_WITH_CONDITIONS, "no risk score was available",
                       NO_RISK_CONDITION)]
    p = risk.probability
    said = f"predicted failure probability {_pct(p)}"
    condition = None
    if p >= policy.no_go_at:
        verdict, text = Decision.NO_GO, f"{said} is at or above the NO-GO threshold {_pct(policy.no_go_at)}"
    elif p >= policy.go_below:
        verdict = Decision.GO_WITH_CONDITIONS
        text = f"{said} is between {_pct(policy.go_below)} and {_pct(policy.no_go_at)}"
        condition = RISK_CONDITION
    else:
        verdict, text = Decision.GO, f"{said} is below the GO threshold {_pct(policy.go_below)}"
    reasons = [Reason("risk", "failure_probability", verdict, text, condition)]
    raising = sorted((d for d in risk.drivers if d.contribution > 0), key=lambda d: -d.contribution)
    for driver in raising[: policy.top_drivers]:
        reasons.append(Reason("risk", driver.feature, verdict,
                              f"{driver.text} ({driver.feature} = {driver.value}, +{driver.contribution:.3f})"))
    return reasons


def assess_checks(checks: Iterable[CheckResult], policy: DecisionPolicy | None = None) -> list[Reason]:
    """Failed or unknown checks as reasons; passed checks add nothing."""
    policy = policy or DecisionPolicy()
    reasons = []
    for check in checks:
        if check.status == "passed":
            continue
        condition = CHECK_CONDITIONS.get(check.name)
        text = f"{check.name} {check.status}: {check.detail} (source: {check.source})"
        if not check.required:
            reasons.append(Reason("check", check.name, Decision.GO, text + "; not required by policy"))
        elif check.status == "failed":
            verdict = Decision.NO_GO if check.name in policy.no_go_checks else Decision.GO_WITH_CONDITIONS
            reasons.append(Reason("check", check.name, verdict, text, condition))
        elif policy.unknown_check == "no_go":
            reasons.append(Reason("check", check.name, Decision.NO_GO, text, f"confirm {check.name}"))
        elif policy.unknown_check == "conditions":
            reasons.append(Reason("check", check.name, Decision.GO_WITH_CONDITIONS, text,
                                  f"confirm {check.name} by hand ({check.detail})"))
    return reasons


def assess_conflicts(conflicts: Iterable[Conflict], policy: DecisionPolicy | None = None) -> list[Reason]:
    """Each conflict forces NO-GO when its kind is listed in the policy, else adds its condition."""
    policy = policy or DecisionPolicy()
    reasons = []
    for conflict in conflicts:
        verdict = Decision.NO_GO if conflict.kind in policy.no_go_conflicts else Decision.GO_WITH_CONDITIONS
        reasons.append(Reason("conflict", conflict.kind, verdict, conflict.text, conflict_condition(conflict)))
    return reasons


@dataclass(frozen=True)
class ReleaseDecision:
    """The recommendation for one release, the evidence behind it and any override."""

    service: str
    decision: Decision                  # what applies: the override if any, else the recommendation
    recommended: Decision
    failure_probability: float | None
    reasons: tuple[Reason, ...]
    conditions: tuple[str, ...]
    checks: tuple[CheckResult, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    override: Override | None = None

    @property
    def success_probability(self) -> float | None:
        return None if self.failure_probability is None else 1.0 - self.failure_probability

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "decision": self.decision.value, "recommended": self.recommended.value,
                "failure_probability": self.failure_probability, "success_probability": self.success_probability,
                "reasons": [r.as_dict() for r in self.reasons], "conditions": list(self.conditions),
                "checks": [c.as_dict() for c in self.checks], "conflicts": [c.as_dict() for c in self.conflicts],
                "override": self.override.as_dict() if self.override else None}


def _conditions(reasons: Iterable[Reason]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.condition for r in reasons if r.condition))


def decide_release(service: str, risk: ReleaseRisk | None, checks: Sequence[CheckResult],
                   conflicts: Sequence[Conflict], policy: Policy | None = None) -> ReleaseDecision:
    """Combine risk, readiness and the release's conflicts by worst status."""
    policy = policy or Policy()
    mine = conflicts_for(service, conflicts)
    reasons = (*assess_risk(risk, policy.risk), *assess_checks(checks, policy.decision),
               *assess_conflicts(mine, policy.decision))
    verdict = worst(*(r.decision for r in reasons))
    return ReleaseDecision(service, verdict, verdict, None if risk is None else risk.probability, reasons,
                           _conditions(reasons), tuple(checks), tuple(mine))


def combine_train_risk(probabilities: Sequence[float], rule: str = "any_failure") -> float:
    """The train's failure probability: any release failing (independence assumed) or the riskiest one."""
    if not probabilities:
        return 0.0
    if rule == "max":
        return max(probabilities)
    if rule == "any_failure":
        return 1.0 - math.prod(1.0 - p for p in probabilities)
    raise ValueError(f"unknown train risk rule {rule!r}: expected 'any_failure' or 'max'")


@dataclass(frozen=True)
class TrainDecision:
    """The recommendation for the whole train."""

    name: str
    decision: Decision
    recommended: Decision
    failure_probability: float | None
    reasons: tuple[Reason, ...]
    releases: tuple[ReleaseDecision, ...]
    override: Override | None = None

    @property
    def success_probability(self) -> float | None:
        return None if self.failure_probability is None else 1.0 - self.failure_probability

    @property
    def conditions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for r in self.releases for c in r.conditions))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "decision": self.decision.value, "recommended": self.recommended.value,
                "failure_probability": self.failure_probability, "success_probability": self.success_probability,
                "reasons": [r.as_dict() for r in self.reasons], "conditions": list(self.conditions),
                "releases": [r.as_dict() for r in self.releases],
                "override": self.override.as_dict() if self.override else None}


def decide_train(name: str, releases: Sequence[ReleaseDecision], policy: Policy | None = None) -> TrainDecision:
    """Worst of the releases (as they apply, overrides included) and of the combined train risk."""
    policy = policy or Policy()
    known = [r.failure_probability for r in releases if r.failure_probability is not None]
    reasons: list[Reason] = []
    p = None
    if len(known) == len(releases) and releases:
        p = combine_train_risk(known, policy.risk.train_rule)
        rule = "any release failing" if policy.risk.train_rule == "any_failure" else "the riskiest release"
        if p >= policy.risk.train_no_go_at:
            verdict = Decision.NO_GO
            text = f"train failure probability {_pct(p)} ({rule}) is at or above {_pct(policy.risk.train_no_go_at)}"
        elif p >= policy.risk.train_go_below:
            verdict = Decision.GO_WITH_CONDITIONS
            text = f"train failure probability {_pct(p)} ({rule}) is between {_pct(policy.risk.train_go_below)} " \
                   f"and {_pct(policy.risk.train_no_go_at)}"
        else:
            verdict = Decision.GO
            text = f"train failure probability {_pct(p)} ({rule}) is below {_pct(policy.risk.train_go_below)}"
        reasons.append(Reason("risk", "train_failure_probability", verdict, text,
                              RISK_CONDITION if verdict is Decision.GO_WITH_CONDITIONS else None))
    else:
        missing = [r.service for r in releases if r.failure_probability is None]
        reasons.append(Reason("risk", "no_risk_score", Decision.GO_WITH_CONDITIONS,
                              f"no train risk: releases without a score: {', '.join(missing) or 'none'}",
                              NO_RISK_CONDITION))
    for release in releases:
        if release.decision is not Decision.GO:
            drivers = "; ".join(r.text for r in release.reasons if r.decision is release.decision)
            how = "overridden to" if release.override else "is"
            reasons.append(Reason("release", release.service, release.decision,
                                  f"{release.service} {how} {release.decision.value}" + (f": {drivers}" if drivers
                                                                                           else "")))
    verdict = worst(*(r.decision for r in reasons))
    return TrainDecision(name, verdict, verdict, p, tuple(reasons), tuple(releases))


def apply_override(decision: ReleaseDecision | TrainDecision, override: Override):
    """The decision as a person set it; the recommendation and its reasons stay alongside."""
    note = Reason("override", override.override_id, override.decision,
                  f"{override.by} set {override.decision.value} (recommended {decision.recommended.value}): "
                  f"{override.reason}")
    return replace(decision, decision=override.decision, override=override, reasons=(note, *decision.reasons))


def apply_overrides(releases: Sequence[ReleaseDecision], overrides: Iterable[Override]) -> list[ReleaseDecision]:
    """Apply to each release its latest override (overrides of the whole train are left to the train)."""
    latest: dict[str, Override] = {}
    for item in sorted(overrides, key=lambda o: o.at):
        if item.service is not None:
            latest[item.service] = item
    return [apply_override(r, latest[r.service]) if r.service in latest else r for r in releases]


def latest_train_override(overrides: Iterable[Override]) -> Override | None:
    """The most recent override of the whole train, if any."""
    train_level = sorted((o for o in overrides if o.service is None), key=lambda o: o.at)
    return train_level[-1] if train_level else None


def effective_decisions(row: dict[str, Any], document: dict[str, Any], overrides: list[Override]) -> dict[str, Any]:
    """Decisions as they apply after overrides (pure): {"train": {...}, "releases": {service: {...}}}.

    `row` is a stored plan (audit.get_plan), `document` its plan JSON. A release: its latest override, else
    its recommendation. The train: its latest whole-train override, else the worst of its own risk reasons
    and its releases as they apply (the rule of decide_train).
    """
    base = [ReleaseDecision(r["service"], Decision.parse(r["decision"]), Decision.parse(r["decision"]),
                            r.get("failure_probability"), (), tuple(r.get("conditions") or ()))
            for r in row["releases"]]
    applied = apply_overrides(base, overrides)
    releases = {d.service: {"decision": d.decision.value, "recommended": d.recommended.value,
                            "conditions": list(d.conditions), "override": d.override.as_dict() if d.override else None}
                for d in applied}
    recommended = Decision.parse(row["decision"])
    train_override = latest_train_override(overrides)
    reasons = (document.get("decision") or {}).get("reasons")
    if reasons is not None:
        floor = [Decision.parse(r["decision"]) for r in reasons if r.get("kind") != "release"]
    else:   # no stored document: keep the recommendation unless a release was overridden
        floor = [] if any(d.override for d in applied) else [recommended]
    if train_override is not None:
        decision = own = train_override.decision
    else:
        decision = worst(*floor, *(d.decision for d in applied))
        own = worst(*floor)
    train = {"decision": decision.value, "recommended": recommended.value, "own_decision": own.value,
             "override": train_override.as_dict() if train_override else None}
    return {"train": train, "releases": releases}


def held_releases(effective: dict[str, Any]) -> dict[str, str]:
    """Releases that may not ship, with why: NO-GO after overrides; every release without an override of
    its own when the train itself is NO-GO (its own reasons, e.g. combined risk, or a train override).
    A train that is NO-GO only because of some releases still ships the others."""
    train_blocks = effective["train"]["own_decision"] == Decision.NO_GO.value
    held = {}
    for service, d in effective["releases"].items():
        if d["decision"] == Decision.NO_GO.value:
            by = f" (override by {d['override']['by']})" if d["override"] else ""
            held[service] = f"NO-GO{by}: not deployed; a release manager can override to proceed"
        elif train_blocks and d["override"] is None:
            held[service] = "the train is NO-GO: not deployed; override the release or the train to proceed"
    return held
