"""The raw tables of the warehouse: columns, types and natural keys, in one place.

This is `docs/data_model.md` in code. Readers return frames with exactly these columns and types,
the quality suites check them, and ingest creates the DuckDB tables from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

TS = pl.Datetime("us")
TEXT_LIST = pl.List(pl.String)

_DUCKDB_TYPES: dict[object, str] = {
    pl.String: "VARCHAR",
    pl.Int64: "BIGINT",
    TS: "TIMESTAMP",
    TEXT_LIST: "VARCHAR[]",
}


@dataclass(frozen=True)
class TableSpec:
    """One raw table: its name (without schema), typed columns and natural key."""

    name: str
    columns: dict[str, pl.DataType]
    key: tuple[str, ...]

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema(self.columns)

    def timestamp_columns(self) -> list[str]:
        return [c for c, t in self.columns.items() if t == TS]

    def ddl(self) -> str:
        """`CREATE TABLE IF NOT EXISTS raw.<name>` with `_ingested_at` appended."""
        cols = [f'"{c}" {_DUCKDB_TYPES[t]}' for c, t in self.columns.items()]
        cols.append('"_ingested_at" TIMESTAMP')
        return f"CREATE TABLE IF NOT EXISTS raw.{self.name} ({', '.join(cols)})"

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)


def _spec(table: str, key: tuple[str, ...], /, **columns: pl.DataType) -> TableSpec:
    return TableSpec(name=table, columns=dict(columns), key=key)


S, I = pl.String, pl.Int64

RAW_TABLES: dict[str, TableSpec] = {t.name: t for t in (
    _spec("services", ("service",), service=S, description=S, type=S, lifecycle=S, owner=S, system=S,
          tier=I, layer=S, regions=TEXT_LIST, tenants=TEXT_LIST, depends_on=TEXT_LIST,
          contract_tests=TEXT_LIST, source_file=S),
    _spec("team_members", ("team", "user_name"), team=S, user_name=S),
    _spec("commits", ("sha",), sha=S, repo=S, author=S, authored_at=TS, message=S),
    _spec("commit_files", ("sha", "path"), sha=S, path=S, added=I, deleted=I),
    _spec("deployments", ("deployment_id",), deployment_id=S, service=S, version=S, commit_from=S,
          commit_to=S, started_at=TS, finished_at=TS, environment=S, deployer=S, status=S),
    _spec("incidents", ("incident_id",), incident_id=S, service=S, title=S, severity=S, created_at=TS,
          acknowledged_at=TS, resolved_at=TS, deployment_id=S),
    _spec("oncall", ("team", "user_name", "starts_at"), team=S, user_name=S, starts_at=TS, ends_at=TS),
    _spec("traffic", ("hour", "service", "region"), hour=TS, service=S, region=S, requests=I),
    _spec("freezes", ("freeze_id",), freeze_id=S, name=S, starts_at=TS, ends_at=TS, scope=S, reason=S),
)}

# Bookkeeping tables: written by ingest, not by readers.
REJECTED = _spec("rejected", (), table_name=S, reason=S, row_json=S, source_file=S, rejected_at=TS)
INGEST_RUNS = _spec("ingest_runs", ("run_id",), run_id=S, started_at=TS, finished_at=TS, source=S,
                    table_name=S, rows_read=I, rows_inserted=I, rows_rejected=I)

# The order tables are written in: referenced tables first.
LOAD_ORDER = ("services", "team_members", "commits", "commit_files", "deployments", "incidents",
              "oncall", "traffic", "freezes")
