"""Readiness checks of one release: is it fit to ship in its window, apart from its predicted risk?

Eight checks (see `CHECK_NAMES`): CI green, approvals present, a previous version to roll back to, on-call
present, no freeze, dependencies healthy, error budget left, migrations reversible or flagged. Each
`assess_*` function is pure and returns a `CheckResult` that is passed, failed or unknown (the facts were
not available), with its source. `assess_readiness` runs them all for one release.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from releasepilot.planning.calendar import HourlyCalendar
from releasepilot.planning.types import CHECK_NAMES, CheckResult, TimeWindow
from releasepilot.policy import DEFAULT_ERROR_BUDGET_MIN, DEFAULT_MIN_APPROVALS, ReadinessPolicy

SOURCE_TRAIN = "train file"
SOURCE_DEPLOYMENTS = "raw.deployments"
SOURCE_ONCALL = "raw.oncall"
SOURCE_FREEZES = "raw.freezes"
SOURCE_HEALTH = "health source"
SOURCE_SLO = "error budget source"


def assess_ci(ci_status: str, source: str = SOURCE_TRAIN) -> CheckResult:
    """CI must have passed; running, pending or unknown builds are not known to be green."""
    if ci_status == "passed":
        return CheckResult("ci_green", "passed", source, "CI passed")
    if ci_status == "failed":
        return CheckResult("ci_green", "failed", source, "CI failed")
    return CheckResult("ci_green", "unknown", source, f"CI status is {ci_status}")


def assess_approvals(approvals: Sequence[str], minimum: int = DEFAULT_MIN_APPROVALS,
                     source: str = SOURCE_TRAIN) -> CheckResult:
    """At least `minimum` distinct people approved the release."""
    people = sorted(set(approvals))
    detail = f"{len(people)} approval(s) ({', '.join(people) or 'none'}), {minimum} required"
    return CheckResult("approvals", "passed" if len(people) >= minimum else "failed", source, detail)


def assess_rollback_target(previous_version: str | None, source: str = SOURCE_DEPLOYMENTS,
                           history_known: bool = True) -> CheckResult:
    """A previous version to roll back to; unknown when no deployment history was available."""
    if previous_version:
        return CheckResult("rollback_target", "passed", source, f"can roll back to {previous_version}")
    if not history_known:
        return CheckResult("rollback_target", "unknown", source, "no deployment history to find a previous version")
    return CheckResult("rollback_target", "failed", source, "no previous succeeded production version")


def assess_oncall(team: str | None, window: TimeWindow | None, calendar: HourlyCalendar,
                  source: str = SOURCE_ONCALL) -> CheckResult:
    """Someone of the owning team is on call for the whole window."""
    if team is None or window is None:
        missing = "owning team" if team is None else "window"
        return CheckResult("oncall", "unknown", source, f"no {missing} to check on-call against")
    if not calendar.oncall:
        return CheckResult("oncall", "unknown", source, "no on-call schedule loaded")
    if calendar.oncall_covers(team, window.start, window.end):
        return CheckResult("oncall", "passed", source, f"{team} is on call for the whole window")
    return CheckResult("oncall", "failed", source, f"{team} has nobody on call for all of the window")


def assess_freeze(window: TimeWindow | None, calendar: HourlyCalendar, system: str | None,
                  source: str = SOURCE_FREEZES) -> CheckResult:
    """The window overlaps no change freeze that covers the service's system."""
    if window is None:
        return CheckResult("no_freeze", "unknown", source, "no window to check freezes against")
    freezes = calendar.freezes_at(window.start, window.end, system)
    if freezes:
        names = ", ".join(f"'{f.name or f.freeze_id}' ({f.scope})" for f in freezes)
        return CheckResult("no_freeze", "failed", source, f"window overlaps freeze {names}")
    return CheckResult("no_freeze", "passed", source, "no freeze covers the window")


