with source as (
    select * from {{ source('raw', 'deployments') }}
),

renamed as (
    select
        deployment_id,
        service,
        version,
        nullif(trim(commit_from), '') as commit_from,
        nullif(trim(commit_to), '') as commit_to,
        started_at,
        finished_at,
        lower(environment) as environment,
        deployer,
        lower(status) as status
    from source
)

select * from renamed
