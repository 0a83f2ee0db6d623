"""Bring your own history: evaluate the change-risk model on a CSV of Kamei-style commit metrics.

Row numbers in errors count data rows from 1 (the header is not a row).

Reads a CSV, maps the common spellings of the Kamei et al. (2013) metrics to ours, parses the time column
(unix seconds or ISO dates) and a 0/1 or true/false label, trains the change model on the oldest 80% of
the rows and reports its metrics on the newest 20%, next to a logistic regression and the other baselines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from releasepilot.errors import InputError
from releasepilot.risk.spec import ModelSpec, SplitSpec

KAMEI = ("ns", "nd", "nf", "entropy", "la", "ld", "lt", "fix", "ndev", "age", "nuc", "exp", "rexp", "sexp")
ALIASES: dict[str, str] = {
    "ent": "entropy", "aexp": "exp", "arexp": "rexp", "asexp": "sexp",
    "lines_added": "la", "added": "la", "lines_deleted": "ld", "deleted": "ld", "lines_total": "lt",
    "is_fix": "fix", "bugfix": "fix", "bug_fix": "fix", "ndevs": "ndev", "n_devs": "ndev",
    "unique_changes": "nuc", "subsystems": "ns", "directories": "nd", "files": "nf",
}
IGNORED = ("sha", "commit", "commit_id", "commit_hash", "hash", "id", "author", "author_email", "repo",
           "project", "service", "message", "transactionid")
MIN_METRICS = 5
TEST_FRACTION = 0.2
TRUE_WORDS = ("1", "true", "t", "yes", "y")
FALSE_WORDS = ("0", "false", "f", "no", "n")
UNIX_MS_ABOVE = 1e11     # numeric times larger than this are milliseconds
TIME, LABEL = "_time", "_label"


def canonical(name: str) -> str:
    key = name.strip().lower()
    return ALIASES.get(key, key)


def parse_flags(series: pl.Series, source: str) -> pl.Series:
    """0/1, true/false, yes/no (any case) as booleans; anything else is an error naming the row."""
    if series.dtype == pl.Boolean:
        values = series
    else:
        text = series.cast(pl.Utf8).str.strip_chars().str.to_lowercase()
        text = text.str.replace(r"^(\d+)\.0+$", "$1")
        values = pl.Series(series.name, [None if t is None else (t in TRUE_WORDS) for t in text.to_list()])
        bad = text.is_not_null() & ~text.is_in(TRUE_WORDS + FALSE_WORDS)
        if bad.any():
            row = int(bad.arg_true()[0])
            raise InputError(f"expected 0/1 or true/false, got {text[row]!r}", source=source, row=row + 1,
                             field=series.name)
    if values.null_count():
        row = int(values.is_null().arg_true()[0])
        raise InputError("empty value", source=source, row=row + 1, field=series.name)
    return values.cast(pl.Boolean)


def parse_time(series: pl.Series, source: str) -> pl.Series:
    """Unix seconds (or milliseconds) or ISO dates/datetimes, as UTC datetimes."""
    if series.dtype.is_numeric():
        seconds = series.cast(pl.Float64)
        seconds = pl.Series(series.name, [None if v is None else (v / 1000 if v > UNIX_MS_ABOVE else v)
                                          for v in seconds.to_list()])
        parsed = pl.from_epoch((seconds * 1_000_000).cast(pl.Int64), time_unit="us")
    else:
        text = series.cast(pl.Utf8).str.strip_chars()
        parsed = text.str.to_datetime(strict=False, time_zone="UTC")
        if parsed.null_count() > text.null_count():
            parsed = pl.Series([_iso(v) for v in text.to_list()]).dt.replace_time_zone("UTC")
        parsed = parsed.dt.replace_time_zone(None)  # naive UTC, as in the warehouse
    if parsed.null_count():
        row = int(parsed.is_null().arg_true()[0])
        raise InputError(f"expected unix seconds or an ISO date, got {series[row]!r}", source=source,
                         row=row + 1, field=series.name)
    return parsed.alias(TIME)


def _iso(value: str | None):
    from datetime import UTC, datetime

    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def prepare(frame: pl.DataFrame, *, time_col: str, label_col: str, source: str,
            ignore_unknown: bool = False) -> tuple[pl.DataFrame, list[str]]:
    """Rename, type and check the columns; return (frame with _time, _label and metrics, metrics found)."""
    needed = f"needed: --time-col, --label-col and at least {MIN_METRICS} of {list(KAMEI)} " \
             f"(also accepted: {sorted(ALIASES)})"
    found = list(frame.columns)
    for col, what in ((time_col, "time"), (label_col, "label")):
        if col not in found:
            raise InputError(f"{what} column '{col}' not found; found {found}; {needed}", source=source)
    metric_cols: dict[str, str] = {}
    unknown = []
    for col in found:
        if col in (time_col, label_col):
            continue
        name = canonical(col)
        if name in KAMEI and name not in metric_cols:
            metric_cols[name] = col
        elif name not in IGNORED:
            unknown.append(col)
    if unknown and not ignore_unknown:
        raise InputError(f"unknown columns {unknown}; found {found}; {needed} "
                         "(pass --ignore-unknown to skip them)", source=source)
    if len(metric_cols) < MIN_METRICS:
        missing = [m for m in KAMEI if m not in metric_cols]
        raise InputError(f"only {len(metric_cols)} Kamei metrics recognised ({sorted(metric_cols)}); "
                         f"missing {missing}; found {found}; {needed}", source=source)
    columns = [parse_time(frame[time_col], source), parse_flags(frame[label_col], source).alias(LABEL)]
    for name, col in metric_cols.items():
        series = frame[col]
        if name == "fix" and not series.dtype.is_numeric():
            columns.append(parse_flags(series, source).cast(pl.Float64).alias(name))
            continue
        cast = series.cast(pl.Float64, strict=False)
        if cast.null_count() > series.null_count():
            row = int((cast.is_null() & series.is_not_null()).arg_true()[0])
            raise InputError(f"expected a number, got {series[row]!r}", source=source, row=row + 1, field=col)
        columns.append(cast.alias(name))
    metrics = [m for m in KAMEI if m in metric_cols]
    return pl.DataFrame(columns).with_row_index("_row"), metrics


def evaluation_spec(base: ModelSpec, metrics: list[str]) -> ModelSpec:
    """The change spec restricted to the CSV's metrics, on _time/_label, 80/20 by time."""
    spec = base.with_features(metrics)
    return spec.model_copy(update={
        "name": "change_risk_evaluation", "table": "csv", "key": "_row", "time_column": TIME, "target": LABEL,
        "label_known_column": None, "group_column": None, "service_column": None,
        "split": SplitSpec(validation_fraction=TEST_FRACTION,
                           calibration_fraction=base.split.calibration_fraction,
                           stacking_folds=base.split.stacking_folds)})


