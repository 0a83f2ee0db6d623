"""GX suites: the rules per table, and real GX validation catching bad rows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from releasepilot.quality import Validator, rules_for
from releasepilot.sources.schema import RAW_TABLES

NOW = dt.datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def validator():
    return Validator()


def _deployments(**columns):
    base = {"deployment_id": ["d1", "d2", "d3"], "service": ["a", "a", "b"], "version": "1",
            "commit_from": None, "commit_to": "x", "started_at": [dt.datetime(2025, 1, 1)] * 3,
            "finished_at": [dt.datetime(2025, 1, 1, 1)] * 3, "environment": "production",
            "deployer": "u", "status": "succeeded"}
    base.update(columns)
    return pl.DataFrame(base, schema=RAW_TABLES["deployments"].schema)


def test_rules_cover_keys_ranges_and_references():
    kinds = {(r.expectation, tuple(r.columns)) for r in rules_for("deployments", now=NOW,
                                                                     known_services=frozenset({"a"}))}
    assert ("ExpectColumnValuesToBeUnique", ("deployment_id",)) in kinds
    assert ("ExpectColumnPairValuesAToBeGreaterThanB", ("finished_at", "started_at")) in kinds
    assert ("ExpectColumnValuesToBeInSet", ("service",)) in kinds
    assert not any(c == ("service",) and e.endswith("InSet") for e, c in
                   {(r.expectation, tuple(r.columns)) for r in rules_for("deployments", now=NOW)})
    assert ("ExpectCompoundColumnsToBeUnique", ("hour", "service", "region")) in {
        (r.expectation, tuple(r.columns)) for r in rules_for("traffic", now=NOW)}


def test_clean_frame_passes(validator):
    verdict = validator.validate("deployments", _deployments(), rules_for("deployments", now=NOW))
    assert verdict.good.height == 3 and verdict.rejected.height == 0
    assert all(check.success for check in verdict.checks)


@pytest.mark.parametrize(("columns", "bad_ids", "reason"), [
    ({"deployment_id": ["d1", "d1", "d3"]}, ["d1", "d1"], "duplicate key"),
    ({"service": ["a", "zz", "b"]}, ["d2"], "unknown service"),
    ({"finished_at": [dt.datetime(2024, 12, 31), dt.datetime(2025, 1, 1, 1), None]}, ["d1"],
     "finished_at: before started_at"),
    ({"status": ["succeeded", "exploded", "failed"]}, ["d2"], "status: not one of"),
    ({"started_at": [dt.datetime(1999, 1, 1), dt.datetime(2025, 1, 1), dt.datetime(2030, 1, 1)],
      "finished_at": [None, None, None]}, ["d1", "d3"], "in the future"),
])
def test_bad_rows_are_rejected_with_reason(validator, columns, bad_ids, reason):
    rules = rules_for("deployments", now=NOW, known_services=frozenset({"a", "b"}))
    verdict = validator.validate("deployments", _deployments(**columns), rules)
    assert verdict.rejected["deployment_id"].to_list() == bad_ids
    assert all(reason in r for r in verdict.rejected["reason"])
    assert verdict.good.height == 3 - len(bad_ids)
    assert any(not c.success and reason in c.reason for c in verdict.checks)


def test_negative_counts_rejected(validator):
    files = pl.DataFrame({"sha": ["a", "a"], "path": ["x", "y"], "added": [1, -2], "deleted": [0, 0]})
    verdict = validator.validate("commit_files", files, rules_for("commit_files", now=NOW))
    assert verdict.rejected["path"].to_list() == ["y"]


def test_schedules_may_lie_ahead_but_history_may_not():
    now = dt.datetime(2026, 1, 1)

    def latest(table, column):
        return next(r.kwargs["max_value"] for r in rules_for(table, now=now)
                    if r.expectation == "ExpectColumnValuesToBeBetween" and r.kwargs["column"] == column)

    assert latest("oncall", "ends_at") > now + dt.timedelta(days=28)        # next month's rotation is fine
    assert latest("deployments", "started_at") == now                       # a deployment cannot be ahead
