-- One row per commit: the Kamei et al. just-in-time metrics and change context, the production deployment
-- that first shipped it, and the label is_defective (that deployment failed).
with commits as (
    select * from {{ ref('int_commits_measured') }}
),

shipped as (
    select
        m.sha,
        arg_min(m.deployment_id, (d.started_at, d.deployment_id)) as deployment_id
    from {{ ref('int_deployment_commits_mapped') }} m
    join {{ ref('int_deployments_labeled') }} d using (deployment_id)
    group by 1
),

deployments as (
    select deployment_id, started_at, is_failure, label_known_at from {{ ref('int_deployments_labeled') }}
)

select
    c.sha,
    c.service,
    c.author,
    c.author_team,
    c.authored_at,
    s.deployment_id,
    d.started_at as deployed_at,
    c.ns,
    c.nd,
    c.nf,
    c.entropy,
    c.la,
    c.ld,
    c.lt,
    c.fix,
    c.ndev,
    c.age,
    c.nuc,
    c.exp,
    c.rexp,
    c.sexp,
    c.touches_tests,
    c.touches_api,
    c.is_cross_team,
    c.commit_type,
    c.is_breaking,
    d.is_failure as is_defective,
    d.label_known_at
from commits c
left join shipped s using (sha)
left join deployments d using (deployment_id)
