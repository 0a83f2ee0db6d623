-- One row per production deployment: point-in-time features (only what was known before it started)
-- and the label is_failure.
with deployments as (
    select * from {{ ref('int_deployments_labeled') }}
),

services as (
    select * from {{ ref('int_services_graphed') }}
),

changes as (
    select * from {{ ref('int_deployments_changes_aggregated') }}
),

churn_history as (
    select
        deployment_id,
        median(c.churn) over (
            partition by d.service order by d.started_at
            range between unbounded preceding and interval 1 microsecond preceding
        ) as service_median_churn
    from deployments d
    join changes c using (deployment_id)
),

untested_contracts as (
    select e.provider as service, count(*) as consumers_without_contract_tests
    from {{ ref('int_services_dependencies') }} e
    join services consumer on consumer.service = e.consumer
    where not list_contains(consumer.contract_tests, e.provider)
    group by 1
)

select
    d.deployment_id,
    d.service,
    d.owner_team,
    d.version,
    d.started_at,
    d.finished_at,
    d.status,
    d.tier,
    d.layer,
    d.system,
    c.n_commits,
    c.n_authors,
    c.la,
    c.ld,
    c.lt,
    c.nf,
    c.ns,
    c.nd,
    c.entropy,
    c.churn,
    c.churn / nullif(h.service_median_churn, 0)::double as churn_ratio_service_median,
    c.max_commit_churn,
    c.fix_share,
    c.min_author_exp,
    c.mean_author_exp,
    c.min_author_rexp,
    c.tests_touched,
    c.has_test_changes,
    coalesce(s.fan_in, 0) as fan_in,
    coalesce(s.fan_out, 0) as fan_out,
    coalesce(s.transitive_dependents, 0) as transitive_dependents,
    t.deploy_hour,
    t.deploy_weekday,
    t.traffic_percentile,
    t.oncall_present,
    coalesce(o.concurrent_same_service, 0) as concurrent_same_service,
    coalesce(o.concurrent_dependent, 0) as concurrent_dependent,
    c.cross_team_modules,
    c.contract_change,
    c.contract_change and coalesce(u.consumers_without_contract_tests, 0) > 0 as contract_change_untested,
    r.svc_fail_rate_30d,
    r.svc_fail_rate_90d,
    r.team_fail_rate_30d,
    r.team_fail_rate_90d,
    r.svc_releases_90d,
    r.days_since_last_release,
    t.in_freeze,
    d.is_failure,
    d.label_known_at
from deployments d
join changes c using (deployment_id)
left join churn_history h using (deployment_id)
left join services s using (service)
left join {{ ref('int_deployments_timed') }} t using (deployment_id)
left join {{ ref('int_deployments_overlapped') }} o using (deployment_id)
left join {{ ref('int_deployments_rated') }} r using (deployment_id)
left join untested_contracts u using (service)
