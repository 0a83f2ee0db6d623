"""Rank candidate release windows by expected impact.

For each release and each candidate hour, recompute the risk model's time-dependent features (hour,
weekday, traffic percentile, on-call, freeze, concurrent releases in dependent services), ask a scorer
for the failure probability, and multiply by the impact weight of that hour:
traffic share x tier weight x (1 + blast radius). Freezes, missing on-call and disallowed hours exclude a
window with the reason. The scorer is any `rows -> probabilities` callable (or, flagged `accepts_frame`,
`polars.DataFrame -> probabilities`), so the model stays pluggable.
Calendar facts are looked up once per team, system and service over all candidates (`CandidateGrid`),
and a window's reasons are written only when somebody reads them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from releasepilot.errors import InputError
from releasepilot.planning.calendar import HourGrid, HourlyCalendar, to_utc

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
FRAME_SCORER_FLAG = "accepts_frame"   # a scorer with this attribute True gets the rows as one polars DataFrame
TIME_FEATURES = ("deploy_hour", "deploy_weekday", "traffic_percentile", "oncall_present", "in_freeze",
                 "concurrent_dependent")
TIME_ORDER = dict.fromkeys(TIME_FEATURES)


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
class WindowSubject:
    """What a window's reasons say about its release (shared by all windows of that release)."""

    service: str
    teams: tuple[str, ...]
    has_traffic: bool


@dataclass(frozen=True)
class ScoredWindow:
    """One candidate hour for one release: features, probability, impact and why (`reasons`, built on demand)."""

    start: datetime
    p_fail: float
    impact_weight: float
    expected_impact: float
    features: dict[str, Any]
    excluded: bool
    blocked_by: tuple[str, ...] = ()            # the hard constraints that exclude this window
    rank: int | None = None                     # 1 = best among allowed windows; None when excluded
    subject: WindowSubject | None = field(default=None, compare=False, repr=False)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Hard constraints first, then traffic, p_fail x impact, concurrency and on-call."""
        return window_reasons(self)

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "p_fail": round(self.p_fail, 6),
                "impact_weight": round(self.impact_weight, 6), "expected_impact": round(self.expected_impact, 6),
                "excluded": self.excluded, "rank": self.rank, "reasons": list(self.reasons),
                "blocked_by": list(self.blocked_by),
                "features": {k: self.features[k] for k in TIME_FEATURES}}


def window_reasons(window: ScoredWindow) -> tuple[str, ...]:
    """The human-readable why of a window (computed only for the windows somebody looks at)."""
    row, p, weight, subject = window.features, window.p_fail, window.impact_weight, window.subject
    if subject is None:
        return window.blocked_by
    traffic = (f"traffic at the {row['traffic_percentile']:.0%} point of {subject.service}'s week"
               if subject.has_traffic else f"no traffic history for {subject.service}: assumed peak")
    reasons = [*window.blocked_by, traffic, f"p_fail {p:.3f} x impact {weight:.2f} = {p * weight:.3f}"]
    if row["concurrent_dependent"]:
        reasons.append(f"{row['concurrent_dependent']} release(s) of dependent services in the same window")
    if subject.teams and row["oncall_present"]:
        reasons.append("on-call present for " + ", ".join(subject.teams))
    return tuple(reasons)


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
    return traffic_share * tier_weight(tier, policy) * (1.0 + max(blast_radius, 0.0))


def tier_weight(tier: int | None, policy: WindowPolicy) -> float:
    """The policy's weight of a tier; an unknown or missing tier counts as critical."""
    return policy.tier_weights.get(tier, policy.unknown_tier_weight) if tier is not None \
        else policy.unknown_tier_weight


class CandidateGrid(HourGrid):
    """An HourGrid (calendar facts per start, cached per team, system and service) for a window policy:
    window length from the policy, plus the allowed-hour and allowed-weekday constraints each start breaks."""

    def __init__(self, starts: Sequence[datetime], calendar: HourlyCalendar, policy: WindowPolicy) -> None:
        super().__init__(starts, calendar, policy.window_hours)
        self.policy = policy
        self.time_blocks = [_time_blocks(s, policy) for s in self.starts]


