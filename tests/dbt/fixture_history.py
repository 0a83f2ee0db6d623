"""A tiny hand-made history in the raw.* layout (docs/data_model.md) whose features are known by hand."""

from __future__ import annotations

from pathlib import Path

import duckdb

RAW_DDL = """
create schema if not exists raw;
create table raw.services (service varchar, description varchar, type varchar, lifecycle varchar, owner varchar,
    system varchar, tier varchar, layer varchar, regions varchar[], tenants varchar[], depends_on varchar[],
    contract_tests varchar[], source_file varchar, _ingested_at timestamp default current_timestamp);
create table raw.team_members (team varchar, user_name varchar, _ingested_at timestamp default current_timestamp);
create table raw.commits (sha varchar, repo varchar, author varchar, authored_at timestamp, message varchar,
    _ingested_at timestamp default current_timestamp);
create table raw.commit_files (sha varchar, path varchar, added integer, deleted integer,
    _ingested_at timestamp default current_timestamp);
create table raw.deployments (deployment_id varchar, service varchar, version varchar, commit_from varchar,
    commit_to varchar, started_at timestamp, finished_at timestamp, environment varchar, deployer varchar,
    status varchar, _ingested_at timestamp default current_timestamp);
create table raw.incidents (incident_id varchar, service varchar, title varchar, severity varchar,
    created_at timestamp, acknowledged_at timestamp, resolved_at timestamp, deployment_id varchar,
    _ingested_at timestamp default current_timestamp);
create table raw.oncall (team varchar, user_name varchar, starts_at timestamp, ends_at timestamp,
    _ingested_at timestamp default current_timestamp);
create table raw.traffic (hour timestamp, service varchar, region varchar, requests bigint,
    _ingested_at timestamp default current_timestamp);
create table raw.freezes (freeze_id varchar, name varchar, starts_at timestamp, ends_at timestamp, scope varchar,
    reason varchar, _ingested_at timestamp default current_timestamp);
"""

