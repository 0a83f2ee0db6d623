"""Time in the simulation: local-time offsets, on-call rotations, hourly traffic and change freezes.

Times are int64 seconds since the history start (midnight UTC of `config.start`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from releasepilot.simulation.config import REGIONS
from releasepilot.simulation.org import REGION_NAMES, Org

DAY = 86400
HOUR = 3600
WEEK = 7 * DAY
YEAR = 365 * DAY
ONCALL_GAP_RATE = 0.12          # share of weekly shifts that end early (nobody on call until the next)
ONCALL_MISSING_RATE = 0.02      # share of weeks with no shift at all
ONCALL_PUBLISHED_AHEAD_DAYS = 28  # rotations are published ahead of the end of history, as PagerDuty does
RANDOM_FREEZES_PER_YEAR = 3
FREEZE_REASONS = ["quarter close", "major customer event", "datacenter migration", "audit window",
                  "marketing launch", "incident follow-up"]


@dataclass
class Clock:
    """UTC offsets per region time zone and day, so local hour/weekday are array lookups."""

    start: datetime
    days: int
    offsets: np.ndarray  # (n_regions, days + 2) seconds east of UTC, at noon UTC of each day

    @classmethod
    def build(cls, start: datetime, days: int) -> Clock:
        offsets = np.zeros((len(REGION_NAMES), days + 2), dtype=np.int64)
        for r, name in enumerate(REGION_NAMES):
            zone = ZoneInfo(REGIONS[name])
            for d in range(days + 2):
                moment = start + timedelta(days=d, hours=12)
                offsets[r, d] = int(moment.astimezone(zone).utcoffset().total_seconds())
        return cls(start=start, days=days, offsets=offsets)

    @property
    def epoch(self) -> int:
        return int(self.start.timestamp())

    def offset(self, t: np.ndarray, region: np.ndarray) -> np.ndarray:
        day = np.clip(np.floor_divide(t, DAY), 0, self.days + 1)
        return self.offsets[region, day]

    def local(self, t: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local hour (float) and weekday (0 = Monday) of UTC times `t` in the regions' zones."""
        lt = t + self.offset(t, region) + self.epoch
        hour = (lt % DAY) / HOUR
        weekday = (np.floor_divide(lt, DAY) + 3) % 7  # 1970-01-01 was a Thursday
        return hour, weekday

    def local_midnight(self, day: np.ndarray, region: np.ndarray) -> np.ndarray:
        """UTC seconds (since start) of local midnight of local calendar `day` in `region`."""
        return day * DAY - self.offsets[region, np.clip(day, 0, self.days + 1)]