def assess_dependencies(dependencies: Sequence[str], health: Mapping[str, bool | None],
                        source: str = SOURCE_HEALTH) -> CheckResult:
    """Every service this one depends on is healthy now (unknown when any has no reading)."""
    unhealthy = sorted(d for d in dependencies if health.get(d) is False)
    unknown = sorted(d for d in dependencies if health.get(d) is None)
    if unhealthy:
        return CheckResult("dependencies_healthy", "failed", source, f"unhealthy: {', '.join(unhealthy)}")
    if unknown:
        return CheckResult("dependencies_healthy", "unknown", source, f"no health reading: {', '.join(unknown)}")
    detail = f"{len(dependencies)} dependencies healthy" if dependencies else "no dependencies"
    return CheckResult("dependencies_healthy", "passed", source, detail)


def assess_error_budget(remaining: float | None, minimum: float = DEFAULT_ERROR_BUDGET_MIN,
                        source: str = SOURCE_SLO) -> CheckResult:
    """At least `minimum` of the service's error budget is left (fractions of the budget)."""
    if remaining is None:
        return CheckResult("error_budget", "unknown", source, "no error-budget reading")
    status = "passed" if remaining >= minimum else "failed"
    return CheckResult("error_budget", status, source, f"{remaining:.0%} of the error budget left, {minimum:.0%} required")


def assess_migrations(db_migration: bool, reversible: bool | None, feature_flagged: bool,
                      source: str = SOURCE_TRAIN) -> CheckResult:
    """A database migration must be reversible or behind a feature flag."""
    if not db_migration:
        return CheckResult("migrations_safe", "passed", source, "no database migration")
    if reversible:
        return CheckResult("migrations_safe", "passed", source, "the migration is reversible")
    if feature_flagged:
        return CheckResult("migrations_safe", "passed", source, "the migration is behind a feature flag")
    if reversible is None:
        return CheckResult("migrations_safe", "unknown", source,
                           "database migration: reversibility not stated and not feature-flagged")
    return CheckResult("migrations_safe", "failed", source, "irreversible database migration, not feature-flagged")


@dataclass(frozen=True)
class ReadinessFacts:
    """What is known about one release when it is planned (gathered by the plan assembler)."""

    service: str
    ci_status: str = "unknown"
    approvals: tuple[str, ...] = ()
    previous_version: str | None = None
    previous_version_source: str = SOURCE_DEPLOYMENTS
    history_known: bool = True
    team: str | None = None
    window: TimeWindow | None = None
    system: str | None = None
    dependencies: tuple[str, ...] = ()
    dependency_health: Mapping[str, bool | None] = field(default_factory=dict)
    error_budget_remaining: float | None = None
    db_migration: bool = False
    migration_reversible: bool | None = None
    feature_flagged: bool = False


def assess_readiness(facts: ReadinessFacts, calendar: HourlyCalendar | None = None,
                     policy: ReadinessPolicy | None = None) -> list[CheckResult]:
    """All readiness checks of one release, in `CHECK_NAMES` order, marked required per the policy."""
    policy = policy or ReadinessPolicy()
    calendar = calendar or HourlyCalendar()
    results = [
        assess_ci(facts.ci_status),
        assess_approvals(facts.approvals, policy.min_approvals),
        assess_rollback_target(facts.previous_version, facts.previous_version_source, facts.history_known),
        assess_oncall(facts.team, facts.window, calendar),
        assess_freeze(facts.window, calendar, facts.system),
        assess_dependencies(facts.dependencies, facts.dependency_health),
        assess_error_budget(facts.error_budget_remaining, policy.error_budget_min),
        assess_migrations(facts.db_migration, facts.migration_reversible, facts.feature_flagged),
    ]
    assert tuple(r.name for r in results) == CHECK_NAMES
    required = set(policy.required)
    return [CheckResult(r.name, r.status, r.source, r.detail, r.name in required) for r in results]
