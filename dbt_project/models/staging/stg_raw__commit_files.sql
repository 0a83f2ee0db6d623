-- One row per commit x file, with the path parts the Kamei metrics group by.
with source as (
    select * from {{ source('raw', 'commit_files') }}
),

renamed as (
    select
        sha,
        path,
        greatest(coalesce(added, 0), 0)::bigint as lines_added,
        greatest(coalesce(deleted, 0), 0)::bigint as lines_deleted,
        -- the file's directory ('.' for files at the root), its first segment and its first two segments
        case when strpos(path, '/') > 0 then split_part(path, '/', 1) else '.' end as subsystem,
        case when strpos(path, '/') > 0 then regexp_replace(path, '/[^/]*$', '') else '.' end as directory,
        case
            when len(string_split(path, '/')) >= 3 then array_to_string(string_split(path, '/')[1:2], '/')
            when strpos(path, '/') > 0 then split_part(path, '/', 1)
            else '.'
        end as module,
        starts_with(path, 'tests/') as is_test,
        starts_with(path, 'api/') as is_api
    from source
)

select * from renamed
