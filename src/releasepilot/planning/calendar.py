"""Hourly calendar facts for candidate release windows.

Window scoring needs, for any UTC hour: how busy a service usually is at that weekday x hour (from its
traffic history), whether a change freeze covers it, and whether a team has someone on call. This module
turns raw rows (the `raw.traffic`, `raw.freezes` and `raw.oncall` shapes of docs/data_model.md) into one
`HourlyCalendar` with fast lookups, and `HourGrid` holds those facts over a list of candidate hours.
Pure: rows in, facts out; no I/O.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from releasepilot.errors import InputError

HOURS_PER_WEEK = 168
UNKNOWN_TRAFFIC_PERCENTILE = 0.5   # no history: neither quiet nor busy for the model
UNKNOWN_TRAFFIC_SHARE = 1.0        # no history: assume peak traffic for impact (conservative)
FREEZE_SCOPE_ALL = "all"


def to_utc(value: Any, *, source: str, row: int | None, field_name: str) -> datetime:
    """A datetime or ISO-8601 string as an aware UTC datetime (naive values are taken as UTC)."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"expected an ISO-8601 timestamp, got {value!r}", source=source, row=row,
                             field=field_name) from None
    else:
        raise InputError(f"expected a timestamp, got {type(value).__name__}", source=source, row=row,
                         field=field_name)
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def weekly_slot(ts: datetime) -> int:
    """Hour of the week in UTC: Monday 00:00 is 0, Sunday 23:00 is 167."""
    ts = ts.astimezone(UTC) if ts.tzinfo else ts
    return ts.weekday() * 24 + ts.hour


@dataclass(frozen=True)
class Freeze:
    """A change freeze [start, end) for every system (`scope == "all"`) or one system."""

    freeze_id: str
    name: str
    start: datetime
    end: datetime
    scope: str = FREEZE_SCOPE_ALL
    reason: str = ""

    def applies(self, start: datetime, end: datetime, system: str | None) -> bool:
        in_scope = self.scope == FREEZE_SCOPE_ALL or (system is not None and self.scope == system)
        return in_scope and self.start < end and start < self.end

    def describe(self) -> str:
        """How a window blocked by this freeze explains it."""
        return f"change freeze '{self.name or self.freeze_id}' ({self.scope})" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class TrafficProfile:
    """Mean requests per weekday x hour (168 values, summed over regions) and total requests per region."""

    hourly: tuple[float, ...]
    regions: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.hourly) != HOURS_PER_WEEK:
            raise ValueError(f"a weekly profile has {HOURS_PER_WEEK} hours, got {len(self.hourly)}")
        ordered = sorted(self.hourly)
        peak = ordered[-1]
        # mid-rank percentile per slot, so a flat profile gives 0.5 everywhere
        pct = []
        for value in self.hourly:
            below = bisect.bisect_left(ordered, value)
            equal = bisect.bisect_right(ordered, value) - below
            pct.append((below + 0.5 * equal) / HOURS_PER_WEEK)
        object.__setattr__(self, "_percentile", tuple(pct))
        object.__setattr__(self, "_share", tuple(v / peak if peak > 0 else 0.0 for v in self.hourly))

    def percentile(self, slot: int) -> float:
        """Where this hour sits in the service's own week (0 = quietest, 1 = busiest)."""
        return self._percentile[slot]  # type: ignore[attr-defined]

    def share_of_peak(self, slot: int) -> float:
        """Expected traffic in this hour as a fraction of the service's busiest hour."""
        return self._share[slot]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class HourlyCalendar:
    """Traffic profiles per service, freezes and merged on-call coverage per team."""

    profiles: Mapping[str, TrafficProfile] = field(default_factory=dict)
    freezes: tuple[Freeze, ...] = ()
    oncall: Mapping[str, tuple[tuple[datetime, datetime], ...]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, traffic: Iterable[Mapping[str, Any]] = (), freezes: Iterable[Mapping[str, Any]] = (),
                  oncall: Iterable[Mapping[str, Any]] = ()) -> HourlyCalendar:
        """Build from rows shaped like raw.traffic, raw.freezes and raw.oncall."""
        return cls(profiles=traffic_profiles(traffic), freezes=parse_freezes(freezes),
                   oncall=oncall_coverage(oncall))

    def has_traffic(self, service: str) -> bool:
        return service in self.profiles

    def traffic_percentile(self, service: str, ts: datetime) -> float:
        profile = self.profiles.get(service)
        return profile.percentile(weekly_slot(ts)) if profile else UNKNOWN_TRAFFIC_PERCENTILE

    def traffic_share(self, service: str, ts: datetime) -> float:
        profile = self.profiles.get(service)
        return profile.share_of_peak(weekly_slot(ts)) if profile else UNKNOWN_TRAFFIC_SHARE

    def region_traffic(self, service: str) -> Mapping[str, float]:
        profile = self.profiles.get(service)
        return profile.regions if profile else {}

    def freezes_at(self, start: datetime, end: datetime, system: str | None) -> list[Freeze]:
        """The freezes that cover any part of [start, end) for this system."""
        return [f for f in self.freezes if f.applies(start, end, system)]

    def oncall_covers(self, team: str, start: datetime, end: datetime) -> bool:
        """True when someone of `team` is on call for the whole of [start, end)."""
        shifts = self.oncall.get(team, ())
        i = bisect.bisect_right(shifts, (start, _FAR_FUTURE)) - 1
        return i >= 0 and shifts[i][0] <= start and shifts[i][1] >= end


