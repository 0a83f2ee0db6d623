with source as (
    select * from {{ source('raw', 'incidents') }}
),

renamed as (
    select
        incident_id,
        service,
        title,
        upper(severity) as severity,
        created_at,
        acknowledged_at,
        resolved_at,
        nullif(trim(deployment_id), '') as deployment_id
    from source
)

select * from renamed
