-- One row per production deployment x commit it carried: the commits of the service's repository after
-- commit_from (exclusive) up to commit_to (inclusive), in authored order; all of them when commit_from is
-- empty. Only commits authored by the deployment's start count. Ranges are resolved on one global position
-- (service, authored_at, sha) so that the join is a pure range join (IEJoin), not a per-service cross join.
with deployments as (
    select deployment_id, service, commit_from, commit_to, started_at
    from {{ ref('int_deployments_labeled') }}
),

commits as (
    select sha, service, authored_at, global_position from {{ ref('int_commits_attributed') }}
),

service_bounds as (
    select service, min(global_position) - 1 as before_first from commits group by 1
),

ranges as (
    select
        d.deployment_id,
        d.started_at,
        case when d.commit_from is null then b.before_first else cf.global_position end as position_from,
        ct.global_position as position_to
    from deployments d
    left join commits ct on ct.sha = d.commit_to and ct.service = d.service
    left join commits cf on cf.sha = d.commit_from and cf.service = d.service
    left join service_bounds b on b.service = d.service
)

select
    r.deployment_id || ':' || c.sha as deployment_commit_id,
    r.deployment_id,
    c.sha,
    r.started_at
from ranges r
join commits c
    on c.global_position > r.position_from
    and c.global_position <= r.position_to
where c.authored_at <= r.started_at
