"""CP-SAT portfolio schedule: optimal under team capacity, high-risk overlap and dependency order."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from releasepilot.errors import InputError
from releasepilot.planning.schedule import (
    SchedulePolicy,
    ScheduleRelease,
    check_schedule,
    from_ranking,
    schedule_releases,
)

T0 = datetime(2025, 3, 3, tzinfo=UTC)
H = [T0 + timedelta(hours=i) for i in range(6)]
FAST = SchedulePolicy(time_limit_seconds=5, team_capacity_per_window=1)


def _rel(rid, impacts, team=None, risk=0.05, blast=(), after=(), requested=None):
    options = {H[i]: v for i, v in enumerate(impacts) if v is not None}
    return ScheduleRelease(release_id=rid, team=team or f"team-{rid}", risk=risk,
                           blast_radius=frozenset(blast) | {rid}, options=options, after=tuple(after),
                           requested_window=H[requested] if requested is not None else None,
                           requested_impact=impacts[requested] if requested is not None else None)


def test_unconstrained_releases_take_their_best_window():
    releases = [_rel("a", [5, 1, 3], requested=0), _rel("b", [2, 4, 0.5], requested=0)]
    result = schedule_releases(releases, FAST)
    assert result.status == "OPTIMAL"
    assert result.assignment == {"a": H[1], "b": H[2]}
    assert result.expected_impact == pytest.approx(1.5)
    assert result.requested_impact == pytest.approx(7.0)
    assert result.scheduled_impact_of_requested == pytest.approx(1.5)
    assert not result.unscheduled and not check_schedule(releases, result.assignment, FAST)


def test_team_capacity_spreads_one_teams_releases():
    releases = [_rel("a", [1, 2, 9], team="t", requested=0), _rel("b", [1, 4, 9], team="t", requested=0)]
    result = schedule_releases(releases, FAST)
    assert result.assignment == {"a": H[1], "b": H[0]}           # 1 + 2 = 3 beats 1 + 4
    assert any("team t has 2 releases" in v for v in result.requested_violations)
    two = schedule_releases(releases, SchedulePolicy(team_capacity_per_window=2))
    assert two.assignment == {"a": H[0], "b": H[0]}


def test_high_risk_releases_with_overlapping_blast_radius_do_not_share_a_window():
    a = _rel("a", [1, 3, 3], risk=0.5, blast={"db"})
    b = _rel("b", [1, 2, 3], risk=0.5, blast={"db", "web"})
    c = _rel("c", [1, 5, 5], risk=0.5, blast={"other"})              # high risk, no overlap
    d = _rel("d", [1, 5, 5], risk=0.1, blast={"db"})                 # overlaps but low risk
    result = schedule_releases([a, b, c, d], FAST)
    assert result.assignment["a"] != result.assignment["b"]
    assert result.assignment["c"] == H[0] and result.assignment["d"] == H[0]
    assert result.expected_impact == pytest.approx(1 + 2 + 1 + 1)
    a4 = _rel("a", [1, 3, 3, 4], risk=0.5, blast={"db"})
    b4 = _rel("b", [1, 2, 3, 3], risk=0.5, blast={"db"})
    spaced = schedule_releases([a4, b4], SchedulePolicy(high_risk_separation_hours=3))
    assert abs(spaced.assignment["a"] - spaced.assignment["b"]) >= timedelta(hours=3)
    assert spaced.expected_impact == pytest.approx(4)           # a@0 + b@3 (1 + 3) beats b@0 + a@3 (1 + 4)
    too_tight = schedule_releases([a, b], SchedulePolicy(high_risk_separation_hours=3))
    assert len(too_tight.unscheduled) == 1                      # 3 windows cannot hold both 3 h apart
    assert check_schedule([a, b], {"a": H[0], "b": H[1]}, SchedulePolicy(high_risk_separation_hours=3))


def test_dependent_release_goes_after_its_provider():
    provider = _rel("p", [9, 9, 1, 9])
    consumer = _rel("c", [1, 2, 8, 8], after=("p",))
    result = schedule_releases([provider, consumer], FAST)
    assert result.assignment["c"] > result.assignment["p"]
    assert result.assignment == {"p": H[2], "c": H[3]}
    gap = schedule_releases([provider, consumer], SchedulePolicy(min_gap_hours=0))
    assert gap.assignment["c"] >= gap.assignment["p"]


def test_releases_that_cannot_be_placed_are_reported_not_fatal():
    nothing = _rel("n", [None, None])
    provider = _rel("p", [None, None, None, 1])
    consumer = _rel("c", [1, None, None, None], after=("p",))     # only window is before its provider
    result = schedule_releases([nothing, provider, consumer], FAST)
    assert result.unscheduled["n"] == "no allowed window in the horizon"
    assert "c" in result.unscheduled and result.assignment == {"p": H[3]}
    orphan = schedule_releases([_rel("p", [None]), _rel("c", [1], after=("p",))], FAST)
    assert orphan.unscheduled["c"] == "depends on unscheduled p" and not orphan.assignment


def test_matches_brute_force_on_small_random_instances():
    rng = random.Random(11)
    policy = SchedulePolicy(time_limit_seconds=5, team_capacity_per_window=1, high_risk_threshold=0.3,
                            relative_gap=0.0)
    for _ in range(8):
        releases = []
        for i in range(4):
            impacts = [round(rng.uniform(0, 5), 3) for _ in range(4)]
            after = ("r0",) if i == 3 and rng.random() < 0.5 else ()
            releases.append(_rel(f"r{i}", impacts, team=rng.choice(["x", "y"]), risk=rng.choice([0.1, 0.5]),
                                 blast=rng.sample(["s1", "s2", "s3"], 1), after=after))
        best = None
        for combo in itertools.product(range(4), repeat=4):
            assignment = {r.release_id: H[w] for r, w in zip(releases, combo)}
            if not check_schedule(releases, assignment, policy):
                cost = sum(r.options[assignment[r.release_id]] for r in releases)
                best = cost if best is None else min(best, cost)
        result = schedule_releases(releases, policy)
        assert best is not None and not result.unscheduled
        assert not check_schedule(releases, result.assignment, policy)
        assert result.expected_impact == pytest.approx(best, abs=1e-3)


def test_from_ranking_uses_allowed_windows_of_score_windows():
    from releasepilot.planning.calendar import HourlyCalendar, hourly_candidates
    from releasepilot.planning.windows import WindowPolicy, WindowRelease, score_windows

    freeze = {"starts_at": T0, "ends_at": T0 + timedelta(hours=12), "name": "close"}
    cal = HourlyCalendar.from_rows(freezes=[freeze])
    rankings = score_windows([WindowRelease("r", "api", tier=2, requested_window=T0 + timedelta(hours=1))],
                             hourly_candidates(T0, 1), cal, lambda rows: [0.1] * len(rows),
                             WindowPolicy(require_oncall=False))
    item = from_ranking(rankings["r"], team="t", risk=0.1, blast_radius=frozenset({"api"}))
    assert len(item.options) == 12 and min(item.options) == T0 + timedelta(hours=12)
    result = schedule_releases([item], FAST)
    assert result.assignment["r"] >= T0 + timedelta(hours=12)
    assert any("close" in v for v in result.requested_violations)


def test_bad_input_is_an_input_error():
    with pytest.raises(InputError, match="unknown release"):
        schedule_releases([_rel("a", [1], after=("zzz",))], FAST)
    with pytest.raises(InputError, match="duplicate"):
        schedule_releases([_rel("a", [1]), _rel("a", [2])], FAST)
    with pytest.raises(InputError, match="non-negative"):
        schedule_releases([_rel("a", [-1])], FAST)
