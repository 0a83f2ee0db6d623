{{ config(materialized='table') }}
-- One row per production deployment: how many other production releases of the same service, and of its
-- direct dependencies and dependents, started in the trailing window (default 2 h) up to its start and
-- had not finished by then. No range join: each release o is "active" for a start s when
-- o.start <= s <= o.start + window and not o.finish <= s, an interval of s; a running sum of +1/-1 events
-- per service, read at each start, counts them. Event kinds order same-instant events around the reads:
-- 0 = applies at that instant (before reads), 1 = read, 2 = applies just after that instant.
{% set window = "interval " ~ var('concurrent_hours') ~ " hours" %}
with deployments as (
    select deployment_id, service, started_at, finished_at from {{ ref('int_deployments_labeled') }}
),

neighbours as (
    select distinct service, neighbour from (
        select consumer as service, provider as neighbour from {{ ref('int_services_dependencies') }}
        union all
        select provider as service, consumer as neighbour from {{ ref('int_services_dependencies') }}
    )
),

events as (
    -- becomes active at its start
    select service as k, started_at as t, 0 as kind, 1 as delta, null::varchar as deployment_id, false as is_self
    from deployments
    union all
    -- stops being active when it finishes inside the window (finished by s means finished_at <= s) ...
    select service, finished_at, 0, -1, null, false
    from deployments where finished_at is not null and finished_at <= started_at + {{ window }}
    union all
    -- ... or once the window after its start has passed
    select service, started_at + {{ window }}, 2, -1, null, false
    from deployments where finished_at is null or finished_at > started_at + {{ window }}
    union all
    select service, started_at, 1, 0, deployment_id, true from deployments
    union all
    select n.neighbour, d.started_at, 1, 0, d.deployment_id, false
    from deployments d join neighbours n on n.service = d.service
),

reads as (
    select deployment_id, is_self, active
    from (
        select *, sum(delta) over (partition by k order by t, kind rows between unbounded preceding and current row)
            as active
        from events
    )
    where kind = 1
)

select
    d.deployment_id,
    -- the release itself is active at its own start unless it finished instantly
    max(case when r.is_self then r.active end)
        - (case when d.finished_at is null or d.finished_at > d.started_at then 1 else 0 end)
        as concurrent_same_service,
    coalesce(sum(case when not r.is_self then r.active end), 0) as concurrent_dependent
from deployments d
join reads r using (deployment_id)
group by d.deployment_id, d.finished_at, d.started_at
