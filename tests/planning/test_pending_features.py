"""Pending-release features equal the mart's features when recomputed for past deployments."""

from __future__ import annotations

from datetime import UTC

import duckdb
import polars as pl
import pytest

from releasepilot.planning.pending_features import PendingRelease, pending_changes, pending_features

NOT_COMPARED = {"version", "finished_at", "status", "is_failure", "label_known_at",
                "concurrent_same_service", "concurrent_dependent"}   # outcome columns; pending: nothing runs


@pytest.fixture(scope="module")
def history(built_history):
    _, warehouse = built_history
    con = duckdb.connect(str(warehouse), read_only=True)
    mart = con.sql("select * from marts.release_features order by started_at, deployment_id").pl()
    mapped = con.sql("select deployment_id, list(sha order by sha) as shas "
                     "from intermediate.int_deployment_commits_mapped group by 1").pl()
    yield con, mart, dict(zip(mapped["deployment_id"], mapped["shas"]))
    con.close()


def _pending(mart: pl.DataFrame, shas: dict) -> list[PendingRelease]:
    return [PendingRelease(r["deployment_id"], r["service"], tuple(shas.get(r["deployment_id"], [])),
                           r["started_at"].replace(tzinfo=UTC)) for r in mart.iter_rows(named=True)]


def test_recomputed_features_equal_the_mart_for_every_past_deployment(history):
    con, mart, shas = history
    got = pending_features(con, _pending(mart, shas))
    assert got["deployment_id"].to_list() == mart["deployment_id"].to_list()
    compared = [c for c in mart.columns if c not in NOT_COMPARED]
    assert len(compared) >= 40
    for column in compared:
        want, have = mart[column], got[column]
        if want.dtype.is_float():
            diff = (want.fill_null(-1e9) - have.cast(pl.Float64).fill_null(-1e9)).abs().max()
            assert diff < 1e-9, column
        else:
            assert want.cast(pl.Utf8).to_list() == have.cast(pl.Utf8).to_list(), column


def test_a_later_planning_time_sees_more_history(history):
    con, mart, shas = history
    row = mart.row(mart.height // 2, named=True)
    release = PendingRelease("p", row["service"], tuple(shas[row["deployment_id"]]), row["started_at"].replace(tzinfo=UTC))
    later = PendingRelease("q", row["service"], release.shas, mart["started_at"].max().replace(tzinfo=UTC))
    a, b = pending_features(con, [release, later]).iter_rows(named=True)
    assert (a["n_commits"], a["churn"]) == (b["n_commits"], b["churn"])   # same content
    assert b["svc_releases_90d"] != a["svc_releases_90d"] or b["days_since_last_release"] != a["days_since_last_release"]


def test_commits_not_in_history_are_counted_but_not_measured(history):
    con, mart, shas = history
    row = mart.row(0, named=True)
    known = tuple(shas[row["deployment_id"]])
    at = row["started_at"].replace(tzinfo=UTC)
    base, extra = pending_features(con, [PendingRelease("a", row["service"], known, at),
                                         PendingRelease("b", row["service"], (*known, "feedbeef00"), at)]).iter_rows(named=True)
    assert extra["n_commits"] == base["n_commits"] + 1
    assert extra["churn"] == base["churn"]
    changes = pending_changes(con, [PendingRelease("b", row["service"], (*known, "feedbeef00"), at)])
    assert sorted(changes["sha"].to_list()) == sorted(known) and set(changes["deployment_id"]) == {"b"}
