{{ config(materialized='table') }}
-- One row per production deployment x commit it carried: the commits of the service's repository after
-- commit_from (exclusive) up to commit_to (inclusive), in authored order (authored_at, then sha); all of
-- them when commit_from is empty. Only commits authored by the deployment's start count. Each range is
-- expanded into repository positions and equi-joined on (service, position): linear in the output, no
-- range join.
with deployments as (
    select deployment_id, service, commit_from, commit_to, started_at
    from {{ ref('int_deployments_labeled') }}
),

commits as (
    select sha, service, authored_at, repo_position from {{ ref('int_commits_attributed') }}
),

ranges as (
    select
        d.deployment_id,
        d.service,
        d.started_at,
        case when d.commit_from is null then 0 else cf.repo_position end as position_from,
        ct.repo_position as position_to
    from deployments d
    left join commits ct on ct.sha = d.commit_to and ct.service = d.service
    left join commits cf on cf.sha = d.commit_from and cf.service = d.service
),

positions as (
    select deployment_id, service, started_at, unnest(generate_series(position_from + 1, position_to)) as repo_position
    from ranges
    where position_to > position_from
)

select
    p.deployment_id || ':' || c.sha as deployment_commit_id,
    p.deployment_id,
    c.sha,
    p.started_at
from positions p
join commits c using (service, repo_position)
where c.authored_at <= p.started_at
