with source as (
    select * from {{ source('raw', 'traffic') }}
),

renamed as (
    select
        date_trunc('hour', hour) as traffic_hour,
        service,
        region,
        requests::bigint as requests
    from source
)

select * from renamed
