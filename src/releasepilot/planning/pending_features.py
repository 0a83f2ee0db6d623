"""Release features for releases that are not in history yet (a train being planned).

`marts.release_features` holds one row per past production deployment. A pending release has no row, so
this module computes the same columns for it, at a planning time `at`, with the same SQL definitions as
the dbt models, reading the dbt intermediate views (`intermediate.int_*`) so that commit metrics, file
history, trailing failure rates and graph facts come from exactly the same place:

- change content (n_commits ... contract_change, cross_team_modules) as in int_deployments_changes_aggregated,
  over the release's commits (which must be in raw.commits to be measured; others are counted as unknown);
- churn_ratio_service_median: churn over the median churn of the service's earlier production releases;
- fan_in, fan_out, transitive_dependents, contract_change_untested as in release_features;
- svc/team failure rates, svc_releases_90d, days_since_last_release as in int_deployments_rated at `at`;
- deploy_hour, deploy_weekday, traffic_percentile, oncall_present, in_freeze as in int_deployments_timed
  at `at` (window scoring later recomputes them per candidate hour); concurrent_* are 0 (nothing else runs).

`tests/planning/test_pending_features.py` checks that a past deployment recomputed here equals its mart row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

CROSS_TEAM_DAYS = 14        # dbt var cross_team_days
FAIL_RATE_SHORT_DAYS = 30   # dbt var fail_rate_short_days
FAIL_RATE_LONG_DAYS = 90    # dbt var fail_rate_long_days
TRAFFIC_TRAILING_DAYS = 28  # dbt var traffic_trailing_days
PENDING_PREFIX = "pending"


@dataclass(frozen=True)
class PendingRelease:
    """A release to featurise: its id (unique in the batch), service, commit shas and planning time."""

    release_id: str
    service: str
    shas: tuple[str, ...]
    at: datetime
    unknown_shas: tuple[str, ...] = field(default=())


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


_ENTROPY = """coalesce(greatest(
    log2(nullif(sum(greatest({p}, 0)), 0)::double)
    - sum(case when {p} > 0 then {p} * log2({p}::double) else 0 end) / nullif(sum(greatest({p}, 0)), 0)::double,
    0.0), 0.0)"""

SQL = f"""
with pending as (select * from pending_releases),
pairs as (select * from pending_pairs),
commit_level as (
    select p.deployment_id, count(*) as n_commits, count(distinct c.author) as n_authors,
           max(c.la + c.ld) as max_commit_churn, avg(c.fix::int) as fix_share,
           min(c.exp) as min_author_exp, avg(c.exp) as mean_author_exp, min(c.rexp) as min_author_rexp
    from pairs p join intermediate.int_commits_measured c using (sha) group by 1
),
file_rows as (select p.deployment_id, f.* from pairs p join intermediate.int_commit_files_historied f using (sha)),
per_path as (
    select deployment_id, path, any_value(subsystem) as subsystem, any_value(directory) as directory,
           sum(lines_added)::bigint as la, sum(lines_deleted)::bigint as ld,
           arg_min(size_before, authored_at) as size_before, bool_or(is_test) as is_test, bool_or(is_api) as is_api
    from file_rows group by 1, 2
),
file_level as (
    select deployment_id, sum(la)::bigint as la, sum(ld)::bigint as ld, avg(size_before) as lt, count(*) as nf,
           count(distinct subsystem) as ns, count(distinct directory) as nd, {_ENTROPY.format(p='(la + ld)')} as entropy,
           count(*) filter (where is_test) as tests_touched, bool_or(is_api) as contract_change
    from per_path group by 1
),
release_modules as (
    select distinct fr.deployment_id, fr.service, fr.module, r.at
    from file_rows fr join pending r using (deployment_id)
),
module_commits as (
    select f.service, f.module, f.authored_at as t, max(coalesce(c.is_cross_team, false)::int) as cross_team
    from intermediate.int_commit_files_historied f join intermediate.int_commits_attributed c using (sha)
    group by f.sha, f.service, f.module, f.authored_at
),
cross_team as (
    select m.deployment_id, count(*) filter (where n > 0) as cross_team_modules from (
        select m.deployment_id, m.module, coalesce(sum(s.cross_team), 0) as n
        from release_modules m left join module_commits s
          on s.service = m.service and s.module = m.module
         and s.t >= m.at - interval {CROSS_TEAM_DAYS} days and s.t < m.at
        group by 1, 2) m
    group by 1
),
changes as (
    select r.deployment_id,
        coalesce(cl.n_commits, 0) + r.n_unknown as n_commits, coalesce(cl.n_authors, 0) as n_authors,
        coalesce(fl.la, 0) as la, coalesce(fl.ld, 0) as ld, coalesce(fl.lt, 0.0) as lt, coalesce(fl.nf, 0) as nf,
        coalesce(fl.ns, 0) as ns, coalesce(fl.nd, 0) as nd, coalesce(fl.entropy, 0.0) as entropy,
        coalesce(fl.la, 0) + coalesce(fl.ld, 0) as churn, coalesce(cl.max_commit_churn, 0) as max_commit_churn,
        coalesce(cl.fix_share, 0.0) as fix_share, cl.min_author_exp, cl.mean_author_exp, cl.min_author_rexp,
        coalesce(fl.tests_touched, 0) as tests_touched, coalesce(fl.tests_touched, 0) > 0 as has_test_changes,
        coalesce(fl.contract_change, false) as contract_change, coalesce(ct.cross_team_modules, 0) as cross_team_modules
    from pending r
    left join commit_level cl using (deployment_id)
    left join file_level fl using (deployment_id)
    left join cross_team ct using (deployment_id)
),
labeled as (select * from intermediate.int_deployments_labeled),
prior_churn as (
    select r.deployment_id, median(a.churn) as service_median_churn
    from pending r join labeled d on d.service = r.service and d.started_at < r.at
    join intermediate.int_deployments_changes_aggregated a on a.deployment_id = d.deployment_id
    group by 1
),
untested as (
    select e.provider as service, count(*) as consumers_without_contract_tests
    from intermediate.int_services_dependencies e
    join intermediate.int_services_graphed consumer on consumer.service = e.consumer
    where not list_contains(consumer.contract_tests, e.provider) group by 1
),
rates as (
    select r.deployment_id,
        {{rate_columns}}
        count(*) filter (where d.service = r.service and d.started_at >= r.at - interval {FAIL_RATE_LONG_DAYS} days
                         and d.started_at < r.at) as svc_releases_90d,
        date_diff('second', max(d.started_at) filter (where d.service = r.service and d.started_at < r.at), r.at)
            / 86400.0 as days_since_last_release
    from pending r join intermediate.int_services_graphed g using (service)
    left join labeled d on (d.service = r.service or d.owner_team = g.owner_team)
    group by r.deployment_id, r.at
),
hourly as (
    select service, traffic_hour, sum(requests) as requests from staging.stg_raw__traffic group by 1, 2
),
traffic as (
    select r.deployment_id,
        (select case when count(*) <= 1 then 0.0 else
                    (count(*) filter (where h.requests < cur.requests))::double / (count(*) - 1) end
         from hourly h where h.service = r.service
           and h.traffic_hour >= date_trunc('hour', r.at) - interval {TRAFFIC_TRAILING_DAYS} days
           and h.traffic_hour <= date_trunc('hour', r.at)) as traffic_percentile_raw,
        cur.requests is not null as has_hour
    from pending r left join hourly cur on cur.service = r.service and cur.traffic_hour = date_trunc('hour', r.at)
),
oncall as (
    select r.deployment_id, bool_or(o.starts_at <= r.at and o.ends_at > r.at) as oncall_present
    from pending r join intermediate.int_services_graphed g using (service)
    left join staging.stg_raw__oncall o on o.team = g.owner_team
    group by 1
),
freezes as (
    select r.deployment_id, count(f.freeze_id) > 0 as in_freeze
    from pending r join intermediate.int_services_graphed g using (service)
    left join staging.stg_raw__freezes f on r.at >= f.starts_at and r.at < f.ends_at
        and (f.scope = 'all' or f.scope = g.system)
    group by 1
)
select
    r.deployment_id, r.service, g.owner_team, null::varchar as version, r.at as started_at,
    null::timestamp as finished_at, null::varchar as status, g.tier, g.layer, g.system,
    c.n_commits, c.n_authors, c.la, c.ld, c.lt, c.nf, c.ns, c.nd, c.entropy, c.churn,
    c.churn / nullif(pc.service_median_churn, 0)::double as churn_ratio_service_median,
    c.max_commit_churn, c.fix_share, c.min_author_exp, c.mean_author_exp, c.min_author_rexp,
    c.tests_touched, c.has_test_changes,
    coalesce(g.fan_in, 0) as fan_in, coalesce(g.fan_out, 0) as fan_out,
    coalesce(g.transitive_dependents, 0) as transitive_dependents,
    extract('hour' from r.at)::integer as deploy_hour, (extract('isodow' from r.at) - 1)::integer as deploy_weekday,
    case when t.has_hour then t.traffic_percentile_raw end as traffic_percentile,
    coalesce(o.oncall_present, false) as oncall_present,
    0::bigint as concurrent_same_service, 0::bigint as concurrent_dependent,
    c.cross_team_modules, c.contract_change,
    c.contract_change and coalesce(u.consumers_without_contract_tests, 0) > 0 as contract_change_untested,
    ra.svc_fail_rate_30d, ra.svc_fail_rate_90d, ra.team_fail_rate_30d, ra.team_fail_rate_90d,
    ra.svc_releases_90d, ra.days_since_last_release,
    coalesce(f.in_freeze, false) as in_freeze,
    null::boolean as is_failure, null::timestamp as label_known_at
