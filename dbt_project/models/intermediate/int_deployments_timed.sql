{{ config(materialized='table') }}
-- One row per production deployment with its timing context: hour, weekday, traffic level against the
-- service's own trailing traffic, on-call coverage of the owning team and change freezes.
with deployments as (
    select deployment_id, service, owner_team, system, started_at from {{ ref('int_deployments_labeled') }}
),

hourly as (
    select service, traffic_hour, sum(requests) as requests
    from {{ ref('stg_raw__traffic') }}
    group by 1, 2
),

-- share of the trailing hours (deploy hour included) with fewer requests than this hour
ranked_hours as (
    select
        service,
        traffic_hour,
        requests,
        percent_rank(order by requests) over (
            partition by service order by traffic_hour
            range between interval {{ var('traffic_trailing_days') }} days preceding and current row
        ) as traffic_percentile
    from hourly
),

-- merge each team's shifts into covered intervals (gaps and islands), then look one up per deployment
shifts as (
    select
        team, starts_at, ends_at,
        max(ends_at) over (
            partition by team order by starts_at, ends_at rows between unbounded preceding and 1 preceding
        ) as covered_until_before
    from {{ ref('stg_raw__oncall') }}
    where ends_at > starts_at
),

islands as (
    select
        team, starts_at, ends_at,
        sum(case when covered_until_before is null or starts_at > covered_until_before then 1 else 0 end) over (
            partition by team order by starts_at, ends_at rows between unbounded preceding and current row
        ) as island
    from shifts
),

coverage as (
    select team, min(starts_at) as covered_from, max(ends_at) as covered_until
    from islands group by team, island
),

oncall as (
    select d.deployment_id, coalesce(d.started_at < c.covered_until, false) as oncall_present
    from deployments d
    asof left join coverage c on c.team = d.owner_team and d.started_at >= c.covered_from
),

freezes as (
    select d.deployment_id, count(f.freeze_id) > 0 as in_freeze
    from deployments d
    left join {{ ref('stg_raw__freezes') }} f
        on d.started_at >= f.starts_at and d.started_at < f.ends_at
        and (f.scope = 'all' or f.scope = d.system)
    group by 1
)

select
    d.deployment_id,
    extract('hour' from d.started_at)::integer as deploy_hour,
    (extract('isodow' from d.started_at) - 1)::integer as deploy_weekday,
    r.traffic_percentile,
    coalesce(o.oncall_present, false) as oncall_present,
    coalesce(f.in_freeze, false) as in_freeze
from deployments d
left join ranked_hours r on r.service = d.service and r.traffic_hour = date_trunc('hour', d.started_at)
left join oncall o using (deployment_id)
left join freezes f using (deployment_id)
