{{ config(materialized='table') }}
-- One row per commit with the 14 Kamei et al. (2013) just-in-time metrics (definitions in the yml).
-- History-based metrics only use commits authored strictly before this one.
with commits as (
    select * from {{ ref('int_commits_attributed') }}
),

files as (
    select * from {{ ref('int_commit_files_historied') }}
),

per_commit_files as (
    select
        sha,
        count(*) as nf,
        count(distinct subsystem) as ns,
        count(distinct directory) as nd,
        sum(lines_added)::bigint as la,
        sum(lines_deleted)::bigint as ld,
        avg(size_before) as lt,
        {{ churn_entropy('lines_added + lines_deleted') }} as entropy,
        max(prior_authors) as ndev,
        avg(days_since_prior_change) as age,
        sum(prior_changes)::bigint as nuc,
        bool_or(is_test) as touches_tests,
        bool_or(is_api) as touches_api
    from files
    group by 1
),

-- the author's earlier commits anywhere, and how many fall within 1..5 years (365-day periods)
author_history as (
    select
        sha,
        count(*) over earlier_all as exp,
        {% for years in range(1, 6) %}
        count(*) over (
            partition by author order by authored_at
            range between interval {{ 365 * years }} days preceding and interval 1 microsecond preceding
        ) as within_{{ years }}y{{ "," if not loop.last }}
        {% endfor %}
    from commits
    window earlier_all as (
        partition by author order by authored_at
        range between unbounded preceding and interval 1 microsecond preceding
    )
),

-- the author's earlier commits that touched each subsystem (of this repository) this commit touches
subsystem_touches as (
    select distinct sha, service, subsystem, author, authored_at from files
),

subsystem_history as (
    select
        sha,
        sum(prior)::bigint as sexp
    from (
        select
            sha,
            count(*) over (
                partition by author, service, subsystem order by authored_at
                range between unbounded preceding and interval 1 microsecond preceding
            ) as prior
        from subsystem_touches
    )
    group by 1
)

select
    c.sha,
    c.service,
    c.author,
    c.author_team,
    c.owner_team,
    c.authored_at,
    c.commit_type,
    c.is_breaking,
    c.is_cross_team,
    c.repo_position,
    coalesce(f.ns, 0) as ns,
    coalesce(f.nd, 0) as nd,
    coalesce(f.nf, 0) as nf,
    coalesce(f.entropy, 0.0) as entropy,
    coalesce(f.la, 0) as la,
    coalesce(f.ld, 0) as ld,
    coalesce(f.lt, 0.0) as lt,
    c.is_fix as fix,
    coalesce(f.ndev, 0) as ndev,
    coalesce(f.age, 0.0) as age,
    coalesce(f.nuc, 0) as nuc,
    h.exp,
    h.within_1y
        + (h.within_2y - h.within_1y) / 2.0
        + (h.within_3y - h.within_2y) / 3.0
        + (h.within_4y - h.within_3y) / 4.0
        + (h.within_5y - h.within_4y) / 5.0
        + (h.exp - h.within_5y) / 6.0 as rexp,
    coalesce(sh.sexp, 0) as sexp,
    coalesce(f.touches_tests, false) as touches_tests,
    coalesce(f.touches_api, false) as touches_api
from commits c
left join per_commit_files f using (sha)
left join author_history h using (sha)
left join subsystem_history sh using (sha)
