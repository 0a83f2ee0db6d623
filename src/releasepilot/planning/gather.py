"""Read from the warehouse everything a plan needs to know about the organisation and its history.

One read-only pass over DuckDB: the catalog graph (raw.services), author -> team (raw.team_members, the
alphabetically first team as in dbt's int_commits_attributed), the last succeeded production version per
service (raw.deployments), the hourly calendar (raw.traffic as weekly means, raw.freezes, raw.oncall), open
incidents (dependency health) and incident minutes (error budget), and the commits of each release
(explicit shas or a FROM..TO range resolved in the repository's authored order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import networkx as nx

from releasepilot.catalog_graph import load_graph
from releasepilot.errors import InputError
from releasepilot.planning.calendar import HourlyCalendar
from releasepilot.warehouse import query_dicts

SLO_TARGET = 0.995                     # availability objective behind the error budget
ERROR_BUDGET_DAYS = 30                 # budget period
BUDGET_SEVERITIES = ("SEV1", "SEV2")   # incidents that spend error budget
REFERENCE_MONDAY = datetime(2024, 1, 1, tzinfo=UTC)   # weekly traffic means are placed in this week


@dataclass
class History:
    """Facts from the warehouse, keyed by service or team."""

    graph: nx.DiGraph
    author_team: dict[str, str]
    previous: dict[str, dict[str, Any]]                 # service -> {version, commit_to, started_at}
    calendar: HourlyCalendar
    services: dict[str, dict[str, Any]]                 # service -> {regions, tenants, system, owner, tier}
    requests: dict[str, float]                          # service -> mean requests per hour
    open_incidents: dict[str, list[str]] = field(default_factory=dict)
    budget_left: dict[str, float] = field(default_factory=dict)
    history_end: datetime | None = None
    has_deployments: bool = True




def _utc(ts: datetime | None) -> datetime | None:
    return None if ts is None else (ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC))


def weekly_traffic_rows(con: Any) -> list[dict[str, Any]]:
    """Mean requests per service x region x hour of the week, placed in one reference week."""
    rows = query_dicts(con, """
        select service, region, (isodow(hour) - 1) * 24 + hour(hour) as slot, avg(requests) as requests
        from raw.traffic group by all""")
    return [{"service": r["service"], "region": r["region"], "requests": r["requests"],
             "hour": REFERENCE_MONDAY + timedelta(hours=int(r["slot"]))} for r in rows]


def read_history(con: Any, now: datetime) -> History:
    """Every fact the plan needs, as known at `now`."""
    graph = load_graph(con)
    members = query_dicts(con, "select user_name, min(team) as team from raw.team_members group by 1")
    previous = query_dicts(con, """
        select service, arg_max(version, started_at) as version, arg_max(commit_to, started_at) as commit_to,
               max(started_at) as started_at
        from raw.deployments where environment = 'production' and status = 'succeeded' and started_at < ?
        group by 1""", [now.replace(tzinfo=None)])
    n_deployments = query_dicts(con, "select count(*) as n from raw.deployments")[0]["n"]
    calendar = HourlyCalendar.from_rows(
        traffic=weekly_traffic_rows(con),
        freezes=query_dicts(con, "select freeze_id, name, starts_at, ends_at, scope, reason from raw.freezes"),
        oncall=query_dicts(con, "select team, user_name, starts_at, ends_at from raw.oncall where ends_at > starts_at"))
    services = {r["service"]: r for r in query_dicts(
        con, "select service, regions, tenants, system, owner, tier from raw.services")}
    requests = {r["service"]: float(r["requests"]) for r in query_dicts(con, """
        select service, sum(requests) / count(distinct hour) as requests from raw.traffic group by 1""")}
    naive_now = now.replace(tzinfo=None)
    open_incidents: dict[str, list[str]] = {}
    for r in query_dicts(con, """select service, incident_id from raw.incidents
                           where created_at <= ? and (resolved_at is null or resolved_at > ?)""",
                   [naive_now, naive_now]):
        open_incidents.setdefault(r["service"], []).append(r["incident_id"])
    allowed = (1.0 - SLO_TARGET) * ERROR_BUDGET_DAYS * 24 * 60
    spent = {r["service"]: float(r["minutes"] or 0.0) for r in query_dicts(con, f"""
        select service, sum(date_diff('second', greatest(created_at, ?::timestamp - interval {ERROR_BUDGET_DAYS} days),
                                      least(coalesce(resolved_at, ?::timestamp), ?::timestamp)) / 60.0) as minutes
        from raw.incidents
        where severity in (select unnest(?)) and created_at <= ?
          and coalesce(resolved_at, ?::timestamp) > ?::timestamp - interval {ERROR_BUDGET_DAYS} days
        group by 1""", [naive_now, naive_now, naive_now, list(BUDGET_SEVERITIES), naive_now, naive_now, naive_now])}
    budget = {s: max(0.0, 1.0 - spent.get(s, 0.0) / allowed) for s in graph.nodes}
    return History(
        graph=graph, author_team={r["user_name"]: r["team"] for r in members},
        previous={r["service"]: {**r, "started_at": _utc(r["started_at"])} for r in previous},
        calendar=calendar, services=services, requests=requests, open_incidents=open_incidents,
        budget_left=budget, history_end=read_end(con), has_deployments=n_deployments > 0)


def planning_time(history_end: datetime | None, wall_clock: datetime, horizon_days: int) -> tuple[datetime, str]:
    """When the plan is made: the wall clock, unless the history ends more than a horizon before it (a
    simulated or old warehouse), in which case the hour after the history ends, said in the note."""
    if history_end is not None and history_end < wall_clock - timedelta(days=horizon_days):
        at = history_end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return at, f"planned as of {at.isoformat()} (the end of the warehouse's history), not the wall clock"
    return wall_clock, "planned as of now"


def read_end(con: Any) -> datetime | None:
    """The latest event in the history (traffic hour or deployment start)."""
    rows = query_dicts(con, "select greatest(max(hour), (select max(started_at) from raw.deployments)) as t from raw.traffic")
    return _utc(rows[0]["t"]) if rows else None


def read_commits(con: Any, service: str, shas: Iterable[str], commit_range: tuple[str | None, str] | None,
                 *, source: str, index: int) -> list[dict[str, Any]]:
    """Commits {sha, author, message, files, authored_at} of one release from raw.commits/commit_files.

    A range is FROM (exclusive)..TO (inclusive) in
    the repository's (authored_at, sha) order. Shas not in history are returned with no details.
    """
    wanted: list[str] = list(shas)
    if commit_range is not None:
        start, end = commit_range
        ordered = [r["sha"] for r in query_dicts(con, "select sha from raw.commits where repo = ? order by authored_at, sha",
                                           [service])]
        position = {s: i for i, s in enumerate(ordered)}
        if end not in position:
            raise InputError(f"commit_range end {end!r} is not a commit of {service}", source=source,
                             field=f"releases[{index}].commit_range")
        if start is not None and start not in position:
            raise InputError(f"commit_range start {start!r} is not a commit of {service}", source=source,
                             field=f"releases[{index}].commit_range")
        first = position[start] + 1 if start is not None else 0
        wanted += [s for s in ordered[first: position[end] + 1] if s not in wanted]
    if not wanted:
        return []
    found = {r["sha"]: r for r in query_dicts(con, """
        select c.sha, c.author, c.message, c.authored_at, list(f.path order by f.path) filter (where f.path is not null) as files
        from raw.commits c left join raw.commit_files f using (sha)
        where c.sha in (select unnest(?)) group by all""", [wanted])}
    return [found.get(sha) or {"sha": sha, "author": None, "message": None, "files": [], "authored_at": None}
            for sha in wanted]
