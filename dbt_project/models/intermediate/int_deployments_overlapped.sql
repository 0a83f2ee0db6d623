-- One row per production deployment: how many other production releases of the same service, and of its
-- direct dependencies and dependents, started in the trailing window (default 2 h) before its start and
-- had not finished by then. Range joins run on (service index, epoch ms) keys so DuckDB uses an IEJoin.
{% set key_span = 10000000000000 %}
{% set window_ms = var('concurrent_hours') * 3600 * 1000 %}
with deployments as (
    select
        deployment_id, service, service_idx, started_at, finished_at,
        service_idx * {{ key_span }} + epoch_ms(started_at) as start_key
    from {{ ref('int_deployments_labeled') }}
    where service_idx is not null
),

graph as (
    select service, service_idx from {{ ref('int_services_graphed') }}
),

neighbours as (
    select distinct service, neighbour from (
        select consumer as service, provider as neighbour from {{ ref('int_services_dependencies') }}
        union all
        select provider as service, consumer as neighbour from {{ ref('int_services_dependencies') }}
    )
),

same_service as (
    select d.deployment_id, count(*) as n
    from deployments d
    join deployments o
        on o.start_key >= d.start_key - {{ window_ms }} and o.start_key <= d.start_key
    where o.deployment_id <> d.deployment_id
        and (o.finished_at is null or o.finished_at > d.started_at)
    group by 1
),

probes as (
    select d.deployment_id, d.started_at, g.service_idx * {{ key_span }} + epoch_ms(d.started_at) as probe_key
    from deployments d
    join neighbours n on n.service = d.service
    join graph g on g.service = n.neighbour
),

dependent as (
    select p.deployment_id, count(*) as n
    from probes p
    join deployments o
        on o.start_key >= p.probe_key - {{ window_ms }} and o.start_key <= p.probe_key
    where o.finished_at is null or o.finished_at > p.started_at
    group by 1
)

select
    d.deployment_id,
    coalesce(s.n, 0) as concurrent_same_service,
    coalesce(x.n, 0) as concurrent_dependent
from deployments d
left join same_service s using (deployment_id)
left join dependent x using (deployment_id)