from pending r
join changes c using (deployment_id)
left join intermediate.int_services_graphed g using (service)
left join prior_churn pc using (deployment_id)
left join untested u using (service)
left join rates ra using (deployment_id)
left join traffic t using (deployment_id)
left join oncall o using (deployment_id)
left join freezes f using (deployment_id)
order by r.ord
"""


def _rate_columns() -> str:
    """Failure rates among releases that finished in (at - W, at), failures counted only when known by `at`."""
    parts = []
    for level, key in (("svc", "d.service = r.service"), ("team", "d.owner_team = g.owner_team")):
        for w in (FAIL_RATE_SHORT_DAYS, FAIL_RATE_LONG_DAYS):
            finished = f"{key} and d.finished_at > r.at - interval {w} days and d.finished_at < r.at"
            failed = (f"{finished} and d.failure_counted_at < r.at "
                      f"and d.failure_counted_at < d.finished_at + interval {w} days")
            parts.append(f"(count(*) filter (where {failed}))::double / "
                         f"nullif(count(*) filter (where {finished}), 0) as {level}_fail_rate_{w}d,")
    return "\n        ".join(parts)


def pending_features(con: Any, releases: Sequence[PendingRelease]) -> pl.DataFrame:
    """release_features-shaped rows (deployment_id = release_id) for releases not in history."""
    if not releases:
        return pl.DataFrame()
    cur = con.cursor()
    try:
        known = {row[0] for row in cur.execute(
            "select sha from raw.commits where sha in (select unnest($1))",
            [[s for r in releases for s in r.shas]]).fetchall()}
        head = pl.DataFrame({
            "deployment_id": [r.release_id for r in releases], "service": [r.service for r in releases],
            "at": [_naive(r.at) for r in releases], "ord": list(range(len(releases))),
            "n_unknown": [sum(1 for s in r.shas if s not in known) for r in releases]},
            schema={"deployment_id": pl.Utf8, "service": pl.Utf8, "at": pl.Datetime("us"), "ord": pl.Int64,
                    "n_unknown": pl.Int64})
        pairs = pl.DataFrame({"deployment_id": [r.release_id for r in releases for s in r.shas if s in known],
                              "sha": [s for r in releases for s in r.shas if s in known]},
                             schema={"deployment_id": pl.Utf8, "sha": pl.Utf8})
        cur.register("pending_releases", head)
        cur.register("pending_pairs", pairs)
        return cur.sql(SQL.replace("{rate_columns}", _rate_columns())).pl()
    finally:
        cur.close()


def pending_changes(con: Any, releases: Sequence[PendingRelease]) -> pl.DataFrame:
    """change_features rows of the releases' known commits, re-keyed to the pending release ids."""
    pairs = pl.DataFrame({"pending_id": [r.release_id for r in releases for _ in r.shas],
                          "sha": [s for r in releases for s in r.shas]},
                         schema={"pending_id": pl.Utf8, "sha": pl.Utf8})
    cur = con.cursor()
    try:
        cur.register("pending_pairs", pairs)
        frame = cur.sql("select p.pending_id, c.* exclude (deployment_id) from pending_pairs p "
                        "join marts.change_features c using (sha)").pl()
    finally:
        cur.close()
    return frame.rename({"pending_id": "deployment_id"})
