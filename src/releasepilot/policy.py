"""The release policy: every threshold and rule a plan decision uses, read from a YAML file.

Decisions are pure functions that take a section of this policy as their limits. Every field has a
documented default (written out in the repository's policy.yaml and described in docs/policy.md), so an
empty or missing policy file means "the defaults". Unknown keys and bad values are InputErrors that name
the file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from releasepilot.errors import InputError
from releasepilot.planning.ordering import OrderingPolicy
from releasepilot.planning.rollout_plan import RolloutPolicy
from releasepilot.planning.schedule import SchedulePolicy
from releasepilot.planning.types import CHECK_NAMES, CONFLICT_KINDS
from releasepilot.planning.windows import WindowPolicy

# Risk thresholds: a release below GO_BELOW is GO on risk; at or above NO_GO_AT it is NO-GO.
DEFAULT_GO_BELOW = 0.10
DEFAULT_NO_GO_AT = 0.35
DEFAULT_TRAIN_RULE = "any_failure"
DEFAULT_TRAIN_GO_BELOW = 0.25
DEFAULT_TRAIN_NO_GO_AT = 0.60
DEFAULT_TOP_DRIVERS = 3
# Readiness
DEFAULT_MIN_APPROVALS = 1
DEFAULT_ERROR_BUDGET_MIN = 0.10
# Decision: failures of these checks / conflicts of these kinds force NO-GO; others add conditions.
DEFAULT_NO_GO_CHECKS = ("ci_green", "rollback_target", "no_freeze", "migrations_safe")
DEFAULT_NO_GO_CONFLICTS = ("freeze",)
DEFAULT_UNKNOWN_CHECK = "conditions"
# Conflicts
DEFAULT_MIN_TEAMS_PER_MODULE = 2
DEFAULT_PEAK_PERCENTILE = 0.90
DEFAULT_CONTRACT_PATHS = ("api/",)



def _known(value: tuple[str, ...], names: tuple[str, ...] | list[str], what: str) -> tuple[str, ...]:
    """A policy list may only name things the code knows (a typo must not silently do nothing)."""
    unknown = [name for name in value if name not in names]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}: expected names from {list(names)}")
    return value

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _probability(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{value} is not a probability between 0 and 1")
    return value


class RiskPolicy(_Section):
    """When a predicted failure probability is acceptable, for a release and for the whole train."""

    go_below: float = Field(DEFAULT_GO_BELOW, description="Release risk below this is GO on risk alone.")
    no_go_at: float = Field(DEFAULT_NO_GO_AT, description="Release risk at or above this is NO-GO.")
    train_rule: Literal["any_failure", "max"] = Field(
        DEFAULT_TRAIN_RULE, description="any_failure: 1 - prod(1 - p); max: the riskiest release.")
    train_go_below: float = DEFAULT_TRAIN_GO_BELOW
    train_no_go_at: float = DEFAULT_TRAIN_NO_GO_AT
    top_drivers: int = Field(DEFAULT_TOP_DRIVERS, ge=1, le=20, description="Risk drivers cited as reasons.")

    @field_validator("go_below", "no_go_at", "train_go_below", "train_no_go_at")
    @classmethod
    def _probabilities(cls, value: float) -> float:
        return _probability(value)

    @model_validator(mode="after")
    def _ordered(self) -> RiskPolicy:
        if self.go_below > self.no_go_at:
            raise ValueError(f"go_below ({self.go_below}) must not exceed no_go_at ({self.no_go_at})")
        if self.train_go_below > self.train_no_go_at:
            raise ValueError(f"train_go_below ({self.train_go_below}) must not exceed "
                             f"train_no_go_at ({self.train_no_go_at})")
        return self


class ReadinessPolicy(_Section):
    """Which readiness checks count, and their limits."""

    required: tuple[str, ...] = Field(CHECK_NAMES, description="Checks whose failure affects the decision.")
    min_approvals: int = Field(DEFAULT_MIN_APPROVALS, ge=0)
    error_budget_min: float = Field(DEFAULT_ERROR_BUDGET_MIN,
                                    description="Fraction of the error budget that must be left (0..1).")

    @field_validator("error_budget_min")
    @classmethod
    def _fraction(cls, value: float) -> float:
        return _probability(value)

    @field_validator("required")
    @classmethod
    def _known_checks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known(value, CHECK_NAMES, "checks")


class DecisionPolicy(_Section):
    """Which failed checks and conflict kinds force NO-GO; everything else becomes a condition."""

    no_go_checks: tuple[str, ...] = DEFAULT_NO_GO_CHECKS
    no_go_conflicts: tuple[str, ...] = DEFAULT_NO_GO_CONFLICTS
    unknown_check: Literal["conditions", "no_go", "ignore"] = Field(
        DEFAULT_UNKNOWN_CHECK, description="What a required check with an unknown result does.")

    @field_validator("no_go_checks")
    @classmethod
    def _known_checks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known(value, CHECK_NAMES, "checks")

    @field_validator("no_go_conflicts")
    @classmethod
    def _known_conflicts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known(value, CONFLICT_KINDS, "conflict kinds")


class ConflictPolicy(_Section):
    """When two changes or a change and its window are said to conflict."""

    min_teams_per_module: int = Field(DEFAULT_MIN_TEAMS_PER_MODULE, ge=2,
                                      description="Teams changing one module before it is a conflict.")
    peak_percentile: float = Field(DEFAULT_PEAK_PERCENTILE,
                                   description="An hour at or above this percentile of its week is peak.")
    contract_paths: tuple[str, ...] = Field(DEFAULT_CONTRACT_PATHS, min_length=1,
                                            description="Path prefixes of API contract files.")

    @field_validator("peak_percentile")
    @classmethod
    def _fraction(cls, value: float) -> float:
        return _probability(value)


class Policy(_Section):
    """The whole policy file."""

    risk: RiskPolicy = RiskPolicy()
    readiness: ReadinessPolicy = ReadinessPolicy()
    decision: DecisionPolicy = DecisionPolicy()
    conflicts: ConflictPolicy = ConflictPolicy()
    windows: WindowPolicy = Field(default_factory=WindowPolicy)
    ordering: OrderingPolicy = Field(default_factory=OrderingPolicy)
    rollout: RolloutPolicy = Field(default_factory=RolloutPolicy)
    schedule: SchedulePolicy = Field(default_factory=SchedulePolicy)


def _unknown_keys(raw: dict[str, Any], model: type[BaseModel], prefix: str = "") -> list[str]:
    """Keys that no field of `model` (or of its nested section models) accepts: a typo is an error,
    even in sections whose own models would silently ignore it."""
    unknown = []
    for key, value in raw.items():
        info = model.model_fields.get(key)
        if info is None:
            unknown.append(f"{prefix}{key}")
            continue
        kind = info.annotation
        if isinstance(value, dict) and isinstance(kind, type) and issubclass(kind, BaseModel):
            unknown += _unknown_keys(value, kind, f"{prefix}{key}.")
    return unknown


def parse_policy(raw: Any, *, source: str = "policy") -> Policy:
    """Validate a parsed policy document (None or {} means the defaults)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"expected a mapping of sections, got {type(raw).__name__}", source=source)
    unknown = _unknown_keys(raw, Policy)
    if unknown:
        raise InputError(f"unknown policy keys {unknown} (see docs/policy.md for the fields)", source=source,
                         field=unknown[0])
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:10]:
            where = ".".join(str(part) for part in error["loc"]) or "(top level)"
            problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
        field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or None
        raise InputError("invalid policy: " + "; ".join(problems), source=source, field=field) from None


def load_policy(path: Path | str | None = None) -> Policy:
    """The policy from `path`; without a path, from settings (a missing default file means defaults)."""
    from releasepilot.train import read_document

    if path is None:
        from releasepilot.config import get_settings

        path = get_settings().policy_path
        if not Path(path).exists():
            return Policy()
    path = Path(path)
    return parse_policy(read_document(path), source=str(path))
