{{ config(materialized='table') }}
-- One row per production deployment: what it changes (its commits and files), who changed it, and
-- whether the change crosses team or contract boundaries.
with deployments as (
    select deployment_id, service, started_at from {{ ref('int_deployments_labeled') }}
),

pairs as (
    select deployment_id, sha from {{ ref('int_deployment_commits_mapped') }}
),

commits as (
    select * from {{ ref('int_commits_measured') }}
),

files as (
    select * from {{ ref('int_commit_files_historied') }}
),

commit_level as (
    select
        p.deployment_id,
        count(*) as n_commits,
        count(distinct c.author) as n_authors,
        max(c.la + c.ld) as max_commit_churn,
        avg(c.fix::int) as fix_share,
        min(c.exp) as min_author_exp,
        avg(c.exp) as mean_author_exp,
        min(c.rexp) as min_author_rexp
    from pairs p
    join commits c using (sha)
    group by 1
),

file_rows as (
    select p.deployment_id, f.*
    from pairs p
    join files f using (sha)
),

per_path as (
    select
        deployment_id,
        path,
        any_value(subsystem) as subsystem,
        any_value(directory) as directory,
        sum(lines_added)::bigint as la,
        sum(lines_deleted)::bigint as ld,
        arg_min(size_before, authored_at) as size_before,
        bool_or(is_test) as is_test,
        bool_or(is_api) as is_api
    from file_rows
    group by 1, 2
),

file_level as (
    select
        deployment_id,
        sum(la)::bigint as la,
        sum(ld)::bigint as ld,
        avg(size_before) as lt,
        count(*) as nf,
        count(distinct subsystem) as ns,
        count(distinct directory) as nd,
        {{ churn_entropy('la + ld') }} as entropy,
        count(*) filter (where is_test) as tests_touched,
        bool_or(is_api) as contract_change
    from per_path
    group by 1
),

-- modules changed by the release, and per module the commits that other teams' authors made to it:
-- one stream per (service, module), counted over the trailing window before the release's start
release_modules as (
    select distinct fr.deployment_id, fr.service, fr.module, d.started_at
    from file_rows fr join deployments d using (deployment_id)
),

module_stream as (
    -- one event per (commit, module): deduplicate the file rows first, then look up the commit (sha is unique)
    select f.service, f.module, f.authored_at as t, coalesce(c.is_cross_team, false)::int as cross_team,
           null::varchar as deployment_id
    from (select distinct sha, service, module, authored_at from files) f
    join {{ ref('int_commits_attributed') }} c using (sha)
    union all
    select service, module, started_at as t, 0 as cross_team, deployment_id
    from release_modules
),

module_windows as (
    select
        deployment_id,
        sum(cross_team) over (
            partition by service, module order by t
            range between interval {{ var('cross_team_days') }} days preceding and interval 1 microsecond preceding
        ) as cross_team_commits
    from module_stream
),

cross_team as (
    select deployment_id, count(*) filter (where cross_team_commits > 0) as cross_team_modules
    from module_windows
    where deployment_id is not null
    group by 1
)

select
    d.deployment_id,
    coalesce(cl.n_commits, 0) as n_commits,
    coalesce(cl.n_authors, 0) as n_authors,
    coalesce(fl.la, 0) as la,
    coalesce(fl.ld, 0) as ld,
    coalesce(fl.lt, 0.0) as lt,
    coalesce(fl.nf, 0) as nf,
    coalesce(fl.ns, 0) as ns,
    coalesce(fl.nd, 0) as nd,
    coalesce(fl.entropy, 0.0) as entropy,
    coalesce(fl.la, 0) + coalesce(fl.ld, 0) as churn,
    coalesce(cl.max_commit_churn, 0) as max_commit_churn,
    coalesce(cl.fix_share, 0.0) as fix_share,
    cl.min_author_exp,
    cl.mean_author_exp,
    cl.min_author_rexp,
    coalesce(fl.tests_touched, 0) as tests_touched,
    coalesce(fl.tests_touched, 0) > 0 as has_test_changes,
    coalesce(fl.contract_change, false) as contract_change,
    coalesce(ct.cross_team_modules, 0) as cross_team_modules
from deployments d
left join commit_level cl using (deployment_id)
left join file_level fl using (deployment_id)
left join cross_team ct using (deployment_id)
