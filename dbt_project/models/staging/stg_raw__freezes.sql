with source as (
    select * from {{ source('raw', 'freezes') }}
),

renamed as (
    select
        freeze_id,
        name as freeze_name,
        starts_at,
        ends_at,
        scope,
        reason
    from source
)

select * from renamed
