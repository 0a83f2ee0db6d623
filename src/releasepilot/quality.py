"""Data quality for the raw tables: Great Expectations suites defined in code, one per raw table.

`rules_for` is a pure function that says what each table must satisfy (keys unique and present,
timestamps between 2000 and now, finished after started, accepted statuses and severities, references
to known services, non-negative counts, column types). `Validator` turns the rules into a GX
expectation suite, validates a frame with GX (ephemeral context, pandas datasource) and splits it into
good and rejected rows. GX is both the validator and the row finder: results are requested with
`result_format="COMPLETE"` and the rejected rows are exactly GX's `unexpected_index_list`. A failed
table-level expectation (a column of the wrong type) has no rows to blame and raises `InputError`.

Great Expectations is imported inside `Validator` (it takes ~7 s), once per ingest run.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from releasepilot.errors import InputError
from releasepilot.sources.schema import RAW_TABLES, TS

EARLIEST_TIMESTAMP = dt.datetime(2000, 1, 1)
DEPLOY_STATUSES = ("succeeded", "rolled_back", "failed")
ENVIRONMENTS = ("production", "staging")
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
SERVICE_TYPES = ("service", "library", "database")
LAYERS = ("edge", "gateway", "domain", "library", "datastore")
TIERS = (1, 2, 3)
INT_TYPES = ["int64", "float64"]          # float64 when a nullable count column holds nulls
TIMESTAMP_TYPES = ["datetime64[ns]"]
# pandas holds nanoseconds (years 1677-2262); values outside are clipped to a bound, which is still
# outside [EARLIEST_TIMESTAMP, now] and so still fails the range rule.
_PANDAS_MIN, _PANDAS_MAX = dt.datetime(1678, 1, 1), dt.datetime(2261, 12, 31)

# Tables that are schedules: planned rows may lie ahead of now (on-call rotations and freezes are published
# weeks in advance, and planning needs them), up to this far.
SCHEDULE_AHEAD = {"oncall": dt.timedelta(days=366), "freezes": dt.timedelta(days=366)}

# (table, column) pairs that must name a known service.
SERVICE_REFERENCES = {"deployments": "service", "incidents": "service", "commits": "repo", "traffic": "service"}
# (table, later, earlier, strictly later?) pairs.
ORDERED_TIMESTAMPS = (
    ("deployments", "finished_at", "started_at", False),
    ("incidents", "acknowledged_at", "created_at", False),
    ("incidents", "resolved_at", "created_at", False),
    ("oncall", "ends_at", "starts_at", True),
    ("freezes", "ends_at", "starts_at", False),
)
ACCEPTED_VALUES = {
    ("deployments", "status"): DEPLOY_STATUSES,
    ("deployments", "environment"): ENVIRONMENTS,
    ("incidents", "severity"): SEVERITIES,
    ("services", "type"): SERVICE_TYPES,
    ("services", "layer"): LAYERS,
    ("services", "tier"): TIERS,
}
REQUIRED_VALUES = {"deployments": ("service", "started_at", "status"), "incidents": ("service", "created_at"),
                   "oncall": ("ends_at",), "traffic": ("requests",), "freezes": ("starts_at", "ends_at"),
                   "commits": ("repo", "authored_at")}
NON_NEGATIVE = {"commit_files": ("added", "deleted"), "traffic": ("requests",)}


@dataclass(frozen=True)
class Rule:
    """One expectation: the GX class name, its arguments, and the reason stored with rejected rows."""

    expectation: str
    kwargs: dict[str, Any]
    reason: str
    row_level: bool = True

    @property
    def columns(self) -> list[str]:
        k = self.kwargs
        return k.get("column_list") or [c for c in (k.get("column"), k.get("column_A"), k.get("column_B")) if c]


def rules_for(table: str, *, now: dt.datetime, known_services: frozenset[str] | None = None) -> list[Rule]:
    """Everything a `raw.<table>` row must satisfy (pure: no GX needed)."""
    spec = RAW_TABLES[table]
    rules = [Rule("ExpectColumnValuesToNotBeNull", {"column": c}, f"{c}: key field is empty") for c in spec.key]
    rules += [Rule("ExpectColumnValuesToNotBeNull", {"column": c}, f"{c}: required value is empty")
              for c in REQUIRED_VALUES.get(table, ())]
    if len(spec.key) == 1:
        rules.append(Rule("ExpectColumnValuesToBeUnique", {"column": spec.key[0]},
                          f"{spec.key[0]}: duplicate key in this load"))
    else:
        rules.append(Rule("ExpectCompoundColumnsToBeUnique", {"column_list": list(spec.key)},
                          f"({', '.join(spec.key)}): duplicate key in this load"))
    latest = now + SCHEDULE_AHEAD.get(table, dt.timedelta(0))
    for column, dtype in spec.columns.items():
        if dtype == TS:
            rules.append(Rule("ExpectColumnValuesToBeBetween",
                              {"column": column, "min_value": EARLIEST_TIMESTAMP, "max_value": latest},
                              f"{column}: timestamp before {EARLIEST_TIMESTAMP:%Y-%m-%d} or in the future"
                              + (f" (more than {SCHEDULE_AHEAD[table].days} days ahead)"
                                 if table in SCHEDULE_AHEAD else "")))
            rules.append(Rule("ExpectColumnValuesToBeInTypeList", {"column": column, "type_list": TIMESTAMP_TYPES},
                              f"{column}: not a timestamp column", row_level=False))
        elif dtype == pl.Int64:
            rules.append(Rule("ExpectColumnValuesToBeInTypeList", {"column": column, "type_list": INT_TYPES},
                              f"{column}: not a number column", row_level=False))
    for column in NON_NEGATIVE.get(table, ()):
        rules.append(Rule("ExpectColumnValuesToBeBetween", {"column": column, "min_value": 0},
                          f"{column}: negative count"))
    for name, later, earlier, strict in ORDERED_TIMESTAMPS:
        if name == table:
            rules.append(Rule("ExpectColumnPairValuesAToBeGreaterThanB",
                              {"column_A": later, "column_B": earlier, "or_equal": not strict,
                               "ignore_row_if": "either_value_is_missing"},
                              f"{later}: before {earlier}" if not strict else f"{later}: not after {earlier}"))
    for (name, column), accepted in ACCEPTED_VALUES.items():
        if name == table:
            rules.append(Rule("ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(accepted)},
                              f"{column}: not one of {', '.join(map(str, accepted))}"))
    if known_services is not None and table in SERVICE_REFERENCES:
        column = SERVICE_REFERENCES[table]
        rules.append(Rule("ExpectColumnValuesToBeInSet", {"column": column, "value_set": sorted(known_services)},
                          f"{column}: unknown service (not in the catalog or raw.services)"))
    return rules


@dataclass(frozen=True)
class CheckResult:
    """What GX said about one expectation on one table."""

    table_name: str
    expectation: str
    columns: list[str]
    success: bool
    unexpected_count: int
    reason: str


@dataclass
class Verdict:
    """A validated frame split into the rows to load and the rows to reject (with a `reason` column)."""

    table_name: str
    good: pl.DataFrame
    rejected: pl.DataFrame
    checks: list[CheckResult] = field(default_factory=list)


def gx_frame(frame: pl.DataFrame, columns: list[str]):
    """The pandas frame GX validates: only the checked columns; text as categories, times in ns."""
    selected = frame.select(columns).with_columns(
        pl.col(pl.String).cast(pl.Categorical),
        pl.col(TS).clip(_PANDAS_MIN, _PANDAS_MAX),
    )
    pdf = selected.to_pandas()
    for column in selected.select(pl.col(TS)).columns:
        pdf[column] = pdf[column].astype("datetime64[ns]")
    return pdf


class Validator:
    """One ephemeral GX context for a whole ingest run (GX is imported here, once)."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self._datasource = self._context.data_sources.add_pandas("releasepilot_raw")
        self._counter = itertools.count()

    def suite(self, name: str, rules: list[Rule]):
        """A GX `ExpectationSuite` built from rules (each carries its reason in `meta`)."""
        suite = self._gx.ExpectationSuite(name=name)
        for rule in rules:
            cls = getattr(self._gx.expectations, rule.expectation)
            suite.add_expectation(cls(**rule.kwargs, meta={"reason": rule.reason}))
        return self._context.suites.add(suite)

    def validate(self, table: str, frame: pl.DataFrame, rules: list[Rule], *, source: str = "") -> Verdict:
        """Validate with GX; rows in any expectation's `unexpected_index_list` are rejected."""
        if frame.height == 0:
            return Verdict(table, frame, frame.with_columns(pl.lit(None, pl.String).alias("reason")).head(0))
        n = next(self._counter)
        suite = self.suite(f"raw_{table}_{n}", rules)
        asset = self._datasource.add_dataframe_asset(f"{table}_{n}")
        batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        columns = sorted({c for rule in rules for c in rule.columns}, key=list(frame.columns).index)
        batch = batch_definition.get_batch(batch_parameters={"dataframe": gx_frame(frame, columns)})
        result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
        checks, reasons = [], {}
        for item in result.results:
            config = item.expectation_config
            reason = (config.meta or {}).get("reason", config.type)
            details = item.result or {}
            if item.exception_info and item.exception_info.get("raised_exception"):
                raise RuntimeError(f"GX could not evaluate {config.type} on {table}: "
                                   f"{item.exception_info.get('exception_message')}")
            indexes = details.get("unexpected_index_list")
            if not item.success and indexes is None:
                raise InputError(f"table {table} failed {config.type}: {reason} "
                                 f"(observed {details.get('observed_value')!r})", source=source)
            for index in indexes or []:
                reasons.setdefault(_row_index(index), []).append(reason)
            checks.append(CheckResult(table, config.type, _config_columns(config.kwargs), bool(item.success),
                                      int(details.get("unexpected_count") or 0), reason))
        return split_rows(table, frame, reasons, checks)


