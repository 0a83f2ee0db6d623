with source as (
    select * from {{ source('raw', 'services') }}
),

renamed as (
    select
        service,
        description,
        type as service_type,
        lifecycle,
        {{ entity_name('owner') }} as owner_team,
        system,
        try_cast(tier as integer) as tier,
        layer,
        coalesce(regions, []::varchar[]) as regions,
        coalesce(tenants, []::varchar[]) as tenants,
        list_distinct(list_transform(coalesce(depends_on, []::varchar[]), lambda x: {{ entity_name('x') }})) as depends_on,
        list_distinct(list_transform(coalesce(contract_tests, []::varchar[]), lambda x: {{ entity_name('x') }})) as contract_tests
    from source
)

select * from renamed
