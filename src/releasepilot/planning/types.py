"""Small value types shared by the planning decisions.

Planning is a set of pure functions (conflicts, readiness, decision, notes) that pass these records to one
another; the plan assembler stores them and the CLI/API show them. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Literal

CheckStatus = Literal["passed", "failed", "unknown"]
CHECK_STATUSES: tuple[str, ...] = ("passed", "failed", "unknown")


class Decision(str, Enum):
    """A recommendation, ordered from best to worst."""

    GO = "GO"
    GO_WITH_CONDITIONS = "GO WITH CONDITIONS"
    NO_GO = "NO-GO"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Decision:
        """Accept 'GO', 'go', 'GO WITH CONDITIONS', 'go-with-conditions', 'NO-GO', 'no_go'..."""
        key = text.strip().upper().replace("_", " ").replace("-", " ")
        for member in cls:
            if member.value.replace("-", " ") == key:
                return member
        raise ValueError(f"unknown decision {text!r}: expected one of {[m.value for m in cls]}")


_RANK = {Decision.GO: 0, Decision.GO_WITH_CONDITIONS: 1, Decision.NO_GO: 2}


def worst(*decisions: Decision) -> Decision:
    """Verdicts combine by worst status (GO when there is nothing to combine)."""
    return max(decisions, key=lambda d: d.rank, default=Decision.GO)


@dataclass(frozen=True)
class TimeWindow:
    """A half-open interval [start, end), as aware UTC datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")

    def overlaps(self, other: TimeWindow) -> bool:
        return self.start < other.end and other.start < self.end

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class RiskDriver:
    """One reason behind a risk score: a feature, its value and its contribution (log-odds or probability)."""

    feature: str
    value: Any
    contribution: float
    text: str


@dataclass(frozen=True)
class ReleaseRisk:
    """What the risk model hands to planning for one release."""

    service: str
    probability: float
    drivers: tuple[RiskDriver, ...] = ()
    model: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"{self.service}: risk probability {self.probability} is outside [0, 1]")

    @property
    def success_probability(self) -> float:
        return 1.0 - self.probability


@dataclass(frozen=True)
class CheckResult:
    """One readiness check: passed, failed or unknown, and where the answer came from."""

    name: str
    status: CheckStatus
    source: str
    detail: str
    required: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Conflict:
    """A problem between releases of a train, or between a release and its window, with evidence."""

    kind: str
    services: tuple[str, ...]
    text: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "services": list(self.services), "text": self.text,
                "evidence": self.evidence}


ReasonKind = Literal["risk", "check", "conflict", "release", "override"]


@dataclass(frozen=True)
class Reason:
    """Why a decision is what it is, traced to a risk driver, a check, a conflict (or, for the train, a
    release; or a person's override)."""

    kind: ReasonKind
    code: str            # the driver feature, check name, conflict kind, service or override id
    decision: Decision   # the status this reason pushes towards
    text: str
    condition: str | None = None  # what must be done to ship when decision is GO WITH CONDITIONS

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "decision": self.decision.value,
                "text": self.text, "condition": self.condition}


# The readiness checks, in the order they are shown.
CHECK_NAMES: tuple[str, ...] = (
    "ci_green",              # CI passed on the release
    "approvals",             # enough people approved it
    "rollback_target",       # a previous version to roll back to
    "oncall",                # the owning team has someone on call for the whole window
    "no_freeze",             # the window is outside every change freeze that covers the service
    "dependencies_healthy",  # the services it depends on are healthy now
    "error_budget",          # the service has error budget left
    "migrations_safe",       # a database migration is reversible or behind a feature flag
)

# The conflict kinds, each found by one function in planning/conflicts.py.
CONFLICT_KINDS: tuple[str, ...] = (
    "shared_module",          # a module changed by several teams in the same train
    "untested_contract",      # an API contract changed with no integration test covering a consumer
    "dependent_same_window",  # releases of dependent services in overlapping windows
    "peak_traffic",           # the window overlaps the service's peak traffic
    "freeze",                 # the window overlaps a change freeze
    "oncall_gap",             # the owning team has nobody on call for part of the window
)


@dataclass(frozen=True)
class Override:
    """A person's decision that replaces a recommendation (stored append-only by releasepilot.audit)."""

    override_id: str
    plan_id: str
    service: str | None   # None: the whole train
    decision: Decision
    by: str
    reason: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"override_id": self.override_id, "plan_id": self.plan_id, "service": self.service,
                "decision": self.decision.value, "by": self.by, "reason": self.reason,
                "at": self.at.isoformat()}
