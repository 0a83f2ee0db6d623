"""The DuckDB warehouse: one file, opened briefly.

DuckDB lets one process hold the file at a time (dbt, the API, a rollout and the CLI all need it), so every
caller opens a connection for the work at hand and closes it, and opening waits a little while another
process holds the file (`LOCK_WAIT_SECONDS`, overridable with RELEASEPILOT_LOCK_WAIT).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

LOCK_WAIT_SECONDS = 30.0
LOCK_RETRY_SECONDS = 0.05


def open_connection(path: Path | str, *, read_only: bool = False,
                    wait_seconds: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying while another process holds its lock; the caller closes it."""
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"warehouse {path} does not exist: run `releasepilot ingest` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    if wait_seconds is None:
        wait_seconds = float(os.environ.get("RELEASEPILOT_LOCK_WAIT", LOCK_WAIT_SECONDS))
    deadline = time.monotonic() + wait_seconds
    delay = LOCK_RETRY_SECONDS
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


@contextmanager
def connect(path: Path | str, *, read_only: bool = False,
            wait_seconds: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (waiting for another process's lock) and always close it."""
    con = open_connection(path, read_only=read_only, wait_seconds=wait_seconds)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute(
        "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return bool(rows)


def row_count(con: duckdb.DuckDBPyConnection, qualified_table: str) -> int:
    return int(con.execute(f"select count(*) from {qualified_table}").fetchone()[0])


def query_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """Rows as dicts, on a cursor of its own (so an unfinished result never blocks the connection)."""
    cur = con.cursor()
    try:
        result = cur.execute(sql, params or [])
        columns = [d[0] for d in result.description]
        return [dict(zip(columns, row)) for row in result.fetchall()]
    finally:
        cur.close()


MART_TABLES = ("change_features", "release_features")


@contextmanager
def connect_marts(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a warehouse whose feature marts are built, or NotReadyError saying which
    step to run first."""
    from releasepilot.errors import NotReadyError

    path = Path(path)
    if not path.exists():
        raise NotReadyError(f"warehouse {path} does not exist: run `releasepilot ingest` and `build` first")
    with connect(path, read_only=True) as con:
        for table in MART_TABLES:
            if not table_exists(con, "marts", table):
                raise NotReadyError(f"marts.{table} is missing in {path}: run `releasepilot build` first")
        yield con
