-- One row per platform user id with chat and app activity counts (all logs, aggregated from
-- the incremental intermediate models, so this stays small).
with sessions as (
    select
        platform_user_id,
        count(*) as sessions,
        count(*) filter (where started_at >= {{ as_of() }} - interval '28 days') as sessions_28d,
        avg(duration_s) as avg_session_duration_s,
        sum(turns) as conversation_turns,
        min(started_at) as first_chat_at,
        max(ended_at) as last_chat_at,
        avg(avg_response_time_ms) as avg_response_time_ms
    from {{ ref('int_conversation_sessions') }}
    group by platform_user_id
),

recs as (
    select
        platform_user_id,
        count(distinct recommendation_log_id) as recommendation_lists,
        count(*) as impressions,
        count(*) filter (where clicked) as clicks,
        count(distinct recommendation_log_id) filter (where selected) as accepted_lists,
        percentile_cont(0.5) within group (order by time_to_decision_ms) as median_time_to_decision_ms,
        min(recommended_at) as first_recommended_at,
        max(recommended_at) as last_recommended_at
    from {{ ref('int_recommendation_impressions') }}
    group by platform_user_id
),

signals as (
    select
        platform_user_id,
        count(*) as signal_events,
        count(*) filter (where satisfaction_score >= 4) as positive_feedback,
        count(*) filter (where satisfaction_score <= 2) as negative_feedback,
        count(*) filter (where interaction_type = 'selection' or selected_shop_id is not null) as selections,
        count(*) filter (where food_preference_extracted is not null) as preference_signals,
        count(*) filter (where budget_pattern_extracted is not null) as budget_signals,
        count(*) filter (where companion_pattern_extracted is not null) as companion_signals,
        max(occurred_at) as last_interaction_at
    from {{ ref('int_interaction_signals') }}
    group by platform_user_id
),

keys as (
    select platform_user_id from sessions
    union
    select platform_user_id from recs
    union
    select platform_user_id from signals
)

select
    k.platform_user_id,
    {{ platform_to_user_id('k.platform_user_id') }} as user_id,
    coalesce(s.sessions, 0) as sessions,
    coalesce(s.sessions_28d, 0) as sessions_28d,
    coalesce(s.avg_session_duration_s, 0) as avg_session_duration_s,
    coalesce(s.conversation_turns, 0) as conversation_turns,
    s.first_chat_at,
    s.last_chat_at,
    s.avg_response_time_ms,
    coalesce(r.recommendation_lists, 0) as recommendation_lists,
    coalesce(r.impressions, 0) as impressions,
    coalesce(r.clicks, 0) as clicks,
    coalesce(r.accepted_lists, 0) as accepted_lists,
    r.median_time_to_decision_ms,
    r.first_recommended_at,
    coalesce(g.signal_events, 0) as signal_events,
    coalesce(g.positive_feedback, 0) as positive_feedback,
    coalesce(g.negative_feedback, 0) as negative_feedback,
    coalesce(g.selections, 0) as selections,
    coalesce(g.preference_signals, 0) as preference_signals,
    coalesce(g.budget_signals, 0) as budget_signals,
    coalesce(g.companion_signals, 0) as companion_signals,
    greatest(s.last_chat_at, r.last_recommended_at, g.last_interaction_at) as last_chat_activity_at
from keys as k
left join sessions as s using (platform_user_id)
left join recs as r using (platform_user_id)
left join signals as g using (platform_user_id)