_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


class HourGrid:
    """Facts about a list of window starts, computed once and shared by every release.

    Per hour: the window's end and weekly slot. Per team (on-call coverage), system
    (freezes) and service (traffic percentile and share) the facts over all starts are computed on first
    use and cached, so scoring 300 releases x 168 hours costs a few hundred calendar lookups, not 50,000.
    """

    def __init__(self, starts: Sequence[datetime], calendar: HourlyCalendar, window_hours: int) -> None:
        self.starts = list(starts)
        self.calendar = calendar
        length = timedelta(hours=window_hours)
        self.ends = [s + length for s in self.starts]
        self.slots = [weekly_slot(s) for s in self.starts]
        self._oncall: dict[str, list[bool]] = {}
        self._freezes: dict[str | None, list[tuple[str, ...]]] = {}
        self._traffic: dict[str, tuple[list[float], list[float]]] = {}

    def oncall(self, team: str) -> list[bool]:
        """Per start: someone of `team` is on call for the whole window."""
        if team not in self._oncall:
            covers = self.calendar.oncall_covers
            self._oncall[team] = [covers(team, s, e) for s, e in zip(self.starts, self.ends)]
        return self._oncall[team]

    def oncall_gaps(self, teams: tuple[str, ...]) -> list[tuple[str, ...]]:
        """Per start: () when every team is on call for the whole window, else the 'no on-call for' message."""
        covered = [self.oncall(team) for team in teams]
        everyone = list(map(all, zip(*covered))) if teams else [True] * len(self.starts)
        return [() if ok else ("no on-call for " + ", ".join(sorted(t for t, c in zip(teams, covered) if not c[i])),)
                for i, ok in enumerate(everyone)]

    def freezes(self, system: str | None) -> list[tuple[str, ...]]:
        """Per start: one message per change freeze covering any part of the window for `system`."""
        if system not in self._freezes:
            self._freezes[system] = [tuple(f.describe() for f in self.calendar.freezes_at(s, e, system))
                                     for s, e in zip(self.starts, self.ends)]
        return self._freezes[system]

    def traffic(self, service: str) -> tuple[list[float], list[float]]:
        """Per start: the traffic percentile (model feature) and share of peak (impact) of `service`."""
        if service not in self._traffic:
            profile = self.calendar.profiles.get(service)
            if profile is None:
                n = len(self.starts)
                self._traffic[service] = ([UNKNOWN_TRAFFIC_PERCENTILE] * n, [UNKNOWN_TRAFFIC_SHARE] * n)
            else:
                self._traffic[service] = ([profile.percentile(k) for k in self.slots],
                                          [profile.share_of_peak(k) for k in self.slots])
        return self._traffic[service]