@dataclass
class _ReleaseHours:
    """One release's rows over some starts, before the scorer has answered."""

    starts: list[datetime]
    rows: list[dict[str, Any]]
    blocked: list[tuple[str, ...]]
    weights: list[float]


def release_hours(release: WindowRelease, grid: CandidateGrid, concurrent: Mapping[datetime, int]) -> _ReleaseHours:
    """Model rows, hard-constraint messages and impact weights of `release` at every start of `grid`."""
    policy = grid.policy
    pct, share = grid.traffic(release.service)
    freezes = grid.freezes(release.system)
    gaps = grid.oncall_gaps(release.teams)
    tier_w, blast = tier_weight(release.tier, policy), 1.0 + max(release.blast_radius, 0.0)
    base = release.features
    rows, blocked = [], []
    for i, ts in enumerate(grid.starts):
        rows.append({**base, "deploy_hour": ts.hour, "deploy_weekday": ts.weekday(), "traffic_percentile": pct[i],
                     "oncall_present": int(not gaps[i]), "in_freeze": int(bool(freezes[i])),
                     "concurrent_dependent": concurrent.get(ts, 0)})
        blocks = grid.time_blocks[i]
        if policy.respect_freezes and freezes[i]:
            blocks += freezes[i]
        if policy.require_oncall and gaps[i]:
            blocks += gaps[i]
        blocked.append(blocks)
    return _ReleaseHours(grid.starts, rows, blocked, [s * tier_w * blast for s in share])


def window_features(release: WindowRelease, start: datetime, calendar: HourlyCalendar,
                    concurrent_dependent: int, policy: WindowPolicy) -> dict[str, Any]:
    """The model row for this release deployed at `start`: its own features plus recomputed time features."""
    grid = CandidateGrid([start], calendar, policy)
    return release_hours(release, grid, {start: concurrent_dependent}).rows[0]


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
    grid = CandidateGrid(starts, calendar, policy)
    counts = _concurrency(releases, planned)
    start_set = set(starts)
    hours: list[tuple[_ReleaseHours, _ReleaseHours | None]] = []
    for release in releases:
        extra = None
        if release.requested_window is not None:
            requested = to_utc(release.requested_window, source="releases", row=None, field_name="requested_window")
            if requested not in start_set:
                extra = release_hours(release, CandidateGrid([requested], calendar, policy), counts[release.release_id])
        hours.append((release_hours(release, grid, counts[release.release_id]), extra))
    rows = [row for own, extra in hours for row in own.rows + (extra.rows if extra else [])]
    probabilities = _probabilities(scorer, rows, releases, hours) if rows else []
    out: dict[str, WindowRanking] = {}
    offset = 0
    for release, (own, extra) in zip(releases, hours):
        subject = WindowSubject(release.service, release.teams, calendar.has_traffic(release.service))
        windows = _windows(own, probabilities[offset: offset + len(own.rows)], subject)
        offset += len(own.rows)
        requested_extra = None
        if extra is not None:
            requested_extra = _windows(extra, probabilities[offset: offset + 1], subject, ranked=False)[0]
            offset += 1
        out[release.release_id] = _rank(release, windows, requested_extra, policy)
    return out


def _concurrency(releases: Sequence[WindowRelease], planned: Mapping[str, datetime] | None
                 ) -> dict[str, Counter[datetime]]:
    """Per release: how many releases of related services are planned at each start (requested or `planned`)."""
    known = {r.release_id: r.requested_window for r in releases if r.requested_window is not None}
    known.update(planned or {})
    known = {rid: to_utc(ts, source="planned", row=None, field_name=rid) for rid, ts in known.items()}
    by_service: dict[str, list[str]] = {}
    for r in releases:
        by_service.setdefault(r.service, []).append(r.release_id)
    return {r.release_id: Counter(known[o] for s in r.related_services for o in by_service.get(s, ())
                                  if o != r.release_id and o in known) for r in releases}


