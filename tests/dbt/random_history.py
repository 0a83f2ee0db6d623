"""A small random history in the raw.* layout, and a copy of a history cut at a time T."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
from fixture_history import create_raw_tables

START = datetime(2025, 3, 1)
PATHS = ["src/core/a.py", "src/core/b.py", "src/web/h.py", "src/db/m.sql", "tests/test_a.py", "tests/test_h.py",
         "api/openapi.yaml", "README.md", "lib/x/y/z.py"]
TYPES = ["feat: x", "fix: y", "chore: z", "refactor(core): w", "feat(api)!: v", "bump deps"]


def write_random_history(path: Path, *, seed: int = 3, services: int = 5, days: int = 24) -> Path:
    """Write a random but consistent history (ranges chain, rollbacks, late incidents, overlaps)."""
    rng = np.random.default_rng(seed)
    names = [f"svc-{i}" for i in range(services)]
    teams = ["team-a", "team-b"]
    users = {"team-a": ["ann", "ben", "cat"], "team-b": ["dan", "eve"]}
    all_users = [u for team in teams for u in users[team]]
    rows: dict[str, list[tuple]] = {k: [] for k in ("services", "team_members", "commits", "commit_files",
                                                    "deployments", "incidents", "oncall", "traffic", "freezes")}
    for i, name in enumerate(names):
        deps = [f"component:default/{names[j]}" for j in range(i + 1, services) if rng.random() < 0.5]
        tested = [names[j] for j in range(i + 1, services) if rng.random() < 0.5]
        rows["services"].append((name, "", "service", "production", f"group:default/{teams[i % 2]}",
                                 "core" if i % 2 else "edge", str(1 + i % 3), "domain", [], [], deps, tested, ""))
    rows["team_members"] = [(team, user) for team in teams for user in users[team]]
    end = START + timedelta(days=days)
    sha_n = 0
    dep_n = 0
    for name in names:
        t = START
        repo: list[str] = []
        last_good = ""
        while t < end:
            t += timedelta(hours=float(rng.exponential(5)))
            sha = f"s{sha_n:05d}"
            sha_n += 1
            rows["commits"].append((sha, name, str(rng.choice(all_users)), t, str(rng.choice(TYPES))))
            for p in rng.choice(PATHS, size=int(rng.integers(1, 4)), replace=False):
                rows["commit_files"].append((sha, str(p), int(rng.integers(0, 80)), int(rng.integers(0, 30))))
            repo.append(sha)
            if rng.random() < 0.35:
                start = t + timedelta(minutes=float(rng.uniform(1, 90)))
                finish = start + timedelta(minutes=float(rng.uniform(5, 180)))
                status = str(rng.choice(["succeeded", "succeeded", "succeeded", "rolled_back", "failed"]))
                dep = f"D{dep_n:04d}"
                dep_n += 1
                rows["deployments"].append((dep, name, f"1.{dep_n}", last_good, sha, start, finish, "production",
                                            "ci", status))
                if status == "succeeded":
                    last_good = sha
                    if rng.random() < 0.2:
                        created = finish + timedelta(hours=float(rng.uniform(-0.5, 30)))
                        rows["incidents"].append((f"I{dep_n}", name, "boom", "SEV2", created, None, None, dep))
    for team in teams:
        t = START
        while t < end:
            length = timedelta(hours=float(rng.uniform(6, 14)))
            rows["oncall"].append((team, str(rng.choice(users[team])), t, t + length))
            t += length + timedelta(hours=float(rng.choice([0, 0, 3])))
    hour = START
    while hour < end:
        for name in names:
            for region in ("r1", "r2"):
                rows["traffic"].append((hour, name, region, int(rng.integers(10, 1000))))
        hour += timedelta(hours=1)
    rows["freezes"] = [("F1", "f", START + timedelta(days=5), START + timedelta(days=6), "core", ""),
                       ("F2", "g", START + timedelta(days=15), START + timedelta(days=15, hours=8), "all", "")]
    from fixture_history import TABLES

    with duckdb.connect(str(path)) as con:
        create_raw_tables(con)
        for table, (columns, _) in TABLES.items():
            marks = ", ".join("?" for _ in columns.split(","))
            if rows[table]:
                con.executemany(f"insert into raw.{table} ({columns}) values ({marks})", rows[table])
    return path


CUT_QUERIES = {
    "services": "select * from full_db.raw.services",
    "team_members": "select * from full_db.raw.team_members",
    "commits": "select * from full_db.raw.commits where authored_at < $t",
    "commit_files": "select f.* from full_db.raw.commit_files f join full_db.raw.commits c using (sha) "
                    "where c.authored_at < $t",
    # a deployment still running at T has no finish and no status yet
    "deployments": "select * replace (case when finished_at < $t then finished_at end as finished_at, "
                   "case when finished_at < $t then status end as status) "
                   "from full_db.raw.deployments where started_at < $t",
    "incidents": "select * replace (case when acknowledged_at < $t then acknowledged_at end as acknowledged_at, "
                 "case when resolved_at < $t then resolved_at end as resolved_at) "
                 "from full_db.raw.incidents where created_at < $t",
    "oncall": "select * from full_db.raw.oncall where starts_at < $t",
    "traffic": "select * from full_db.raw.traffic where hour < $t",
    "freezes": "select * from full_db.raw.freezes where starts_at < $t",
}


def write_cut_history(full: Path, target: Path, cut: datetime) -> Path:
    """Copy the raw tables of `full` into a new warehouse as they were known at `cut`."""
    with duckdb.connect(str(target)) as con:
        create_raw_tables(con)
        con.execute(f"attach '{full}' as full_db (read_only)")
        for table, query in CUT_QUERIES.items():
            con.execute(f"insert into raw.{table} {query}", {"t": cut} if "$t" in query else None)
        con.execute("detach full_db")
    return target
