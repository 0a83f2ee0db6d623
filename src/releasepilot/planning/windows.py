"""Rank candidate release windows by expected impact.

For each release and each candidate hour, recompute the risk model's time-dependent features (hour,
weekday, traffic percentile, on-call, freeze, concurrent releases in dependent services), ask a scorer
for the failure probability, and multiply by the impact weight of that hour:
traffic share x tier weight x (1 + blast radius). Freezes, missing on-call and disallowed hours exclude a
window with the reason. The scorer is any `rows -> probabilities` callable, so the model stays pluggable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from releasepilot.errors import InputError
from releasepilot.planning.calendar import HourlyCalendar, to_utc

DEFAULT_HORIZON_DAYS = 7
DEFAULT_STEP_HOURS = 1
DEFAULT_WINDOW_HOURS = 1
DEFAULT_ALLOWED_HOURS = tuple(range(24))
DEFAULT_ALLOWED_WEEKDAYS = (0, 1, 2, 3, 4)     # Monday..Friday
DEFAULT_TOP_K = 5
DEFAULT_TIER_WEIGHTS = {1: 3.0, 2: 2.0, 3: 1.0}
DEFAULT_UNKNOWN_TIER_WEIGHT = 3.0               # an unknown tier is treated as critical
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Scorer = Callable[[list[dict[str, Any]]], Sequence[float]]
TIME_FEATURES = ("deploy_hour", "deploy_weekday", "traffic_percentile", "oncall_present", "in_freeze",
                 "concurrent_dependent")


class WindowPolicy(BaseModel):
    """Which hours may be used and how windows are ranked."""

    horizon_days: int = Field(DEFAULT_HORIZON_DAYS, ge=1, le=60)
    step_hours: int = Field(DEFAULT_STEP_HOURS, ge=1, le=24)
    window_hours: int = Field(DEFAULT_WINDOW_HOURS, ge=1, le=24)
    allowed_hours: tuple[int, ...] = DEFAULT_ALLOWED_HOURS
    allowed_weekdays: tuple[int, ...] = DEFAULT_ALLOWED_WEEKDAYS
    top_k: int = Field(DEFAULT_TOP_K, ge=1)
    require_oncall: bool = True
    respect_freezes: bool = True
    tier_weights: dict[int, float] = Field(default_factory=lambda: dict(DEFAULT_TIER_WEIGHTS))
    unknown_tier_weight: float = DEFAULT_UNKNOWN_TIER_WEIGHT


@dataclass(frozen=True)
class WindowRelease:
    """One release as window scoring sees it (plain data; no model or graph objects)."""

    release_id: str
    service: str
    tier: int | None = None
    blast_radius: float = 0.0                   # dependents affected (tier-weighted or a count)
    system: str | None = None
    teams: tuple[str, ...] = ()                 # every affected team that must have on-call
    related_services: frozenset[str] = frozenset()  # services linked by dependency either way
    features: Mapping[str, Any] = field(default_factory=dict)  # the model's time-independent features
    requested_window: datetime | None = None


@dataclass(frozen=True)
class ScoredWindow:
    """One candidate hour for one release: features, probability, impact and why."""

    start: datetime
    p_fail: float
    impact_weight: float
    expected_impact: float
    features: dict[str, Any]
    excluded: bool
    reasons: tuple[str, ...]
    blocked_by: tuple[str, ...] = ()            # the hard constraints that exclude this window
    rank: int | None = None                     # 1 = best among allowed windows; None when excluded

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "p_fail": round(self.p_fail, 6),
                "impact_weight": round(self.impact_weight, 6), "expected_impact": round(self.expected_impact, 6),
                "excluded": self.excluded, "rank": self.rank, "reasons": list(self.reasons),
                "blocked_by": list(self.blocked_by),
                "features": {k: self.features[k] for k in TIME_FEATURES}}


@dataclass(frozen=True)
class WindowRanking:
    """All scored windows of one release, best first, and the requested window for comparison."""

    release_id: str
    windows: tuple[ScoredWindow, ...]           # allowed windows by expected impact, then excluded ones
    requested: ScoredWindow | None
    top_k: int
    comparison: str

    @property
    def best(self) -> tuple[ScoredWindow, ...]:
        return tuple(w for w in self.windows[: self.top_k] if not w.excluded)

    @property
    def allowed(self) -> tuple[ScoredWindow, ...]:
        return tuple(w for w in self.windows if not w.excluded)

    def as_dict(self) -> dict[str, Any]:
        excluded = [w for w in self.windows if w.excluded]
        return {"release_id": self.release_id, "best": [w.as_dict() for w in self.best],
                "requested": self.requested.as_dict() if self.requested else None,
                "allowed_windows": len(self.windows) - len(excluded), "excluded_windows": len(excluded),
                "comparison": self.comparison,
                # every candidate, compact, for the dashboard's heat map (risk by hour of the coming week)
                "all": [{"start": w.start.isoformat(), "p_fail": round(w.p_fail, 6),
                         "expected_impact": round(w.expected_impact, 6), "excluded": w.excluded, "rank": w.rank}
                        for w in sorted(self.windows, key=lambda w: w.start)]}


def impact_weight(traffic_share: float, tier: int | None, blast_radius: float, policy: WindowPolicy) -> float:
    """traffic share of peak in that hour x tier weight x (1 + blast radius)."""
    weight = policy.tier_weights.get(tier, policy.unknown_tier_weight) if tier is not None \
        else policy.unknown_tier_weight
    return traffic_share * weight * (1.0 + max(blast_radius, 0.0))


def window_features(release: WindowRelease, start: datetime, calendar: HourlyCalendar,
                    concurrent_dependent: int, policy: WindowPolicy) -> dict[str, Any]:
    """The model row for this release deployed at `start`: its own features plus recomputed time features."""
    end = start + timedelta(hours=policy.window_hours)
    oncall = all(calendar.oncall_covers(team, start, end) for team in release.teams)
    row = dict(release.features)
    row.update(deploy_hour=start.hour, deploy_weekday=start.weekday(),
               traffic_percentile=calendar.traffic_percentile(release.service, start),
               oncall_present=int(oncall),
               in_freeze=int(bool(calendar.freezes_at(start, end, release.system))),
               concurrent_dependent=concurrent_dependent)
    return row


def score_windows(releases: Sequence[WindowRelease], candidates: Sequence[datetime], calendar: HourlyCalendar,
                  scorer: Scorer, policy: WindowPolicy | None = None,
                  planned: Mapping[str, datetime] | None = None) -> dict[str, WindowRanking]:
    """Rank every candidate window for every release (one scorer call for all rows).

    `planned` gives other releases' windows where known (default: their requested windows); it feeds
    `concurrent_dependent`. The requested window is scored even when it is not among the candidates.
    """
    policy = policy or WindowPolicy()
    _check_unique(releases)
    starts = sorted({to_utc(c, source="candidates", row=i, field_name="start") for i, c in enumerate(candidates)})
    known = {r.release_id: r.requested_window for r in releases if r.requested_window is not None}
    known.update(planned or {})
    known = {rid: to_utc(ts, source="planned", row=None, field_name=rid) for rid, ts in known.items()}
    by_service: dict[str, list[str]] = {}
    for r in releases:
        by_service.setdefault(r.service, []).append(r.release_id)

    start_set = set(starts)
    rows: list[dict[str, Any]] = []
    keys: list[tuple[WindowRelease, datetime, bool]] = []
    for release in releases:
        times = [(ts, True) for ts in starts]
        if release.requested_window is not None:
            requested = to_utc(release.requested_window, source="releases", row=None, field_name="requested_window")
            if requested not in start_set:
                times.append((requested, False))
        others = [known[o] for s in release.related_services for o in by_service.get(s, ())
                  if o != release.release_id and o in known]
        for ts, is_candidate in times:
            concurrent = sum(1 for other in others if other == ts)
            rows.append(window_features(release, ts, calendar, concurrent, policy))
            keys.append((release, ts, is_candidate))
    probabilities = list(scorer(rows)) if rows else []
    if len(probabilities) != len(rows):
        raise InputError(f"scorer returned {len(probabilities)} probabilities for {len(rows)} rows", field="scorer")

    scored: dict[str, list[ScoredWindow]] = {r.release_id: [] for r in releases}
    extra: dict[str, ScoredWindow] = {}
    for (release, ts, is_candidate), row, p in zip(keys, rows, probabilities):
        window = _score_one(release, ts, row, float(p), calendar, policy)
        if is_candidate:
            scored[release.release_id].append(window)
        else:
            extra[release.release_id] = window
    return {r.release_id: _rank(r, scored[r.release_id], extra.get(r.release_id), policy) for r in releases}


def _score_one(release: WindowRelease, ts: datetime, row: dict[str, Any], p: float, calendar: HourlyCalendar,
               policy: WindowPolicy) -> ScoredWindow:
    if not 0.0 <= p <= 1.0:
        raise InputError(f"scorer returned {p} for {release.release_id}, expected a probability in [0, 1]",
                         field="scorer")
    share = calendar.traffic_share(release.service, ts)
    weight = impact_weight(share, release.tier, release.blast_radius, policy)
    end = ts + timedelta(hours=policy.window_hours)
    blocking: list[str] = []
    if ts.hour not in policy.allowed_hours:
        blocking.append(f"hour {ts.hour:02d}:00 UTC is not an allowed hour")
    if ts.weekday() not in policy.allowed_weekdays:
        blocking.append(f"{WEEKDAY_NAMES[ts.weekday()]} is not an allowed weekday")
    if policy.respect_freezes:
        blocking += [f"change freeze '{f.name or f.freeze_id}' ({f.scope})"
                     + (f": {f.reason}" if f.reason else "") for f in calendar.freezes_at(ts, end, release.system)]
    if policy.require_oncall:
        missing = [t for t in release.teams if not calendar.oncall_covers(t, ts, end)]
        if missing:
            blocking.append("no on-call for " + ", ".join(sorted(missing)))
    traffic = (f"traffic at the {row['traffic_percentile']:.0%} point of {release.service}'s week"
               if calendar.has_traffic(release.service) else f"no traffic history for {release.service}: "
               "assumed peak")
    reasons = [*blocking, traffic, f"p_fail {p:.3f} x impact {weight:.2f} = {p * weight:.3f}"]
    if row["concurrent_dependent"]:
        reasons.append(f"{row['concurrent_dependent']} release(s) of dependent services in the same window")
    if release.teams and row["oncall_present"]:
        reasons.append("on-call present for " + ", ".join(release.teams))
    return ScoredWindow(start=ts, p_fail=p, impact_weight=weight, expected_impact=p * weight, features=row,
                        excluded=bool(blocking), reasons=tuple(reasons), blocked_by=tuple(blocking))


def _rank(release: WindowRelease, windows: list[ScoredWindow], requested_extra: ScoredWindow | None,
          policy: WindowPolicy) -> WindowRanking:
    allowed = sorted((w for w in windows if not w.excluded), key=lambda w: (w.expected_impact, w.start))
    excluded = sorted((w for w in windows if w.excluded), key=lambda w: w.start)
    ranked = [_with_rank(w, i + 1) for i, w in enumerate(allowed)]
    requested = None
    if release.requested_window is not None:
        ts = to_utc(release.requested_window, source="releases", row=None, field_name="requested_window")
        requested = next((w for w in ranked + excluded if w.start == ts), requested_extra)
        if requested is not None and not requested.excluded and requested.rank is None:
            # outside the candidate list: rank it against the allowed candidates
            better = sum(1 for w in ranked if w.expected_impact < requested.expected_impact)
            requested = _with_rank(requested, better + 1)
    return WindowRanking(release_id=release.release_id, windows=tuple(ranked + excluded), requested=requested,
                         top_k=policy.top_k, comparison=_compare(ranked, requested))


def _with_rank(window: ScoredWindow, rank: int) -> ScoredWindow:
    return ScoredWindow(**{**window.__dict__, "rank": rank})


def _label(ts: datetime) -> str:
    return f"{WEEKDAY_NAMES[ts.weekday()]} {ts:%Y-%m-%d %H:00} UTC"


def _compare(ranked: list[ScoredWindow], requested: ScoredWindow | None) -> str:
    if not ranked:
        return "no allowed window in the horizon"
    best = ranked[0]
    head = f"best {_label(best.start)}: expected impact {best.expected_impact:.3f}"
    if requested is None:
        return head + "; no window was requested"
    if requested.excluded:
        why = "; ".join(requested.blocked_by)
        return f"{head}; requested {_label(requested.start)} is not allowed ({why})"
    if requested.expected_impact <= 0:
        return f"{head}; requested {_label(requested.start)} ranks {requested.rank}/{len(ranked)}"
    saving = 1.0 - best.expected_impact / requested.expected_impact
    return (f"{head}; requested {_label(requested.start)} ranks {requested.rank}/{len(ranked)} with "
            f"{requested.expected_impact:.3f} (best is {saving:.0%} lower)")


def _check_unique(releases: Sequence[WindowRelease]) -> None:
    seen: set[str] = set()
    for i, r in enumerate(releases):
        if r.release_id in seen:
            raise InputError(f"duplicate release id {r.release_id!r}", source="releases", row=i, field="release_id")
        seen.add(r.release_id)
