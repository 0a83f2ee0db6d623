"""The DuckDB warehouse: one file, opened briefly.

DuckDB allows one writing process, and dbt needs the file when it runs, so every caller opens a
connection for the work at hand and closes it (use `connect` as a context manager).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


@contextmanager
def connect(path: Path | str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating its folder when writing) and always close it."""
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"warehouse {path} does not exist: run `releasepilot ingest` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
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