def traffic_profiles(rows: Iterable[Mapping[str, Any]]) -> dict[str, TrafficProfile]:
    """Mean requests per weekday x hour per service; hours never observed take the service's mean."""
    per_hour: dict[tuple[str, datetime], float] = defaultdict(float)
    per_region: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for i, row in enumerate(rows):
        service = _required(row, "service", "traffic", i)
        region = str(row.get("region") or "default")
        hour = to_utc(_required(row, "hour", "traffic", i), source="traffic", row=i, field_name="hour")
        requests = _number(_required(row, "requests", "traffic", i), "traffic", i, "requests")
        hour = hour.replace(minute=0, second=0, microsecond=0)
        per_hour[(service, hour)] += requests
        per_region[service][region] += requests
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * HOURS_PER_WEEK)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * HOURS_PER_WEEK)
    for (service, hour), requests in per_hour.items():
        slot = weekly_slot(hour)
        sums[service][slot] += requests
        counts[service][slot] += 1
    profiles = {}
    for service, total in sums.items():
        seen = [s / c for s, c in zip(total, counts[service]) if c]
        fill = sum(seen) / len(seen)
        hourly = tuple(s / c if c else fill for s, c in zip(total, counts[service]))
        profiles[service] = TrafficProfile(hourly=hourly, regions=dict(per_region[service]))
    return profiles


def parse_freezes(rows: Iterable[Mapping[str, Any]]) -> tuple[Freeze, ...]:
    """Freezes from raw.freezes-shaped rows; a freeze must end after it starts."""
    out = []
    for i, row in enumerate(rows):
        start = to_utc(_required(row, "starts_at", "freezes", i), source="freezes", row=i, field_name="starts_at")
        end = to_utc(_required(row, "ends_at", "freezes", i), source="freezes", row=i, field_name="ends_at")
        if end <= start:
            raise InputError(f"freeze ends ({end}) before it starts ({start})", source="freezes", row=i,
                             field="ends_at")
        out.append(Freeze(freeze_id=str(row.get("freeze_id") or f"freeze-{i}"), name=str(row.get("name") or ""),
                          start=start, end=end, scope=str(row.get("scope") or FREEZE_SCOPE_ALL),
                          reason=str(row.get("reason") or "")))
    return tuple(out)


def oncall_coverage(rows: Iterable[Mapping[str, Any]]) -> dict[str, tuple[tuple[datetime, datetime], ...]]:
    """Shifts per team merged into disjoint, sorted covered intervals (gaps mean nobody on call)."""
    shifts: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for i, row in enumerate(rows):
        team = _required(row, "team", "oncall", i)
        start = to_utc(_required(row, "starts_at", "oncall", i), source="oncall", row=i, field_name="starts_at")
        end = to_utc(_required(row, "ends_at", "oncall", i), source="oncall", row=i, field_name="ends_at")
        if end <= start:
            raise InputError(f"shift ends ({end}) before it starts ({start})", source="oncall", row=i,
                             field="ends_at")
        shifts[team].append((start, end))
    merged: dict[str, tuple[tuple[datetime, datetime], ...]] = {}
    for team, items in shifts.items():
        items.sort()
        out: list[tuple[datetime, datetime]] = []
        for start, end in items:
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged[team] = tuple(out)
    return merged


def hourly_candidates(start: datetime, horizon_days: int, step_hours: int = 1) -> list[datetime]:
    """Window starts from the first full hour at or after `start`, every `step_hours`, for `horizon_days`."""
    if horizon_days <= 0 or step_hours <= 0:
        raise InputError("horizon_days and step_hours must be positive", field="horizon_days")
    first = to_utc(start, source="candidates", row=None, field_name="start")
    if first.minute or first.second or first.microsecond:
        first = first.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    count = horizon_days * 24 // step_hours
    return [first + timedelta(hours=i * step_hours) for i in range(count)]


def _required(row: Mapping[str, Any], name: str, source: str, i: int) -> Any:
    value = row.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError("a value is required", source=source, row=i, field=name)
    return value


def _number(value: Any, source: str, i: int, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"expected a number, got {value!r}", source=source, row=i, field=name) from None
    if not math.isfinite(number) or number < 0:
        raise InputError(f"expected a non-negative number, got {value!r}", source=source, row=i, field=name)
    return number
