"""Bring-your-own CSV: column spellings, time and label formats, and clear errors."""

from __future__ import annotations

import polars as pl
import pytest

from releasepilot.errors import InputError
from releasepilot.risk.evaluate import evaluate_csv, prepare


def _export(history, path, *, iso: bool, words: bool):
    """History exported in a Kamei-style shape, under the alternative spellings."""
    changes = history["changes"].filter(pl.col("is_defective").is_not_null())
    frame = changes.select(
        "sha", "ns", "nd", "nf", pl.col("entropy").alias("ent"), "la", "ld", "lt",
        pl.col("fix").cast(pl.Int8).alias("fix"), "ndev", "age", "nuc", pl.col("exp").alias("aexp"),
        pl.col("rexp").alias("arexp"), pl.col("sexp").alias("asexp"),
        (pl.col("deployed_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ") if iso
         else pl.col("deployed_at").dt.epoch("s")).alias("commit_time"),
        (pl.col("is_defective").cast(pl.Utf8).str.to_uppercase() if words
         else pl.col("is_defective").cast(pl.Int8)).alias("bug"))
    frame.write_csv(path)
    return frame


@pytest.mark.parametrize("iso,words", [(True, True), (False, False)])
def test_evaluate_reports_metrics_next_to_logistic_regression(history, specs, tmp_path, iso, words):
    path = tmp_path / "history.csv"
    frame = _export(history, path, iso=iso, words=words)
    report = evaluate_csv(path, time_col="commit_time", label_col="bug", spec=specs["change_risk"])
    assert report.metrics_used == ["ns", "nd", "nf", "entropy", "la", "ld", "lt", "fix", "ndev", "age", "nuc",
                                   "exp", "rexp", "sexp"]
    assert report.rows == frame.height
    assert report.test_rows == pytest.approx(0.2 * frame.height, rel=0.1)
    assert {"majority", "logistic"} <= set(report.baselines)
    assert 0.5 < report.model["roc_auc"] <= 1.0
    assert set(report.model) >= {"pr_auc", "brier", "log_loss", "ece", "accuracy", "caught_at_10pct"}


def test_unknown_and_missing_columns_are_listed(tmp_path, specs):
    path = tmp_path / "bad.csv"
    pl.DataFrame({"when": [1, 2], "bug": [0, 1], "la": [1, 2], "ld": [1, 1], "weird": [3, 4]}).write_csv(path)
    with pytest.raises(InputError) as err:
        evaluate_csv(path, time_col="when", label_col="bug", spec=specs["change_risk"])
    assert "unknown columns ['weird']" in str(err.value) and "found" in str(err.value)
    with pytest.raises(InputError, match=r"only 2 Kamei metrics.*missing \['ns'"):
        evaluate_csv(path, time_col="when", label_col="bug", spec=specs["change_risk"], ignore_unknown=True)
    with pytest.raises(InputError, match="label column 'defect' not found"):
        evaluate_csv(path, time_col="when", label_col="defect", spec=specs["change_risk"])


def _five(**extra):
    base = {"la": [1, 2, 3], "ld": [1, 1, 1], "nf": [1, 2, 1], "ent": [0.1, 0.2, 0.3], "aexp": [3, 4, 5]}
    return pl.DataFrame({**base, **extra})


def test_bad_label_and_time_values_name_the_row():
    with pytest.raises(InputError, match=r"row 3.*field 'bug'.*'maybe'"):
        prepare(_five(t=[1, 2, 3], bug=["true", "false", "maybe"]), time_col="t", label_col="bug", source="x.csv")
    with pytest.raises(InputError, match=r"row 1.*field 't'"):
        prepare(_five(t=["yesterday", "2024-01-02", "2024-01-03"], bug=[0, 1, 0]), time_col="t", label_col="bug",
                source="x.csv")
    rows, metrics = prepare(_five(t=["2024-01-01", "2024-01-02T10:00:00+02:00", "2024-01-03"], bug=["Yes", "no", "1"]),
                            time_col="t", label_col="bug", source="x.csv")
    assert metrics == ["nf", "entropy", "la", "ld", "exp"]
    assert rows["_label"].to_list() == [True, False, True]
    assert rows["_time"][1].hour == 8


def test_unix_seconds_and_milliseconds_agree():
    a, _ = prepare(_five(t=[1_700_000_000, 1_700_000_060, 1_700_000_120], bug=[0, 1, 0]), time_col="t",
                   label_col="bug", source="x")
    b, _ = prepare(_five(t=[1_700_000_000_000, 1_700_000_060_000, 1_700_000_120_000], bug=[0, 1, 0]),
                   time_col="t", label_col="bug", source="x")
    assert a["_time"].to_list() == b["_time"].to_list()


def test_no_service_rate_baseline_without_a_service_column(history, specs, tmp_path):
    path = tmp_path / "history.csv"
    _export(history, path, iso=True, words=False)
    report = evaluate_csv(path, time_col="commit_time", label_col="bug", spec=specs["change_risk"],
                          ignore_unknown=True)
    assert "service_rate" not in report.baselines