def _probabilities(scorer: Scorer, rows: list[dict[str, Any]], releases: Sequence[WindowRelease],
                   hours: list[tuple[_ReleaseHours, _ReleaseHours | None]]) -> list[float]:
    """Call the scorer once (with a frame if it is flagged `accepts_frame`) and check it returned one
    probability in [0, 1] per row."""
    scored = scorer(rows_frame(releases, hours, rows)) if getattr(scorer, FRAME_SCORER_FLAG, False) else scorer(rows)
    probabilities = [float(p) for p in scored]
    if len(probabilities) != len(rows):
        raise InputError(f"scorer returned {len(probabilities)} probabilities for {len(rows)} rows", field="scorer")
    bad = next((i for i, p in enumerate(probabilities) if not 0.0 <= p <= 1.0), None)
    if bad is not None:
        owner = [r.release_id for r, (own, extra) in zip(releases, hours)
                 for _ in range(len(own.rows) + (1 if extra else 0))][bad]
        raise InputError(f"scorer returned {probabilities[bad]} for {owner}, expected a probability in [0, 1]",
                         field="scorer")
    return probabilities


def rows_frame(releases: Sequence[WindowRelease], hours: list[tuple[_ReleaseHours, _ReleaseHours | None]],
               rows: list[dict[str, Any]]):
    """The scorer rows as a polars DataFrame built by column: each release's features repeated over its hours,
    with the time features; the same frame as `pl.DataFrame(rows, infer_schema_length=None)`, much faster."""
    import polars as pl

    repeat = [len(own.rows) + (1 if extra else 0) for own, extra in hours]
    base = pl.DataFrame([dict(r.features) for r in releases], infer_schema_length=None)
    times = [pl.Series(k, [row[k] for row in rows]) for k in TIME_FEATURES]
    if base.width == 0:
        return pl.DataFrame(times)
    index = pl.Series([i for i, n in enumerate(repeat) for _ in range(n)], dtype=pl.UInt32)
    # columns in first-seen order over the rows, as pl.DataFrame(rows) would have them
    order = dict.fromkeys(k for r, n in zip(releases, repeat) if n for k in {**r.features, **TIME_ORDER})
    return base[index].with_columns(times).select(list(order))


def _windows(hours: _ReleaseHours, probabilities: list[float], subject: WindowSubject,
             ranked: bool = True) -> list[ScoredWindow]:
    """The allowed windows by (expected impact, start) with their rank, then the excluded ones by start."""
    impacts = [p * w for p, w in zip(probabilities, hours.weights)]
    allowed = sorted((i for i, blocks in enumerate(hours.blocked) if not blocks),
                     key=lambda i: (impacts[i], i))    # starts are sorted: index order is time order
    excluded = [i for i, blocks in enumerate(hours.blocked) if blocks]
    rank = {i: n for n, i in enumerate(allowed, 1)} if ranked else {}
    return [ScoredWindow(start=hours.starts[i], p_fail=probabilities[i], impact_weight=hours.weights[i],
                         expected_impact=impacts[i], features=hours.rows[i], excluded=bool(hours.blocked[i]),
                         blocked_by=hours.blocked[i], rank=rank.get(i), subject=subject)
            for i in allowed + excluded]


def _time_blocks(ts: datetime, policy: WindowPolicy) -> tuple[str, ...]:
    """The allowed-hour and allowed-weekday constraints this start breaks."""
    blocks = []
    if ts.hour not in policy.allowed_hours:
        blocks.append(f"hour {ts.hour:02d}:00 UTC is not an allowed hour")
    if ts.weekday() not in policy.allowed_weekdays:
        blocks.append(f"{WEEKDAY_NAMES[ts.weekday()]} is not an allowed weekday")
    return tuple(blocks)


def _rank(release: WindowRelease, windows: list[ScoredWindow], requested_extra: ScoredWindow | None,
          policy: WindowPolicy) -> WindowRanking:
    ranked = [w for w in windows if not w.excluded]        # `windows` comes ranked from _windows
    excluded = [w for w in windows if w.excluded]
    requested = None
    if release.requested_window is not None:
        ts = to_utc(release.requested_window, source="releases", row=None, field_name="requested_window")
        requested = next((w for w in ranked + excluded if w.start == ts), requested_extra)
        if requested is not None and not requested.excluded and requested.rank is None:
            # outside the candidate list: rank it against the allowed candidates
            better = sum(1 for w in ranked if w.expected_impact < requested.expected_impact)
            requested = replace(requested, rank=better + 1)
    return WindowRanking(release_id=release.release_id, windows=tuple(ranked + excluded), requested=requested,
                         top_k=policy.top_k, comparison=_compare(ranked, requested))


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
