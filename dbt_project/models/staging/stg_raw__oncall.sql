with source as (
    select * from {{ source('raw', 'oncall') }}
),

renamed as (
    select
        {{ entity_name('team') }} as team,
        user_name,
        starts_at,
        ends_at
    from source
)

select * from renamed
