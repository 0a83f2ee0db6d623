"""Ingest: read every source, validate it with Great Expectations, load DuckDB `raw.*` in one transaction.

The library entry point behind `releasepilot ingest` and the Prefect flow. The order is strict so that
bad input writes nothing: (1) read and parse every source (a file that cannot be understood raises
`InputError`), (2) in one DuckDB transaction, keep only rows whose natural key is new, validate them
with GX, insert the good rows in bulk and keep the rejected ones in `raw.rejected` with their reason,
then log one `raw.ingest_runs` row per table. Re-running adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from releasepilot.errors import InputError
from releasepilot.sources import GitLogSource, Source, folder_sources
from releasepilot.sources.schema import INGEST_RUNS, LOAD_ORDER, RAW_TABLES, REJECTED

ProgressCallback = Callable[[str, int, int], None]
SOURCE_COLUMN = "_source"        # where a row came from, carried until load time (not stored)
ORPHAN_REASON = "sha: commit not loaded (rejected, or missing from commits)"


@dataclass
class IngestRequest:
    """What to ingest: a history folder, extra git repositories, a catalog folder, and where to load it."""

    source_dir: Path
    git_repos: list[Path] = field(default_factory=list)
    catalog_dir: Path | None = None
    warehouse: Path | None = None

    def resolved_warehouse(self) -> Path:
        if self.warehouse is not None:
            return Path(self.warehouse)
        from releasepilot.config import get_settings

        return get_settings().warehouse_path


@dataclass
class TableReport:
    """Counts for one raw table in one run."""

    table_name: str
    source: str
    rows_read: int
    rows_already_present: int
    rows_inserted: int
    rows_rejected: int


@dataclass
class IngestReport:
    """What a run did: per-table counts, skipped sources, failed GX checks, and timings."""

    run_id: str
    warehouse: str
    tables: list[TableReport]
    notes: list[str]
    failed_checks: list[dict]
    seconds: dict[str, float]

    def as_dict(self) -> dict:
        return asdict(self)

    def table(self, name: str) -> TableReport:
        return next(t for t in self.tables if t.table_name == name)


def utc_now() -> dt.datetime:
    """Now, as a naive UTC timestamp (how the warehouse stores time)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def plan_sources(request: IngestRequest) -> tuple[list[Source], list[str]]:
    """The sources to read and notes about absent ones; `InputError` when there is nothing at all."""
    candidates = folder_sources(Path(request.source_dir), request.catalog_dir)
    present = [s for s in candidates if s.available()]
    notes = [f"{s.name}: not found at {s.path}, skipped" for s in candidates if not s.available()]
    git = [GitLogSource.from_spec(repo) for repo in request.git_repos]
    if not present and not git:
        expected = ", ".join(str(s.path.name) for s in candidates)
        raise InputError(f"no history sources found; expected at least one of {expected} (or --git-repo)",
                         source=str(request.source_dir))
    return present + git, notes


def read_sources(sources: list[Source], on_progress: ProgressCallback
                 ) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """Read every source: frames of the same table stacked (each row tagged with its source file), and
    a label per table naming the sources it came from."""
    parts: dict[str, list[pl.DataFrame]] = {}
    labels: dict[str, list[str]] = {}
    for done, source in enumerate(sources, start=1):
        for table, frame in source.read().items():
            tag = pl.col("source_file") if table == "services" else pl.lit(str(source.path))
            parts.setdefault(table, []).append(frame.with_columns(tag.alias(SOURCE_COLUMN)))
            labels.setdefault(table, []).append(str(source.path))
        on_progress("read sources", done, len(sources))
    frames = {table: pl.concat(frames, how="vertical") for table, frames in parts.items()}
    return frames, {table: ", ".join(names) for table, names in labels.items()}


def run_ingest(request: IngestRequest, on_progress: ProgressCallback | None = None) -> IngestReport:
    """Read, validate and load; returns the per-table report. Raises `InputError` and writes nothing on
    unreadable input."""
    from releasepilot.quality import shared_validator
    from releasepilot.warehouse import connect

    progress = on_progress or (lambda stage, done, total: None)
    clock = {"start": time.perf_counter()}
    started = utc_now()
    sources, notes = plan_sources(request)
    # GX takes seconds to import: build the validator in a thread while polars reads the files.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gx-import") as pool:
        pending = pool.submit(shared_validator)
        frames, labels = read_sources(sources, progress)
        clock["read"] = time.perf_counter()
        validator = pending.result()
    clock["gx_setup"] = time.perf_counter()
    run_id = uuid.uuid4().hex
    with connect(request.resolved_warehouse()) as con:
        con.begin()
        try:
            ensure_tables(con)
            loader = _Loader(con, validator, started, labels)
            tables = [t for t in LOAD_ORDER if t in frames]
            for done, table in enumerate(tables, start=1):
                loader.load(table, frames[table])
                progress("validate and load", done, len(tables))
            log_runs(con, run_id, started, loader.reports)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    clock["load"] = time.perf_counter()
    seconds = {"read": clock["read"] - clock["start"], "gx_setup": clock["gx_setup"] - clock["read"],
               "validate_and_load": clock["load"] - clock["gx_setup"], "total": clock["load"] - clock["start"]}
    return IngestReport(run_id, str(request.resolved_warehouse()), loader.reports, notes,
                        [asdict(c) for c in loader.checks if not c.success],
                        {k: round(v, 3) for k, v in seconds.items()})


