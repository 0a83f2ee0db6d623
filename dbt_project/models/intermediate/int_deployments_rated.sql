{{ config(materialized='table') }}
-- One row per production deployment with the trailing failure rates of its service and its owning team,
-- as known at its start: among releases that FINISHED in [start - W, start), the share whose failure was
-- known before start (failure_counted_at < start). Computed without joins: each earlier release adds
-- +1 to `finished` at finished_at and -1 at finished_at + W, and +1 to `failed` at failure_counted_at
-- and -1 at finished_at + W; a running sum read at each start (events at the same instant come after
-- the start, so they do not count) gives both counts.
{% set windows = [var('fail_rate_short_days'), var('fail_rate_long_days')] %}
with deployments as (
    select * from {{ ref('int_deployments_labeled') }}
),

{% for level, key in [('svc', 'service'), ('team', 'owner_team')] %}
{{ level }}_events as (
    select {{ key }} as k, started_at as t, 0 as kind, deployment_id
        {% for w in windows %}, 0 as fin_{{ w }}, 0 as fail_{{ w }}{% endfor %}
    from deployments
    union all
    select {{ key }}, finished_at, 1, null
        {% for w in windows %}, 1, 0{% endfor %}
    from deployments where finished_at is not null
    {% for w in windows %}
    union all
    select {{ key }}, finished_at + interval {{ w }} days, 1, null
        {% for w2 in windows %}, {{ -1 if w2 == w else 0 }}, {{ '-(failure_counted_at < finished_at + interval ' ~ w ~ ' days)::int' if w2 == w else 0 }}{% endfor %}
    from deployments where finished_at is not null
    {% endfor %}
    union all
    select {{ key }}, failure_counted_at, 1, null
        {% for w in windows %}, 0, (failure_counted_at < finished_at + interval {{ w }} days)::int{% endfor %}
    from deployments where failure_counted_at is not null
),

{{ level }}_rates as (
    select deployment_id {% for w in windows %}, fin_{{ w }}, fail_{{ w }}{% endfor %}
    from (
        select
            kind, deployment_id
            {% for w in windows %}
            , sum(fin_{{ w }}) over running as fin_{{ w }}
            , sum(fail_{{ w }}) over running as fail_{{ w }}
            {% endfor %}
        from {{ level }}_events
        where k is not null
        window running as (partition by k order by t, kind rows between unbounded preceding and current row)
    )
    where kind = 0
),
{% endfor %}

history as (
    select
        deployment_id,
        count(*) over (
            partition by service order by started_at
            range between interval {{ var('fail_rate_long_days') }} days preceding and interval 1 microsecond preceding
        ) as svc_releases_90d,
        date_diff('second',
            max(started_at) over (
                partition by service order by started_at
                range between unbounded preceding and interval 1 microsecond preceding
            ),
            started_at) / 86400.0 as days_since_last_release
    from deployments
)

select
    d.deployment_id,
    {% for w in windows %}
    s.fail_{{ w }} / nullif(s.fin_{{ w }}, 0)::double as svc_fail_rate_{{ w }}d,
    s.fin_{{ w }} as svc_finished_{{ w }}d,
    t.fail_{{ w }} / nullif(t.fin_{{ w }}, 0)::double as team_fail_rate_{{ w }}d,
    {% endfor %}
    h.svc_releases_90d,
    h.days_since_last_release
from deployments d
left join svc_rates s using (deployment_id)
left join team_rates t using (deployment_id)
left join history h using (deployment_id)