@dataclass
class Oncall:
    team: np.ndarray
    person: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    def covered(self, team: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Whether someone of `team` was on call at time `t` (shifts of a team never overlap)."""
        key_start = self.team * (1 << 40) + self.starts
        order = np.argsort(key_start, kind="stable")
        keys, ends, teams = key_start[order], self.ends[order], self.team[order]
        idx = np.searchsorted(keys, team * (1 << 40) + t, side="right") - 1
        ok = idx >= 0
        idx = np.maximum(idx, 0)
        return ok & (teams[idx] == team) & (ends[idx] > t)


def oncall_shifts(org: Org, clock: Clock, rng: np.random.Generator,
                  ahead_days: int = ONCALL_PUBLISHED_AHEAD_DAYS) -> Oncall:
    """Weekly rotation per team (Monday 09:00 local), with shifts cut short and missing weeks, published
    `ahead_days` past the end of history (drawn from a spawned generator: the history itself is unchanged)."""
    teams, people, starts, ends = [], [], [], []
    future = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])
    horizon = (clock.days + ahead_days) * DAY
    n_weeks = (clock.days + ahead_days) // 7 + 2
    first_monday = (7 - (np.floor_divide(clock.epoch, DAY) + 3) % 7) % 7 - 7
    for team in range(len(org.team_ids)):
        members = np.flatnonzero(org.person_team == team)
        region = np.full(n_weeks + 1, org.team_tz[team])
        day = first_monday + 7 * np.arange(n_weeks + 1)
        bounds = clock.local_midnight(day, region) + 9 * HOUR
        pointer = int(rng.integers(members.size))
        for w in range(n_weeks):
            start, end = int(bounds[w]), int(bounds[w + 1])
            if end <= 0 or start >= horizon:
                continue
            draw = rng if start < clock.days * DAY else future
            active = members[(org.person_join[members] <= start) & (org.person_leave[members] > start)]
            if active.size == 0 or draw.random() < ONCALL_MISSING_RATE:
                continue
            pointer += 1
            person = active[pointer % active.size]
            if draw.random() < ONCALL_GAP_RATE:
                end = start + int(rng.uniform(0.3, 0.9) * (end - start))
            teams.append(team)
            people.append(person)
            starts.append(start)
            ends.append(end)
    return Oncall(np.array(teams), np.array(people), np.array(starts, dtype=np.int64),
                  np.array(ends, dtype=np.int64))


@dataclass
class Traffic:
    service: np.ndarray    # per series
    region: np.ndarray     # per series (index into REGION_NAMES)
    requests: np.ndarray   # (n_series, hours) int64
    total: np.ndarray      # (n_services, hours) requests over all regions


def traffic(org: Org, clock: Clock, rng: np.random.Generator, drift: float) -> Traffic:
    """Hourly requests per service and region: daily and weekly seasonality in local time, growth, noise."""
    hours = clock.days * 24
    t = np.arange(hours, dtype=np.int64) * HOUR
    series_s, series_r = [], []
    for s, regions in enumerate(org.regions):
        for name in regions:
            series_s.append(s)
            series_r.append(REGION_NAMES.index(name))
    series_s, series_r = np.array(series_s), np.array(series_r)
    n = series_s.size
    requests = np.empty((n, hours), dtype=np.int64)
    total = np.zeros((len(org.service_ids), hours), dtype=np.int64)
    base = rng.lognormal(np.log(3000), 0.9, len(org.service_ids))
    weekend = rng.uniform(0.5, 0.95, len(org.service_ids))
    growth = rng.uniform(0.05, 0.35, len(org.service_ids)) * drift
    peak = rng.uniform(12.5, 15.5, len(org.service_ids))
    for i in range(n):
        s, r = series_s[i], series_r[i]
        hour, weekday = clock.local(t, np.full(hours, r))
        daily = 0.25 + 0.75 * np.exp(-0.5 * ((hour - peak[s]) / 4.0) ** 2) + 0.15 * np.exp(
            -0.5 * ((hour - 20.5) / 1.5) ** 2)
        weekly = np.where(weekday >= 5, weekend[s], 1.0)
        share = 1.0 if r == series_r[series_s == s][0] else rng.uniform(0.2, 0.7)
        level = base[s] * share * daily * weekly * np.exp(growth[s] * t / YEAR)
        noise = rng.lognormal(0.0, 0.08, hours)
        requests[i] = np.round(level * noise).astype(np.int64)
        total[s] += requests[i]
    return Traffic(series_s, series_r, requests, total)


@dataclass
class Freezes:
    name: list[str]
    starts: np.ndarray
    ends: np.ndarray
    scope: list[str]
    reason: list[str]

    def frozen(self, t: np.ndarray, system: np.ndarray) -> np.ndarray:
        """Whether time `t` of a service in `system` falls in a freeze that applies to it."""
        out = np.zeros(t.size, dtype=bool)
        for start, end, scope in zip(self.starts, self.ends, self.scope):
            hit = (t >= start) & (t < end)
            out |= hit if scope == "all" else hit & (system == scope)
        return out


def freezes(org: Org, clock: Clock, rng: np.random.Generator) -> Freezes:
    """End-of-year freezes (scope all) plus a few random ones scoped to everything or one system."""
    rows: list[tuple[int, int, str, str, str]] = []
    for year in range(clock.start.year, clock.start.year + clock.days // 365 + 2):
        start = int((datetime(year, 12, 20, tzinfo=UTC) - clock.start).total_seconds())
        end = int((datetime(year + 1, 1, 3, tzinfo=UTC) - clock.start).total_seconds())
        if end > 0 and start < clock.days * DAY:
            rows.append((start, end, f"End of year {year}", "all", "holiday season"))
    n_random = rng.poisson(RANDOM_FREEZES_PER_YEAR * clock.days / 365)
    systems = sorted(set(org.system))
    for _ in range(n_random):
        start = int(rng.uniform(0, clock.days - 5) * DAY) // HOUR * HOUR
        end = start + int(rng.integers(1, 5)) * DAY
        scope = "all" if rng.random() < 0.4 else systems[rng.integers(len(systems))]
        reason = FREEZE_REASONS[rng.integers(len(FREEZE_REASONS))]
        rows.append((start, end, f"{reason.capitalize()} freeze", scope, reason))
    rows.sort()
    return Freezes([r[2] for r in rows], np.array([r[0] for r in rows], dtype=np.int64),
                   np.array([r[1] for r in rows], dtype=np.int64), [r[3] for r in rows], [r[4] for r in rows])