def run_sql(con, sql: str, params: list | None = None) -> list[tuple]:
    """Execute and fetch everything (DuckDB 2 blocks the next query while a result is unfinished)."""
    return con.execute(sql, params or []).fetchall()


def ensure_tables(con) -> None:
    """Create schema `raw` and every raw table that is missing."""
    run_sql(con, "CREATE SCHEMA IF NOT EXISTS raw")
    for spec in (*RAW_TABLES.values(), REJECTED, INGEST_RUNS):
        run_sql(con, spec.ddl())


def new_rows(con, table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Rows whose natural key is not yet in `raw.<table>` (DuckDB anti-join on the key)."""
    if not run_sql(con, f"SELECT EXISTS (SELECT 1 FROM raw.{table})")[0][0]:
        return frame
    keys = ", ".join(RAW_TABLES[table].key)
    con.register("incoming_rows", frame)
    try:
        return con.sql(f"SELECT i.* FROM incoming_rows i ANTI JOIN raw.{table} USING ({keys})").pl()
    finally:
        con.unregister("incoming_rows")


def insert_frame(con, table: str, frame: pl.DataFrame, ingested_at: dt.datetime) -> None:
    """Bulk insert a frame (Arrow scan, no row loop), stamping `_ingested_at`."""
    if frame.height == 0:
        return
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    con.register("rows_to_insert", frame)
    try:
        run_sql(con, f"INSERT INTO raw.{table} ({columns}, _ingested_at) SELECT {columns}, ? FROM rows_to_insert",
                [ingested_at])
    finally:
        con.unregister("rows_to_insert")


def rejected_records(table: str, rejected: pl.DataFrame, at: dt.datetime) -> pl.DataFrame:
    """`raw.rejected` rows: table, reason, the row as JSON, its source file, when."""
    columns = list(RAW_TABLES[table].columns)
    return rejected.select(
        pl.lit(table).alias("table_name"), pl.col("reason"),
        pl.struct(columns).struct.json_encode().alias("row_json"),
        pl.col(SOURCE_COLUMN).alias("source_file"), pl.lit(at).alias("rejected_at"),
    ).unique(["table_name", "reason", "row_json"], keep="first", maintain_order=True)


class _Loader:
    """Validates and loads tables one at a time inside the caller's transaction."""

    def __init__(self, con, validator, started: dt.datetime, labels: dict[str, str]):
        self.con, self.validator, self.started = con, validator, started
        self.labels = labels
        self.reports: list[TableReport] = []
        self.checks: list = []

    def known_services(self) -> frozenset[str] | None:
        """Services in `raw.services` (this run's good ones included), or None when there are none."""
        names = [r[0] for r in run_sql(self.con, "SELECT service FROM raw.services")]
        return frozenset(names) if names else None

    def load(self, table: str, frame: pl.DataFrame) -> None:
        from releasepilot.quality import orphans, rules_for

        fresh = new_rows(self.con, table, frame)
        early_rejects = fresh.head(0).with_columns(pl.lit(None, pl.String).alias("reason"))
        if table == "commit_files":
            known = self.con.sql("SELECT sha FROM raw.commits").pl()["sha"]
            mask = orphans(fresh, "sha", known)
            early_rejects = fresh.filter(mask).with_columns(pl.lit(ORPHAN_REASON).alias("reason"))
            fresh = fresh.filter(~mask)
        rules = rules_for(table, now=utc_now(), known_services=self.known_services())
        label = self.labels[table]
        verdict = self.validator.validate(table, fresh, rules, source=label)
        self.checks.extend(verdict.checks)
        insert_frame(self.con, table, verdict.good.drop(SOURCE_COLUMN), self.started)
        rejected = pl.concat([early_rejects, verdict.rejected], how="vertical")
        self.store_rejected(table, rejected)
        self.reports.append(TableReport(table, label, frame.height, frame.height - fresh.height - early_rejects.height,
                                        verdict.good.height, rejected.height))

    def store_rejected(self, table: str, rejected: pl.DataFrame) -> None:
        """Append rejected rows not already recorded with the same reason (re-runs add nothing twice)."""
        if rejected.height == 0:
            return
        records = rejected_records(table, rejected, self.started)
        self.con.register("rejected_rows", records)
        try:
            run_sql(
                self.con,
                "INSERT INTO raw.rejected (table_name, reason, row_json, source_file, rejected_at, _ingested_at) "
                "SELECT r.*, r.rejected_at FROM rejected_rows r "
                "ANTI JOIN raw.rejected USING (table_name, reason, row_json)")
        finally:
            self.con.unregister("rejected_rows")


def log_runs(con, run_id: str, started: dt.datetime, reports: list[TableReport]) -> None:
    """One `raw.ingest_runs` row per table read in this run."""
    finished = utc_now()
    runs = pl.DataFrame(
        [(run_id, started, finished, r.source, r.table_name, r.rows_read, r.rows_inserted, r.rows_rejected)
         for r in reports], schema=INGEST_RUNS.schema, orient="row")
    insert_frame(con, "ingest_runs", runs, finished)
