with source as (
    select * from {{ source('raw', 'team_members') }}
),

renamed as (
    select
        {{ entity_name('team') }} as team,
        user_name
    from source
)

select distinct * from renamed
