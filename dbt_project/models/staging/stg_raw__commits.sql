-- Conventional-commit parsing: `type(scope)!: subject`, `BREAKING CHANGE:` in the body.
with source as (
    select * from {{ source('raw', 'commits') }}
),

renamed as (
    select
        sha,
        repo as service,
        author,
        authored_at,
        message,
        lower(nullif(regexp_extract(message, '^\s*([A-Za-z]+)(\([^)]*\))?!?:', 1), '')) as conventional_type,
        regexp_matches(message, '^\s*[A-Za-z]+(\([^)]*\))?!:') or message like '%BREAKING CHANGE%'
            or message like '%BREAKING-CHANGE%' as is_breaking
    from source
)

select
    sha,
    service,
    author,
    authored_at,
    message,
    case
        when conventional_type in ('feat', 'fix', 'perf', 'refactor', 'docs', 'test', 'build', 'ci', 'chore',
                                   'style', 'revert') then conventional_type
        when regexp_matches(lower(message), '^\s*(revert)') then 'revert'
        when regexp_matches(lower(message), '\b(fix|fixes|fixed|bug|hotfix|defect|patch)\b') then 'fix'
        else 'other'
    end as commit_type,
    is_breaking
from renamed
