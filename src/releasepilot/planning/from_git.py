"""Build release trains from the history in the warehouse instead of writing them by hand.

- `train_from_history`: for each service, the commits of its repository after the last commit that a
  succeeded production deployment shipped (`commit_to`; rolled-back releases do not count as shipped).
- `generate_train`: a realistic demo train of releases owned by up to N teams, replaying the simulated
  history's most recent production releases (their commits, a bumped version, flags read from the changed
  paths, a CI status, approvals from the team and, for some, a requested window); seeded, so repeatable.
- `write_train`: the train as a YAML file that `load_train` reads back (docs/train.md).
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from releasepilot.errors import InputError, NotReadyError
from releasepilot.train import Train, parse_train
from releasepilot.warehouse import query_dicts

DEFAULT_TEAMS = 8
DEFAULT_SEED = 7
SERVICES_PER_TEAM = 2
MIGRATION_PATH = re.compile(r"(^|/)(migrations?|db|schema)(/|$)|\.sql$")
CI_WEIGHTS = {"passed": 0.85, "failed": 0.05, "running": 0.05, "unknown": 0.05}
REQUESTED_WINDOW_SHARE = 0.5       # share of generated releases that ask for a window
WINDOW_HOURS = 1




def _open(warehouse: Path | str):
    from releasepilot.warehouse import connect

    if not Path(warehouse).exists():
        raise NotReadyError(f"warehouse {warehouse} does not exist: run `releasepilot ingest` first")
    return connect(warehouse, read_only=True)


def bump(version: str | None) -> str:
    """The next minor version: 2.4.1 -> 2.5.0; anything else gets '-next'."""
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.\d+)?", version or "")
    if not match:
        return f"{version or '0.0.0'}-next"
    return f"{match[1]}.{int(match[2]) + 1}.0"


def train_from_history(warehouse: Path | str, name: str | None = None,
                       services: list[str] | None = None) -> Train:
    """A train of every service with commits not yet shipped to production."""
    with _open(warehouse) as con:
        rows = query_dicts(con, """
            with ordered as (
                select repo as service, sha, authored_at,
                       row_number() over (partition by repo order by authored_at, sha) as position
                from raw.commits),
            shipped as (
                select d.service, max(o.position) as position, arg_max(d.version, d.started_at) as version
                from raw.deployments d join ordered o on o.sha = d.commit_to and o.service = d.service
                where d.environment = 'production' and d.status = 'succeeded' group by 1)
            select o.service, list(o.sha order by o.position) as shas, any_value(s.version) as version
            from ordered o left join shipped s using (service)
            where o.position > coalesce(s.position, 0)
              and (? is null or o.service in (select unnest(?)))
            group by 1 order by 1""", [services, services or []])
        owners = {r["service"]: r["owner"] for r in query_dicts(con, "select service, owner from raw.services")}
    if not rows:
        raise InputError("every commit in the history is already deployed to production: nothing to release",
                         source=str(warehouse), field="commits")
    releases = [{"service": r["service"], "version": bump(r["version"]), "commits": list(r["shas"]),
                 **({"previous_version": r["version"]} if r["version"] else {})}
                for r in rows if r["service"] in owners]
    return parse_train({"name": name or f"from-history-{datetime.now(UTC):%Y%m%d-%H%M}", "releases": releases},
                       source=str(warehouse))


def generate_train(warehouse: Path | str, teams: int = DEFAULT_TEAMS, seed: int = DEFAULT_SEED,
                   name: str | None = None, per_team: int = SERVICES_PER_TEAM) -> Train:
    """A demo train: up to `per_team` services of each of up to `teams` teams, replaying their latest release."""
    if teams < 1:
        raise InputError("teams must be at least 1", field="teams")
    rng = random.Random(seed)
    with _open(warehouse) as con:
        latest = query_dicts(con, """
            select d.service, s.owner, arg_max(d.deployment_id, d.started_at) as deployment_id,
                   arg_max(d.version, d.started_at) as version, max(d.started_at) as started_at
            from raw.deployments d join raw.services s using (service)
            where d.environment = 'production' group by 1, 2 order by 1""")
        if not latest:
            raise NotReadyError(f"no production deployments in {warehouse}: nothing to replay")
        ids = [r["deployment_id"] for r in latest]
        commits = {r["deployment_id"]: r for r in query_dicts(con, """
            select m.deployment_id, list(m.sha order by c.authored_at, m.sha) as shas,
                   flatten(list(coalesce(f.paths, []))) as paths
            from intermediate.int_deployment_commits_mapped m join raw.commits c using (sha)
            left join (select sha, list(path) as paths from raw.commit_files group by 1) f using (sha)
            where m.deployment_id in (select unnest(?)) group by 1""", [ids])} if _has_mapping(con) else {}
        previous = {r["service"]: r["version"] for r in query_dicts(con, """
            select service, arg_max(version, started_at) as version from raw.deployments
            where environment = 'production' and status = 'succeeded' group by 1""")}
        members = {}
        for r in query_dicts(con, "select team, list(user_name order by user_name) as people from raw.team_members group by 1"):
            members[r["team"]] = list(r["people"])
        end = max(r["started_at"] for r in latest).replace(tzinfo=UTC)
    by_team: dict[str, list[dict[str, Any]]] = {}
    for r in latest:
        if commits.get(r["deployment_id"], {}).get("shas"):
            by_team.setdefault(_team(r["owner"]), []).append(r)
    chosen_teams = sorted(by_team)
    rng.shuffle(chosen_teams)
    releases = []
    for team in sorted(chosen_teams[:teams]):
        for r in rng.sample(by_team[team], min(per_team, len(by_team[team]))):
            info = commits[r["deployment_id"]]
            paths = [p for p in (info["paths"] or [])]
            migration = any(MIGRATION_PATH.search(p) for p in paths)
            release: dict[str, Any] = {
                "service": r["service"], "version": bump(r["version"]), "team": team, "commits": list(info["shas"]),
                "flags": {"db_migration": migration, "contract_change": any(p.startswith("api/") for p in paths),
                          "feature_flagged": rng.random() < 0.3,
                          **({"migration_reversible": rng.random() < 0.7} if migration else {})},
                "ci_status": rng.choices(list(CI_WEIGHTS), weights=list(CI_WEIGHTS.values()))[0],
                "approvals": rng.sample(members.get(team, []), min(len(members.get(team, [])), rng.choice((0, 1, 1, 2)))),
            }
            if previous.get(r["service"]):
                release["previous_version"] = previous[r["service"]]
            if rng.random() < REQUESTED_WINDOW_SHARE:
                start = end.replace(minute=0, second=0, microsecond=0) + timedelta(
                    days=rng.randint(0, 4), hours=rng.randint(2, 23))
                release["window"] = {"start": start, "end": start + timedelta(hours=WINDOW_HOURS)}
            releases.append(release)
    if not releases:
        raise NotReadyError(f"no production release with known commits in {warehouse} (run `releasepilot build`)")
    return parse_train({"name": name or f"generated-{len({r['team'] for r in releases})}-teams-seed-{seed}",
                        "releases": sorted(releases, key=lambda r: r["service"])}, source="generate_train")


def _team(owner: str | None) -> str:
    return (owner or "unowned").split(":", 1)[-1].rsplit("/", 1)[-1]


def _has_mapping(con: Any) -> bool:
    from releasepilot.warehouse import table_exists

    return table_exists(con, "intermediate", "int_deployment_commits_mapped")


def train_document(train: Train) -> dict[str, Any]:
    """The train as a plain document (defaults left out, times as ISO text)."""
    document = train.model_dump(mode="json", exclude_defaults=True)
    for release in document["releases"]:
        release["commits"] = [c["sha"] if set(c) == {"sha"} else c for c in release.get("commits", [])]
        if not release["commits"]:
            del release["commits"]
    return document


def write_train(train: Train, path: Path | str) -> Path:
    """Write the train as YAML (or JSON for a .json name), atomically."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = train_document(train)
    text = json.dumps(document, indent=2) if path.suffix.lower() == ".json" else \
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
