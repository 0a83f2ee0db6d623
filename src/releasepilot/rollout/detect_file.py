"""Run the streaming detector over an exported metric series (a CSV, one row per timestamp).

Used by `releasepilot detect`: reads the file with polars, checks the columns and the time order, scores
every row with the same detector the rollout uses (each row judged only on the rows before it), and
writes the per-row scores as a CSV, atomically (nothing partial on error).
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasepilot.errors import InputError
from releasepilot.rollout.detector import DetectorConfig, StreamingDetector

OUTPUT_COLUMNS = ("time", "value", "expected", "z", "cusum", "score", "alarm", "reason")


@dataclass
class DetectionReport:
    """Per-row scores and a summary of one series."""

    source: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    config: DetectorConfig = field(default_factory=DetectorConfig)

    @property
    def alarms(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["alarm"]]

    def summary(self) -> dict[str, Any]:
        scores = [row["score"] for row in self.rows if row["score"] is not None]
        alarms = self.alarms
        return {
            "source": self.source,
            "rows": len(self.rows),
            "alarms": len(alarms),
            "first_alarm_time": alarms[0]["time"] if alarms else None,
            "max_score": max(scores) if scores else None,
            "direction": self.config.direction,
            "cusum_h": self.config.cusum_h,
            "spike_z": self.config.spike_z,
        }


def _read(path: Path, time_col: str, value_col: str, covariate_col: str | None):
    import polars as pl

    if not path.is_file():
        raise InputError("file not found", source=str(path))
    try:
        frame = pl.read_csv(path, infer_schema_length=10000)
    except Exception as exc:  # polars raises several error types for malformed CSV
        raise InputError(f"not a readable CSV: {exc}", source=str(path)) from exc
    for column in (time_col, value_col, covariate_col):
        if column is not None and column not in frame.columns:
            raise InputError(f"no column {column!r}; columns are {', '.join(frame.columns)}", source=str(path),
                             field=column)
    if frame.height == 0:
        raise InputError("no rows", source=str(path))
    return frame


def _numeric(frame, column: str, path: Path) -> list[float | None]:
    import polars as pl

    series = frame[column]
    if series.dtype.is_numeric():
        return [None if v is None else float(v) for v in series.to_list()]
    cast = series.cast(pl.Float64, strict=False)
    bad = (cast.is_null() & series.is_not_null()).arg_true()
    if len(bad):
        row = int(bad[0])
        raise InputError(f"expected a number, got {series[row]!r}", source=str(path), row=row + 1, field=column)
    return cast.to_list()


def _times(frame, column: str, path: Path) -> list[Any]:
    import polars as pl

    series = frame[column]
    if series.dtype == pl.String:
        parsed = series.str.to_datetime(strict=False, time_zone="UTC")
        bad = (parsed.is_null() & series.is_not_null()).arg_true()
        if len(bad) or series.null_count():
            row = int(bad[0]) if len(bad) else int(series.is_null().arg_true()[0])
            raise InputError(f"expected an ISO timestamp, got {series[row]!r}", source=str(path), row=row + 1,
                             field=column)
        series = parsed
    elif series.null_count():
        row = int(series.is_null().arg_true()[0])
        raise InputError("empty timestamp", source=str(path), row=row + 1, field=column)
    values = series.to_list()
    for i in range(1, len(values)):
        if values[i] <= values[i - 1]:
            raise InputError(f"timestamps must increase (one row per timestamp, in time order): "
                             f"{values[i]} after {values[i - 1]}", source=str(path), row=i + 1, field=column)
    return values


def _finite(x: float) -> float | None:
    """NaN becomes None (null in JSON and CSV)."""
    return None if math.isnan(x) else float(x)


def detect_csv(path: Path, time_col: str, value_col: str, *, covariate_col: str | None = None,
               config: DetectorConfig | None = None) -> DetectionReport:
    """Score every row of a metric CSV; rows must be in increasing time order."""
    path = Path(path)
    config = config or DetectorConfig()
    frame = _read(path, time_col, value_col, covariate_col)
    times = _times(frame, time_col, path)
    values = _numeric(frame, value_col, path)
    covariates = _numeric(frame, covariate_col, path) if covariate_col else [None] * len(values)
    detector = StreamingDetector(config)
    report = DetectionReport(str(path), config=config)
    for when, value, cov in zip(times, values, covariates):
        point = detector.update(float("nan") if value is None else value, cov)
        report.rows.append({
            "time": when.isoformat() if hasattr(when, "isoformat") else when,
            "value": value, "expected": _finite(point.expected), "z": _finite(point.z),
            "cusum": _finite(point.cusum), "score": _finite(point.score), "alarm": point.alarm,
            "reason": point.reason,
        })
    return report


def write_scores(report: DetectionReport, out: Path) -> None:
    """Write the per-row scores as CSV, via a temporary file renamed into place."""
    import polars as pl

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    types = {"time": pl.String, "value": pl.Float64, "expected": pl.Float64, "z": pl.Float64,
             "cusum": pl.Float64, "score": pl.Float64, "alarm": pl.Boolean, "reason": pl.String}
    columns = {name: [str(r[name]) if name == "time" else r[name] for r in report.rows] for name in OUTPUT_COLUMNS}
    frame = pl.DataFrame(columns, schema=types)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.write_csv(tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
