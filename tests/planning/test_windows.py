"""Window scoring: recomputed time features, impact weighting, hard constraints and the requested window."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from releasepilot.errors import InputError
from releasepilot.planning.calendar import HourlyCalendar, hourly_candidates
from releasepilot.planning.windows import WindowPolicy, WindowRelease, impact_weight, score_windows

MONDAY = datetime(2025, 3, 3, tzinfo=UTC)
ALL_WEEK = WindowPolicy(allowed_weekdays=tuple(range(7)))


def logistic_scorer(rows):
    """Monotone: busier hours, later hours and concurrent dependent releases are riskier."""
    out = []
    for r in rows:
        z = -3.0 + 2.0 * r["traffic_percentile"] + 0.02 * r["deploy_hour"] + 0.8 * r["concurrent_dependent"] \
            + 0.5 * r["in_freeze"] - 0.3 * r["oncall_present"] + 0.1 * r.get("lines_changed_k", 0)
        out.append(1.0 / (1.0 + math.exp(-z)))
    return out


def _calendar(**kw) -> HourlyCalendar:
    traffic = [{"hour": MONDAY + timedelta(hours=h), "service": svc, "region": "eu",
                "requests": 100 + 900 * math.sin(math.pi * ((MONDAY + timedelta(hours=h)).hour / 24)) ** 2}
               for h in range(168) for svc in ("api", "db")]   # quiet at midnight, peak at noon
    oncall = [{"team": t, "starts_at": MONDAY - timedelta(days=1), "ends_at": MONDAY + timedelta(days=30)}
              for t in ("payments", "storage")]
    return HourlyCalendar.from_rows(traffic=traffic, oncall=kw.pop("oncall", oncall), **kw)


def _release(**kw) -> WindowRelease:
    base = dict(release_id="r1", service="api", tier=1, blast_radius=2, system="commerce", teams=("payments",),
                features={"lines_changed_k": 1.0})
    base.update(kw)
    return WindowRelease(**base)


def test_best_window_is_the_quietest_hour_and_impact_is_p_times_weight():
    candidates = hourly_candidates(MONDAY, 1)
    result = score_windows([_release()], candidates, _calendar(), logistic_scorer, ALL_WEEK)["r1"]
    best = result.best[0]
    assert best.start.hour == 0
    assert [w.rank for w in result.best] == [1, 2, 3, 4, 5]
    impacts = [w.expected_impact for w in result.allowed]
    assert impacts == sorted(impacts)
    assert best.expected_impact == pytest.approx(best.p_fail * best.impact_weight)
    assert best.impact_weight == pytest.approx(impact_weight(_calendar().traffic_share("api", best.start), 1, 2,
                                                             ALL_WEEK))
    assert best.features["deploy_hour"] == 0 and best.features["deploy_weekday"] == 0
    assert best.features["lines_changed_k"] == 1.0            # time-independent features are kept
    assert any("traffic at the" in r for r in best.reasons)


def test_impact_weight_scales_with_tier_and_blast_radius():
    policy = WindowPolicy()
    assert impact_weight(0.5, 1, 0, policy) == pytest.approx(3 * impact_weight(0.5, 3, 0, policy))
    assert impact_weight(0.5, 2, 4, policy) == pytest.approx(5 * impact_weight(0.5, 2, 0, policy))
    assert impact_weight(0.5, None, 0, policy) == impact_weight(0.5, 1, 0, policy)


def test_freeze_excludes_windows_and_requested_window_in_freeze_is_reported():
    freeze = {"freeze_id": "f", "name": "quarter close", "starts_at": MONDAY, "ends_at": MONDAY + timedelta(hours=6),
              "scope": "commerce", "reason": "finance"}
    cal = _calendar(freezes=[freeze])
    requested = MONDAY + timedelta(hours=2)
    result = score_windows([_release(requested_window=requested)], hourly_candidates(MONDAY, 1), cal,
                           logistic_scorer, ALL_WEEK)["r1"]
    assert all(w.start.hour >= 6 for w in result.allowed)
    assert len(result.allowed) == 18
    assert result.requested.excluded and result.requested.rank is None
    assert result.requested.features["in_freeze"] == 1
    assert "quarter close" in result.requested.blocked_by[0]
    assert "not allowed" in result.comparison and "quarter close" in result.comparison
    other_system = score_windows([_release(system="identity")], hourly_candidates(MONDAY, 1), cal,
                                 logistic_scorer, ALL_WEEK)["r1"]
    assert len(other_system.allowed) == 24


def test_every_affected_team_needs_oncall():
    oncall = [{"team": "payments", "starts_at": MONDAY, "ends_at": MONDAY + timedelta(days=1)},
              {"team": "storage", "starts_at": MONDAY + timedelta(hours=8), "ends_at": MONDAY + timedelta(hours=16)}]
    cal = _calendar(oncall=oncall)
    result = score_windows([_release(teams=("payments", "storage"))], hourly_candidates(MONDAY, 1), cal,
                           logistic_scorer, ALL_WEEK)["r1"]
    assert {w.start.hour for w in result.allowed} == set(range(8, 16))
    blocked = next(w for w in result.windows if w.excluded)
    assert blocked.blocked_by == ("no on-call for storage",)
    relaxed = score_windows([_release(teams=("payments", "storage"))], hourly_candidates(MONDAY, 1), cal,
                            logistic_scorer, WindowPolicy(allowed_weekdays=tuple(range(7)), require_oncall=False))
    assert len(relaxed["r1"].allowed) == 24


def test_disallowed_hours_and_weekdays_are_excluded():
    policy = WindowPolicy(allowed_hours=tuple(range(9, 17)), allowed_weekdays=(1, 2))
    result = score_windows([_release()], hourly_candidates(MONDAY, 7), _calendar(), logistic_scorer, policy)["r1"]
    assert {(w.start.weekday(), w.start.hour) for w in result.allowed} == \
        {(d, h) for d in (1, 2) for h in range(9, 17)}
    monday = next(w for w in result.windows if w.start == MONDAY + timedelta(hours=10))
    assert monday.blocked_by == ("Mon is not an allowed weekday",)


def test_requested_peak_window_ranks_low_and_comparison_shows_saving():
    requested = MONDAY + timedelta(hours=12)
    result = score_windows([_release(requested_window=requested)], hourly_candidates(MONDAY, 1), _calendar(),
                           logistic_scorer, ALL_WEEK)["r1"]
    assert result.requested.rank >= 20
    assert result.requested.expected_impact > 5 * result.best[0].expected_impact
    assert "lower" in result.comparison and "ranks" in result.comparison


def test_requested_window_outside_candidates_is_still_scored_and_ranked():
    requested = MONDAY + timedelta(days=3)            # candidates cover Monday only
    result = score_windows([_release(requested_window=requested)], hourly_candidates(MONDAY, 1), _calendar(),
                           logistic_scorer, ALL_WEEK)["r1"]
    assert len(result.windows) == 24
    assert result.requested.start == requested and result.requested.rank == 1   # midnight: as good as the best


def test_concurrent_dependent_counts_related_releases_in_the_same_window():
    at = MONDAY + timedelta(hours=3)
    a = _release(release_id="a", related_services=frozenset({"db"}), requested_window=at)
    b = _release(release_id="b", service="db", related_services=frozenset({"api"}), requested_window=at)
    c = _release(release_id="c", service="api", requested_window=at)   # same service, not related to a
    result = score_windows([a, b, c], hourly_candidates(MONDAY, 1), _calendar(), logistic_scorer, ALL_WEEK)
    a_at = next(w for w in result["a"].windows if w.start == at)
    assert a_at.features["concurrent_dependent"] == 1
    assert next(w for w in result["a"].windows if w.start == MONDAY).features["concurrent_dependent"] == 0
    assert next(w for w in result["c"].windows if w.start == at).features["concurrent_dependent"] == 0
    moved = score_windows([a, b], hourly_candidates(MONDAY, 1), _calendar(), logistic_scorer, ALL_WEEK,
                          planned={"b": MONDAY + timedelta(hours=5)})
    assert next(w for w in moved["a"].windows if w.start == at).features["concurrent_dependent"] == 0
    assert a_at.p_fail > next(w for w in moved["a"].windows if w.start == at).p_fail


def test_scorer_is_called_once_for_all_releases():
    calls = []

    def scorer(rows):
        calls.append(len(rows))
        return logistic_scorer(rows)

    score_windows([_release(), _release(release_id="r2")], hourly_candidates(MONDAY, 2), _calendar(), scorer)
    assert calls == [96]


def test_bad_scorer_output_and_duplicate_ids_are_input_errors():
    candidates = hourly_candidates(MONDAY, 1)
    with pytest.raises(InputError, match="24 rows"):
        score_windows([_release()], candidates, _calendar(), lambda rows: [0.1])
    with pytest.raises(InputError, match="probability"):
        score_windows([_release()], candidates, _calendar(), lambda rows: [1.5] * len(rows))
    with pytest.raises(InputError, match="duplicate"):
        score_windows([_release(), _release()], candidates, _calendar(), logistic_scorer)


def test_as_dict_is_json_ready():
    import json

    result = score_windows([_release(requested_window=MONDAY + timedelta(hours=9))], hourly_candidates(MONDAY, 1),
                           _calendar(), logistic_scorer, ALL_WEEK)["r1"]
    doc = json.loads(json.dumps(result.as_dict()))
    assert doc["allowed_windows"] == 24 and len(doc["best"]) == 5
    assert doc["requested"]["features"]["deploy_hour"] == 9
    cells = doc["all"]                                  # the heat map: every candidate hour, in time order
    assert len(cells) == 24 and [c["start"] for c in cells] == sorted(c["start"] for c in cells)
    assert min(cells, key=lambda c: c["expected_impact"])["rank"] == 1


def test_candidate_grid_matches_the_calendar_lookups_hour_by_hour():
    from releasepilot.planning.windows import CandidateGrid

    freeze = {"freeze_id": "f", "name": "", "starts_at": MONDAY + timedelta(hours=5, minutes=30),
              "ends_at": MONDAY + timedelta(hours=7), "scope": "all", "reason": "audit"}
    oncall = [{"team": "payments", "starts_at": MONDAY, "ends_at": MONDAY + timedelta(hours=20)},
              {"team": "storage", "starts_at": MONDAY + timedelta(hours=3), "ends_at": MONDAY + timedelta(days=2)}]
    cal = _calendar(freezes=[freeze], oncall=oncall)
    policy = WindowPolicy(window_hours=2, allowed_hours=tuple(range(1, 23)))
    starts = hourly_candidates(MONDAY, 1)
    grid = CandidateGrid(starts, cal, policy)
    pct, share = grid.traffic("api")
    ghost_pct, ghost_share = grid.traffic("ghost")
    gaps = grid.oncall_gaps(("storage", "payments"))
    for i, ts in enumerate(starts):
        end = ts + timedelta(hours=2)
        assert pct[i] == cal.traffic_percentile("api", ts) and share[i] == cal.traffic_share("api", ts)
        assert (ghost_pct[i], ghost_share[i]) == (0.5, 1.0)           # no history: neutral, assumed peak
        missing = sorted(t for t in ("storage", "payments") if not cal.oncall_covers(t, ts, end))
        assert gaps[i] == ((f"no on-call for {', '.join(missing)}",) if missing else ())
        assert bool(grid.freezes("commerce")[i]) == bool(cal.freezes_at(ts, end, "commerce"))
    assert grid.freezes(None)[5] == ("change freeze 'f' (all): audit",)   # 05:00-07:00 overlaps 05:30
    assert gaps[0] == ("no on-call for storage",) and gaps[22] == ("no on-call for payments",)
    assert grid.time_blocks[0] == ("hour 00:00 UTC is not an allowed hour",)
    assert grid.oncall_gaps(()) == [()] * 24


def test_window_features_and_reasons_are_consistent_with_the_ranking():
    from releasepilot.planning.windows import window_features

    cal = _calendar()
    release = _release(teams=("payments", "storage"))
    result = score_windows([release], hourly_candidates(MONDAY, 1), cal, logistic_scorer, ALL_WEEK)["r1"]
    for w in result.windows:
        assert w.features == window_features(release, w.start, cal, 0, ALL_WEEK)
    best = result.best[0]
    assert best.reasons == ("traffic at the 2% point of api's week",
                            f"p_fail {best.p_fail:.3f} x impact {best.impact_weight:.2f} = {best.expected_impact:.3f}",
                            "on-call present for payments, storage")
    ghost = score_windows([_release(service="ghost")], hourly_candidates(MONDAY, 1), cal, logistic_scorer,
                          ALL_WEEK)["r1"]
    assert ghost.best[0].reasons[0] == "no traffic history for ghost: assumed peak"
    assert ghost.best[0].features["traffic_percentile"] == 0.5


def test_scorer_output_as_numpy_array_and_bad_value_names_the_release():
    import numpy as np

    candidates = hourly_candidates(MONDAY, 1)
    releases = [_release(), _release(release_id="r2")]
    ranked = score_windows(releases, candidates, _calendar(), lambda rows: np.array(logistic_scorer(rows)), ALL_WEEK)
    assert all(isinstance(w.p_fail, float) for w in ranked["r2"].windows)
    with pytest.raises(InputError, match="for r2, expected a probability"):
        score_windows(releases, candidates, _calendar(), lambda rows: [0.1] * 24 + [float("nan")] * 24, ALL_WEEK)


def test_frame_scorer_gets_the_same_rows_as_one_polars_frame():
    import polars as pl
    from polars.testing import assert_frame_equal

    seen = []

    def frame_scorer(frame):
        seen.append(frame)
        rows = frame.to_dicts()            # a release without lines_changed_k has null there, the row lacks it
        return logistic_scorer([{k: v for k, v in r.items() if v is not None} for r in rows])

    frame_scorer.accepts_frame = True
    rows_seen = []

    def row_scorer(rows):
        rows_seen.append(rows)
        return logistic_scorer(rows)

    releases = [_release(requested_window=MONDAY + timedelta(days=3)),          # one extra, out-of-candidate row
                _release(release_id="r2", service="db", features={"lines_changed_k": 2, "note": None}),
                _release(release_id="r3", features={"deploy_hour": 99})]       # a time feature is overwritten
    by_frame = score_windows(releases, hourly_candidates(MONDAY, 1), _calendar(), frame_scorer, ALL_WEEK)
    by_rows = score_windows(releases, hourly_candidates(MONDAY, 1), _calendar(), row_scorer, ALL_WEEK)
    assert isinstance(seen[0], pl.DataFrame) and seen[0].height == 73
    assert_frame_equal(seen[0], pl.DataFrame(rows_seen[0], infer_schema_length=None))
    assert {k: v.as_dict() for k, v in by_frame.items()} == {k: v.as_dict() for k, v in by_rows.items()}
    bare = [_release(features={}), _release(release_id="r2", features={})]
    frame_only = score_windows(bare, hourly_candidates(MONDAY, 1), _calendar(), frame_scorer, ALL_WEEK)
    assert seen[-1].columns == ["deploy_hour", "deploy_weekday", "traffic_percentile", "oncall_present", "in_freeze",
                                "concurrent_dependent"]
    assert len(frame_only["r2"].allowed) == 24
