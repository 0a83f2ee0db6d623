"""On-call rotations are published ahead of the end of history, so planning sees who is on call next week."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from releasepilot.simulation.calendar import ONCALL_PUBLISHED_AHEAD_DAYS


def test_every_team_has_oncall_shifts_published_past_the_end_of_history(small_history):
    out, _summary = small_history
    deployments = pl.read_csv(out / "deployments.csv", try_parse_dates=True)
    oncall = pl.read_csv(out / "oncall.csv", try_parse_dates=True)
    history_end = deployments["finished_at"].max()
    last_shift = oncall.group_by("team").agg(pl.col("ends_at").max())
    ahead = timedelta(days=ONCALL_PUBLISHED_AHEAD_DAYS - 7)          # at least three weeks ahead
    assert last_shift.height == oncall["team"].n_unique()
    assert (last_shift["ends_at"] >= history_end + ahead).all(), last_shift