@functools.lru_cache(maxsize=1)
def shared_validator() -> Validator:
    """One validator per process: the GX context is costly to build and holds no run state."""
    return Validator()


def _row_index(index: Any) -> int:
    return int(index["index"] if isinstance(index, dict) else index)


def _config_columns(kwargs: dict) -> list[str]:
    return list(kwargs.get("column_list") or [c for c in (kwargs.get("column"), kwargs.get("column_A"),
                                                          kwargs.get("column_B")) if c])


def split_rows(table: str, frame: pl.DataFrame, reasons: dict[int, list[str]],
               checks: list[CheckResult]) -> Verdict:
    """Split `frame` by row position: rows with reasons are rejected (reasons joined with '; ')."""
    if not reasons:
        return Verdict(table, frame, frame.head(0).with_columns(pl.lit(None, pl.String).alias("reason")), checks)
    bad = pl.DataFrame({"_row": list(reasons), "reason": ["; ".join(r) for r in reasons.values()]},
                       schema={"_row": pl.UInt32, "reason": pl.String})
    indexed = frame.with_row_index("_row")
    rejected = indexed.join(bad, on="_row", how="inner").sort("_row").drop("_row")
    good = indexed.join(bad, on="_row", how="anti").drop("_row")
    return Verdict(table, good, rejected, checks)


def orphans(frame: pl.DataFrame, column: str, known: pl.Series) -> pl.Series:
    """Mask of rows whose `column` is not in `known` (polars, not GX: `known` may hold 100k+ keys)."""
    return ~frame[column].is_in(known.implode()) if known.len() else pl.Series([True] * frame.height)
