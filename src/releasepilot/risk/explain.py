"""Reasons behind a score, in words a release manager understands.

CatBoost SHAP values are additive in log-odds. Each feature's effect is turned into a probability
change by leaving it out: effect = p(all) - p(all without this feature's contribution), through the same
calibration as the score. Each reason reads like "churn is 3.1x this service's median: +0.09".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from releasepilot.risk.calibration import Calibrator

TOP_REASONS = 3
MIN_EFFECT = 0.005
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _num(v) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.2f}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _days(v) -> str:
    return "1 day" if round(v) == 1 else f"{v:.0f} days"


def _flag(yes: str, no: str) -> Callable[[object], str]:
    return lambda v: yes if bool(v) else no


PHRASES: dict[str, Callable[[object], str]] = {
    "churn_ratio_service_median": lambda v: f"churn is {v:.1f}x this service's median",
    "churn": lambda v: f"{_num(v)} lines changed",
    "la": lambda v: f"{_num(v)} lines added",
    "ld": lambda v: f"{_num(v)} lines deleted",
    "lt": lambda v: f"touched files had {_num(v)} lines before the change",
    "nf": lambda v: f"{_num(v)} files changed",
    "ns": lambda v: f"{_num(v)} subsystems changed",
    "nd": lambda v: f"{_num(v)} directories changed",
    "entropy": lambda v: f"change spread across files (entropy) is {v:.2f}",
    "n_commits": lambda v: f"{_num(v)} commits in the release",
    "n_authors": lambda v: f"{_num(v)} authors in the release",
    "max_commit_churn": lambda v: f"largest commit changes {_num(v)} lines",
    "fix_share": lambda v: f"{v:.0%} of commits are fixes",
    "fix": _flag("the change is a bug fix", "the change is not a bug fix"),
    "min_author_exp": lambda v: f"least experienced author has {_num(v)} prior commits",
    "mean_author_exp": lambda v: f"authors have {_num(v)} prior commits on average",
    "min_author_rexp": lambda v: f"least recent experience among authors is {v:.1f}",
    "exp": lambda v: f"author has {_num(v)} prior commits",
    "rexp": lambda v: f"author's recent experience is {v:.1f}",
    "sexp": lambda v: f"author has {_num(v)} prior commits in this subsystem",
    "ndev": lambda v: f"{_num(v)} developers touched these files before",
    "age": lambda v: f"files were last changed {_days(v)} earlier",
    "nuc": lambda v: f"{_num(v)} unique earlier changes to these files",
    "tests_touched": lambda v: f"{_num(v)} test files touched",
    "has_test_changes": _flag("tests were changed", "no test changes"),
    "touches_tests": _flag("tests were changed", "no test changes"),
    "touches_api": _flag("the API contract is touched", "the API contract is not touched"),
    "is_cross_team": _flag("code owned by another team is changed", "only the team's own code changes"),
    "is_breaking": _flag("a breaking change", "not a breaking change"),
    "fan_in": lambda v: f"{_num(v)} services call it directly",
    "fan_out": lambda v: f"it calls {_num(v)} services directly",
    "transitive_dependents": lambda v: f"{_num(v)} services depend on it transitively",
    "deploy_hour": lambda v: f"deploys at {int(v):02d}:00 UTC",
    "deploy_weekday": lambda v: f"deploys on a {WEEKDAYS[int(v) % 7]}",
    "traffic_percentile": lambda v: f"traffic is at its {_ordinal(round(v * 100))} percentile",
    "oncall_present": _flag("on-call is present", "nobody is on call"),
    "concurrent_same_service": lambda v: f"{_num(v)} other releases of this service at the same time",
    "concurrent_dependent": lambda v: f"{_num(v)} dependent services release at the same time",
    "cross_team_modules": lambda v: f"{_num(v)} modules also changed by other teams",
    "contract_change": _flag("the API contract changes", "no API contract change"),
    "contract_change_untested": _flag("an API contract change has no integration test",
                                      "no untested API contract change"),
    "svc_fail_rate_30d": lambda v: f"this service failed {v:.0%} of releases in the last 30 days",
    "svc_fail_rate_90d": lambda v: f"this service failed {v:.0%} of releases in the last 90 days",
    "team_fail_rate_30d": lambda v: f"the team failed {v:.0%} of releases in the last 30 days",
    "team_fail_rate_90d": lambda v: f"the team failed {v:.0%} of releases in the last 90 days",
    "svc_releases_90d": lambda v: f"{_num(v)} releases of this service in 90 days",
    "days_since_last_release": lambda v: f"{_days(v)} since the last release",
    "in_freeze": _flag("inside a change freeze", "outside change freezes"),
    "change_risk_max": lambda v: f"riskiest change scores {v:.2f}",
    "change_risk_mean": lambda v: f"changes score {v:.2f} on average",
    "change_risk_sum": lambda v: f"change risk adds up to {v:.2f}",
    "tier": lambda v: f"tier {int(v)} service",
    "layer": lambda v: f"{v} layer",
    "system": lambda v: f"part of the {v} system",
    "service": lambda v: f"service {v}",
    "owner_team": lambda v: f"owned by {v}",
    "commit_type": lambda v: f"a '{v}' commit",
}


def describe(feature: str, value: object) -> str:
    """The feature and its value in words."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{feature} unknown"
    phrase = PHRASES.get(feature)
    try:
        return phrase(value) if phrase else f"{feature} = {value}"
    except (TypeError, ValueError):
        return f"{feature} = {value}"


@dataclass(frozen=True)
class Reason:
    feature: str
    value: object
    effect: float          # change in failure probability this feature causes
    text: str

    def as_dict(self) -> dict:
        return {"feature": self.feature, "value": self.value, "effect": round(self.effect, 4), "text": self.text}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def probability_effects(shap_row: np.ndarray, calibrator: Calibrator) -> np.ndarray:
    """Per feature: p(score) - p(score without that feature's SHAP contribution), calibrated."""
    contributions, base = shap_row[:-1], shap_row[-1]
    total = base + contributions.sum()
    p_all = calibrator.apply(np.array([_sigmoid(total)]))[0]
    p_without = calibrator.apply(_sigmoid(total - contributions))
    return p_all - p_without


def reasons_for(shap_row: np.ndarray, features: list[str], values: list[object], calibrator: Calibrator,
                top: int = TOP_REASONS, min_effect: float = MIN_EFFECT) -> list[Reason]:
    """The `top` features with the largest effects (either sign) above `min_effect`; a low-risk release,
    whose effects are all small in probability, still gets its largest ones (every score has reasons)."""
    effects = probability_effects(shap_row, calibrator)
    order = [j for j in np.argsort(-np.abs(effects), kind="stable")[:top] if effects[j] != 0.0]
    strong = [j for j in order if abs(effects[j]) >= min_effect]
    out = []
    for j in strong or order:
        value = values[j]
        effect = float(effects[j])
        text = f"{describe(features[j], value)}: {effect:+.2f}" if abs(effect) >= min_effect else \
            f"{describe(features[j], value)}: {effect:+.3f}"
        out.append(Reason(features[j], value, effect, text))
    return out
