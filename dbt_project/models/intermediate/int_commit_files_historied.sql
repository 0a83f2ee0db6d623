{{ config(materialized='table') }}
-- One row per commit x file with the file's history before the commit (commits authored strictly
-- earlier in the same repository), computed with window functions over (service, path).
with files as (
    select * from {{ ref('stg_raw__commit_files') }}
),

commits as (
    select sha, service, author, authored_at from {{ ref('int_commits_attributed') }}
),

joined as (
    select
        f.*, c.service, c.author, c.authored_at,
        -- the author's first change to this path: counting these over earlier rows counts distinct authors
        (row_number() over (partition by c.service, f.path, c.author order by c.authored_at, f.sha) = 1)::int
            as is_first_touch
    from files f
    join commits c using (sha)
)

select
    sha,
    path,
    service,
    author,
    authored_at,
    subsystem,
    directory,
    module,
    is_test,
    is_api,
    lines_added,
    lines_deleted,
    greatest(coalesce(sum(lines_added - lines_deleted) over earlier, 0), 0) as size_before,
    count(*) over earlier as prior_changes,
    coalesce(sum(is_first_touch) over earlier, 0) as prior_authors,
    date_diff('second', max(authored_at) over earlier, authored_at) / 86400.0 as days_since_prior_change
from joined
window earlier as (
    partition by service, path order by authored_at
    range between unbounded preceding and interval 1 microsecond preceding
)
