{{ config(materialized='table') }}
-- One row per production deployment with its owner and its outcome label, and when that label was known.
-- A failure is known at finished_at when the deploy rolled back or failed, and at the first linked
-- incident's created_at otherwise. `failure_counted_at` is when history-based features may count it:
-- never before the deployment finished.
with deployments as (
    select * from {{ ref('stg_raw__deployments') }} where environment = 'production'
),

services as (
    select * from {{ ref('int_services_graphed') }}
),

incidents as (
    select deployment_id, min(created_at) as first_incident_at, count(*) as n_incidents
    from {{ ref('stg_raw__incidents') }}
    where deployment_id is not null
    group by 1
),

labeled as (
    select
        d.deployment_id,
        d.service,
        s.owner_team,
        s.tier,
        s.layer,
        s.system,
        s.service_idx,
        d.version,
        d.commit_from,
        d.commit_to,
        d.started_at,
        d.finished_at,
        d.status,
        d.deployer,
        coalesce(i.n_incidents, 0) as n_incidents,
        case
            when d.status in ('rolled_back', 'failed') or i.deployment_id is not null then true
            when d.finished_at is not null then false
        end as is_failure,
        least(
            case when d.status in ('rolled_back', 'failed') then d.finished_at end,
            i.first_incident_at
        ) as failure_known_at
    from deployments d
    left join services s using (service)
    left join incidents i using (deployment_id)
)

select
    *,
    case when is_failure then failure_known_at when is_failure = false then finished_at end as label_known_at,
    case when is_failure and finished_at is not null then greatest(failure_known_at, finished_at) end
        as failure_counted_at
from labeled