@dataclass
class EvaluationReport:
    source: str
    rows: int
    train_rows: int
    test_rows: int
    metrics_used: list[str]
    model: dict[str, float]
    baselines: dict[str, dict[str, float]]
    calibration: str
    seconds: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def evaluate_frame(frame: pl.DataFrame, *, time_col: str, label_col: str, spec: ModelSpec,
                   source: str = "frame", ignore_unknown: bool = False) -> EvaluationReport:
    """Train on the oldest 80% (by time), report metrics on the newest 20%."""
    from releasepilot.risk.train import train_model

    rows, metrics = prepare(frame, time_col=time_col, label_col=label_col, source=source,
                            ignore_unknown=ignore_unknown)
    trained = train_model(rows, evaluation_spec(spec, metrics))
    return EvaluationReport(
        source=source, rows=rows.height, train_rows=trained.sizes["train"] + trained.sizes["calibration"],
        test_rows=trained.sizes["validation"], metrics_used=metrics, model=trained.metrics,
        baselines=trained.baselines, calibration=trained.calibration.reason, seconds=trained.seconds)


def evaluate_csv(path: Path | str, *, time_col: str, label_col: str, spec: ModelSpec | None = None,
                 ignore_unknown: bool = False) -> EvaluationReport:
    """Read a CSV of commit metrics and evaluate the change model on it (see `evaluate_frame`)."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", source=str(path))
    try:
        frame = pl.read_csv(path, infer_schema_length=10000)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise InputError(f"not a readable CSV: {exc}", source=str(path)) from None
    if spec is None:
        from releasepilot.risk.spec import load_specs

        spec = load_specs()["change_risk"]
    return evaluate_frame(frame, time_col=time_col, label_col=label_col, spec=spec, source=str(path),
                          ignore_unknown=ignore_unknown)
