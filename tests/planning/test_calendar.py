"""Hourly calendar: traffic profiles by weekday x hour, freezes, on-call coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from releasepilot.errors import InputError
from releasepilot.planning.calendar import (
    HourlyCalendar,
    hourly_candidates,
    oncall_coverage,
    traffic_profiles,
    weekly_slot,
)

MONDAY = datetime(2025, 3, 3, tzinfo=UTC)   # a Monday


def _traffic(service: str, weeks: int = 2, regions=("eu", "us")) -> list[dict]:
    rows = []
    for h in range(weeks * 168):
        ts = MONDAY + timedelta(hours=h)
        for i, region in enumerate(regions):
            rows.append({"hour": ts.isoformat(), "service": service, "region": region,
                         "requests": (ts.hour + 1) * (i + 1)})   # busier later in the day; us twice eu
    return rows


def test_weekly_slot_counts_from_monday_midnight():
    assert weekly_slot(MONDAY) == 0
    assert weekly_slot(MONDAY + timedelta(days=6, hours=23)) == 167
    assert weekly_slot(datetime(2025, 3, 4, 10, tzinfo=UTC)) == 34


def test_profile_sums_regions_and_averages_weeks():
    profiles = traffic_profiles(_traffic("api"))
    profile = profiles["api"]
    assert profile.hourly[0] == pytest.approx(3.0)          # hour 0: 1 (eu) + 2 (us)
    assert profile.hourly[23] == pytest.approx(72.0)
    assert profile.regions["us"] == pytest.approx(2 * profile.regions["eu"])


def test_percentile_and_share_follow_traffic():
    cal = HourlyCalendar.from_rows(traffic=_traffic("api"))
    night = MONDAY.replace(hour=0)
    evening = MONDAY.replace(hour=23)
    assert cal.traffic_percentile("api", night) < 0.1
    assert cal.traffic_percentile("api", evening) > 0.9
    assert cal.traffic_share("api", evening) == pytest.approx(1.0)
    assert cal.traffic_share("api", night) == pytest.approx(3 / 72)


def test_flat_profile_is_neutral_and_unknown_service_is_peak():
    rows = [{"hour": MONDAY + timedelta(hours=h), "service": "flat", "region": "eu", "requests": 5}
            for h in range(168)]
    cal = HourlyCalendar.from_rows(traffic=rows)
    assert cal.traffic_percentile("flat", MONDAY) == pytest.approx(0.5)
    assert cal.traffic_share("ghost", MONDAY) == 1.0
    assert not cal.has_traffic("ghost")


def test_unobserved_hours_take_the_service_mean():
    rows = [{"hour": MONDAY + timedelta(hours=h), "service": "s", "region": "eu", "requests": 10 * (h + 1)}
            for h in range(3)]
    profile = traffic_profiles(rows)["s"]
    assert profile.hourly[100] == pytest.approx(20.0)


def test_freeze_scope_all_or_system():
    cal = HourlyCalendar.from_rows(freezes=[
        {"freeze_id": "f1", "name": "black friday", "starts_at": "2025-03-04T00:00:00Z",
         "ends_at": "2025-03-05T00:00:00Z", "scope": "commerce", "reason": "sales"},
    ])
    inside = datetime(2025, 3, 4, 12, tzinfo=UTC)
    assert cal.freezes_at(inside, inside + timedelta(hours=1), "commerce")
    assert not cal.freezes_at(inside, inside + timedelta(hours=1), "identity")
    edge = datetime(2025, 3, 5, tzinfo=UTC)   # end is exclusive
    assert not cal.freezes_at(edge, edge + timedelta(hours=1), "commerce")


def test_oncall_merges_shifts_and_sees_gaps():
    merged = oncall_coverage([
        {"team": "t", "user": "a", "starts_at": "2025-03-03T00:00:00+00:00", "ends_at": "2025-03-03T08:00:00+00:00"},
        {"team": "t", "user": "b", "starts_at": "2025-03-03T08:00:00+00:00", "ends_at": "2025-03-03T12:00:00+00:00"},
        {"team": "t", "user": "c", "starts_at": "2025-03-03T14:00:00+00:00", "ends_at": "2025-03-03T20:00:00+00:00"},
    ])
    assert len(merged["t"]) == 2
    cal = HourlyCalendar(oncall=merged)
    at = lambda h: MONDAY + timedelta(hours=h)
    assert cal.oncall_covers("t", at(7), at(9))       # across the hand-over
    assert not cal.oncall_covers("t", at(11), at(13))  # runs into the gap
    assert not cal.oncall_covers("t", at(12), at(13))
    assert cal.oncall_covers("t", at(19), at(20))
    assert not cal.oncall_covers("other", at(1), at(2))


def test_timestamps_with_offsets_become_utc():
    merged = oncall_coverage([{"team": "t", "starts_at": "2025-03-03T02:00:00+02:00",
                               "ends_at": "2025-03-03T03:00:00+02:00"}])
    assert merged["t"][0][0] == MONDAY


@pytest.mark.parametrize("rows, field", [
    ([{"hour": "not a time", "service": "s", "region": "eu", "requests": 1}], "hour"),
    ([{"hour": "2025-03-03T00:00:00", "service": "s", "region": "eu", "requests": -1}], "requests"),
    ([{"hour": "2025-03-03T00:00:00", "region": "eu", "requests": 1}], "service"),
])
def test_bad_traffic_rows_name_row_and_field(rows, field):
    with pytest.raises(InputError) as err:
        traffic_profiles(rows)
    assert err.value.field == field and err.value.row == 0


def test_freeze_ending_before_start_is_rejected():
    with pytest.raises(InputError, match="ends"):
        HourlyCalendar.from_rows(freezes=[{"starts_at": "2025-03-04T00:00:00", "ends_at": "2025-03-03T00:00:00"}])


def test_hourly_candidates_start_at_next_full_hour():
    candidates = hourly_candidates(datetime(2025, 3, 3, 9, 30, tzinfo=UTC), horizon_days=7)
    assert len(candidates) == 168
    assert candidates[0] == datetime(2025, 3, 3, 10, tzinfo=UTC)
    assert candidates[-1] - candidates[0] == timedelta(hours=167)
    assert len(hourly_candidates(MONDAY, horizon_days=1, step_hours=2)) == 12


def test_hour_grid_caches_facts_per_team_system_and_service():
    from releasepilot.planning.calendar import HourGrid

    cal = HourlyCalendar.from_rows(
        traffic=_traffic("api"),
        freezes=[{"freeze_id": "f1", "name": "", "starts_at": MONDAY + timedelta(hours=2),
                  "ends_at": MONDAY + timedelta(hours=3), "scope": "commerce"}],
        oncall=[{"team": "t", "starts_at": MONDAY, "ends_at": MONDAY + timedelta(hours=4)}])
    grid = HourGrid(hourly_candidates(MONDAY, 1), cal, window_hours=2)
    assert grid.ends[0] == MONDAY + timedelta(hours=2) and grid.slots[:2] == [0, 1]
    assert grid.oncall("t")[:4] == [True, True, True, False]      # 03:00-05:00 runs past the shift
    assert grid.oncall("t") is grid.oncall("t")                   # computed once
    assert [bool(f) for f in grid.freezes("commerce")[:4]] == [False, True, True, False]
    assert grid.freezes("commerce")[1] == ("change freeze 'f1' (commerce)",)
    assert grid.freezes("identity")[2] == ()
    pct, share = grid.traffic("api")
    assert pct[0] == cal.traffic_percentile("api", MONDAY) and share[23] == pytest.approx(1.0)
