-- One row per catalog edge consumer -> provider (dependsOn), both ends known services.
with services as (
    select service, depends_on from {{ ref('stg_raw__services') }}
),

edges as (
    select distinct service as consumer, unnest(depends_on) as provider
    from services
)

select
    consumer || '->' || provider as edge_id,
    consumer,
    provider
from edges
where provider in (select service from services) and provider <> consumer
