{{ config(materialized='table') }}
-- One row per commit with its owning team, its author's team and its position in the repository's
-- history (ordered by authored_at, then sha), used to resolve deployment commit ranges.
with commits as (
    select * from {{ ref('stg_raw__commits') }}
),

services as (
    select service, owner_team from {{ ref('int_services_graphed') }}
),

members as (
    select * from {{ ref('stg_raw__team_members') }}
),

author_teams as (
    select user_name, min(team) as author_team from members group by 1
)

select
    c.sha,
    c.service,
    c.author,
    c.authored_at,
    c.message,
    c.commit_type,
    c.is_breaking,
    c.commit_type = 'fix' as is_fix,
    s.owner_team,
    t.author_team,
    case
        when s.owner_team is null then null
        else not exists (select 1 from members m where m.team = s.owner_team and m.user_name = c.author)
    end as is_cross_team,
    row_number() over (partition by c.service order by c.authored_at, c.sha) as repo_position
from commits c
left join services s using (service)
left join author_teams t on t.user_name = c.author
