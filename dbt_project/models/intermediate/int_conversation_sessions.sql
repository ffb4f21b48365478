{{
  config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['platform_user_id']}]
  )
}}
-- One row per chat session: start, end, turns, duration. Incremental: the sessions touched by
-- turns newer than the high-water mark (minus the late-arrival window) are recomputed from all
-- of their turns; untouched sessions are left alone.
with touched as (
    select distinct session_id
    from {{ ref('stg_naviyam__conversations') }}
    where occurred_at >= {{ incremental_since('ended_at') }}
),

turns as (
    select c.*
    from {{ ref('stg_naviyam__conversations') }} as c
    {% if is_incremental() %}
    where c.session_id in (select session_id from touched)
    {% endif %}
)

select
    session_id,
    min(platform_user_id) as platform_user_id,
    min(user_id) as user_id,
    min(occurred_at) as started_at,
    max(occurred_at) as ended_at,
    count(*) as turns,
    extract(epoch from max(occurred_at) - min(occurred_at))::int as duration_s,
    avg(response_time_ms) as avg_response_time_ms,
    count(*) filter (where user_strategy = 'urgent') as urgent_turns
from turns
group by session_id
