"""`releasepilot detect` over exported CSV series: per-row scores, --out, --json, clear errors."""

from __future__ import annotations

import csv
import json

import polars as pl
import pytest
from typer.testing import CliRunner

from releasepilot.cli import app
from releasepilot.simulation.telemetry import FaultSpec, simulate_telemetry

RUNNER = CliRunner()
ONSET = 150


@pytest.fixture()
def series_csv(tmp_path):
    t = simulate_telemetry(240, seed=12, fault=FaultSpec("step", "latency_p99", ONSET, 1.0))
    path = tmp_path / "latency.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "p99_ms", "rps"])
        for when, value, load in zip(t.timestamps, t.canary["latency_p99"], t.baseline["throughput"]):
            writer.writerow([when.isoformat(), f"{value:.3f}", f"{load:.1f}"])
    return path


def test_json_scores_every_row_and_alarms_after_the_fault(series_csv):
    result = RUNNER.invoke(app, ["detect", "--csv", str(series_csv), "--time-col", "timestamp",
                                 "--value-col", "p99_ms", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    rows = document["rows"]
    assert len(rows) == 240 and document["summary"]["rows"] == 240
    alarms = [i for i, row in enumerate(rows) if row["alarm"]]
    assert alarms and min(alarms) >= ONSET and min(alarms) <= ONSET + 5
    assert document["summary"]["first_alarm_time"] == rows[min(alarms)]["time"]
    assert all(row["score"] is not None for row in rows)


def test_out_csv_matches_json_and_covariate_option(series_csv, tmp_path):
    out = tmp_path / "scores" / "out.csv"
    result = RUNNER.invoke(app, ["detect", "--csv", str(series_csv), "--time-col", "timestamp",
                                 "--value-col", "p99_ms", "--covariate-col", "rps", "--elasticity", "0.3",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    assert frame.columns == ["time", "value", "expected", "z", "cusum", "score", "alarm", "reason"]
    assert frame.height == 240 and frame["alarm"].sum() >= 1
    assert "Anomaly detection" in result.stdout


def test_no_look_ahead_through_the_command(series_csv, tmp_path):
    short = tmp_path / "short.csv"
    pl.read_csv(series_csv).head(120).write_csv(short)
    args = ["--time-col", "timestamp", "--value-col", "p99_ms", "--json"]
    full_rows = json.loads(RUNNER.invoke(app, ["detect", "--csv", str(series_csv), *args]).stdout)["rows"]
    short_rows = json.loads(RUNNER.invoke(app, ["detect", "--csv", str(short), *args]).stdout)["rows"]
    assert short_rows == full_rows[:120]


@pytest.mark.parametrize(("content", "column", "message"), [
    ("timestamp,p99_ms\n2025-01-01T00:00:00Z,1\n", "nope", "no column 'nope'"),
    ("timestamp,p99_ms\n2025-01-01T00:00:00Z,1\n2025-01-01T00:01:00Z,fast\n", "p99_ms", "row 2"),
    ("timestamp,p99_ms\n2025-01-01T00:01:00Z,1\n2025-01-01T00:00:00Z,2\n", "p99_ms", "timestamps must increase"),
    ("timestamp,p99_ms\nyesterday,1\n", "p99_ms", "expected an ISO timestamp"),
])
def test_bad_input_names_file_row_or_column_and_writes_nothing(tmp_path, content, column, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    out = tmp_path / "out.csv"
    result = RUNNER.invoke(app, ["detect", "--csv", str(path), "--time-col", "timestamp", "--value-col", column,
                                 "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output and "bad.csv" in result.output
    assert not out.exists()


def test_missing_file(tmp_path):
    result = RUNNER.invoke(app, ["detect", "--csv", str(tmp_path / "none.csv"), "--time-col", "t",
                                 "--value-col", "v"])
    assert result.exit_code == 2 and "file not found" in result.output
