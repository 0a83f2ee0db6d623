{{ config(materialized='table') }}
-- One row per service with its owner and its place in the dependency graph.
with recursive

services as (
    select * from {{ ref('stg_raw__services') }}
),

edges as (
    select consumer, provider from {{ ref('int_services_dependencies') }}
),

-- every (provider, service that depends on it directly or transitively); UNION stops on cycles
reach(provider, dependent) as (
    select provider, consumer from edges
    union
    select reach.provider, edges.consumer
    from reach join edges on edges.provider = reach.dependent
),

transitive as (
    select provider as service, count(distinct dependent) filter (where dependent <> provider) as transitive_dependents
    from reach group by 1
),

fan_in as (
    select provider as service, count(*) as fan_in from edges group by 1
),

fan_out as (
    select consumer as service, count(*) as fan_out from edges group by 1
)

select
    s.service,
    s.owner_team,
    s.system,
    s.tier,
    s.layer,
    s.contract_tests,
    row_number() over (order by s.service) as service_idx,
    coalesce(fi.fan_in, 0) as fan_in,
    coalesce(fo.fan_out, 0) as fan_out,
    coalesce(t.transitive_dependents, 0) as transitive_dependents
from services s
left join fan_in fi using (service)
left join fan_out fo using (service)
left join transitive t using (service)