SERVICES = [
    ("api-a", "orders api", "service", "production", "group:default/team-a", "commerce", "1", "domain",
     ["us-east-1"], [], ["component:default/db-b", "component:lib-d"], [], "catalog/api-a/catalog-info.yaml"),
    ("db-b", "orders db", "database", "production", "team-b", "commerce", "2", "datastore",
     ["us-east-1"], [], [], [], "catalog/db-b/catalog-info.yaml"),
    ("web-c", "web shop", "service", "production", "group:team-a", "web", "1", "edge",
     ["us-east-1"], ["acme"], ["api-a"], ["api-a"], "catalog/web-c/catalog-info.yaml"),
    ("lib-d", "shared lib", "library", "production", "team-b", "commerce", "3", "library",
     [], [], [], [], "catalog/lib-d/catalog-info.yaml"),
]
TEAM_MEMBERS = [("team-a", "alice"), ("team-a", "bob"), ("team-b", "carol")]
COMMITS = [
    ("c1", "api-a", "alice", "2025-01-01 10:00", "feat(x): init"),
    ("c2", "api-a", "bob", "2025-01-02 10:00", "fix: bug in a"),
    ("c3", "api-a", "carol", "2025-01-03 10:00", "feat(y)!: breaking"),
    ("c4", "api-a", "alice", "2025-01-05 10:00", "chore: docs"),
    ("d1", "db-b", "carol", "2025-01-01 12:00", "feat: schema"),
    ("d2", "db-b", "carol", "2025-01-04 12:00", "fix: index\n\nBREAKING CHANGE: renamed"),
]
COMMIT_FILES = [
    ("c1", "src/core/a.py", 100, 0), ("c1", "api/openapi.yaml", 10, 0),
    ("c2", "src/core/a.py", 5, 3), ("c2", "tests/test_a.py", 20, 0),
    ("c3", "src/core/a.py", 10, 10), ("c3", "src/util/b.py", 30, 0),
    ("c4", "README.md", 1, 1), ("c4", "src/core/a.py", 2, 2),
    ("d1", "src/db/s.sql", 50, 0),
    ("d2", "api/schema.proto", 4, 1),
]
DEPLOYMENTS = [
    ("A1", "api-a", "1.0.0", "", "c2", "2025-01-02 12:00", "2025-01-02 12:30", "production", "ci", "succeeded"),
    ("A2", "api-a", "1.1.0", "c2", "c3", "2025-01-03 12:00", "2025-01-03 12:20", "production", "ci", "rolled_back"),
    ("A3", "api-a", "1.1.1", "c2", "c4", "2025-01-05 12:00", "2025-01-05 12:10", "production", "ci", "succeeded"),
    ("A4", "api-a", "1.1.2", "c4", "c4", "2025-01-07 12:00", "2025-01-07 13:30", "production", "ci", "succeeded"),
    ("S1", "api-a", "1.1.1", "", "c4", "2025-01-05 09:00", "2025-01-05 09:10", "staging", "ci", "failed"),
    ("B1", "db-b", "0.1.0", "", "d1", "2025-01-03 11:00", "2025-01-03 13:00", "production", "ci", "succeeded"),
    ("B2", "db-b", "0.2.0", "d1", "d2", "2025-01-06 09:00", "2025-01-06 09:30", "production", "ci", "succeeded"),
    ("W0", "web-c", "3.0.0", "", "", "2025-01-06 06:00", "2025-01-06 06:10", "production", "ci", "succeeded"),
    ("W1", "web-c", "3.0.1", "", "", "2025-01-07 13:00", "2025-01-07 13:20", "production", "ci", "succeeded"),
]
INCIDENTS = [
    ("I1", "api-a", "errors after 1.1.1", "SEV2", "2025-01-06 08:00", "2025-01-06 08:10", "2025-01-06 09:00", "A3"),
    ("I2", "api-a", "unknown blip", "SEV4", "2025-01-04 00:00", None, "2025-01-04 01:00", None),
]
ONCALL = [
    ("team-a", "alice", "2025-01-01 00:00", "2025-01-04 00:00"),
    ("team-a", "bob", "2025-01-03 00:00", "2025-01-05 00:00"),
    ("team-a", "alice", "2025-01-07 00:00", "2025-01-08 00:00"),
    ("team-b", "carol", "2025-01-06 00:00", "2025-01-07 00:00"),
]
TRAFFIC = [
    ("2025-01-05 09:00", "api-a", "r1", 100), ("2025-01-05 09:00", "api-a", "r2", 100),
    ("2025-01-05 10:00", "api-a", "r1", 50), ("2025-01-05 10:00", "api-a", "r2", 50),
    ("2025-01-05 11:00", "api-a", "r1", 300),
    ("2025-01-05 12:00", "api-a", "r1", 150),
]
FREEZES = [
    ("F1", "commerce freeze", "2025-01-07 00:00", "2025-01-08 00:00", "commerce", "sale"),
    ("F2", "new year", "2025-02-01 00:00", "2025-02-02 00:00", "all", "holiday"),
]

TABLES = {
    "services": (("service, description, type, lifecycle, owner, system, tier, layer, regions, tenants, "
                 "depends_on, contract_tests, source_file"), SERVICES),
    "team_members": ("team, user_name", TEAM_MEMBERS),
    "commits": ("sha, repo, author, authored_at, message", COMMITS),
    "commit_files": ("sha, path, added, deleted", COMMIT_FILES),
    "deployments": (("deployment_id, service, version, commit_from, commit_to, started_at, finished_at, "
                    "environment, deployer, status"), DEPLOYMENTS),
    "incidents": ("incident_id, service, title, severity, created_at, acknowledged_at, resolved_at, deployment_id",
                  INCIDENTS),
    "oncall": ("team, user_name, starts_at, ends_at", ONCALL),
    "traffic": ("hour, service, region, requests", TRAFFIC),
    "freezes": ("freeze_id, name, starts_at, ends_at, scope, reason", FREEZES),
}


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the empty raw.* tables with the data-model columns."""
    con.execute(RAW_DDL)


def write_fixture_history(path: Path) -> Path:
    """Write the hand-made history into a new DuckDB file at `path`."""
    with duckdb.connect(str(path)) as con:
        create_raw_tables(con)
        for table, (columns, rows) in TABLES.items():
            marks = ", ".join("?" for _ in columns.split(","))
            con.executemany(f"insert into raw.{table} ({columns}) values ({marks})", rows)
    return path
