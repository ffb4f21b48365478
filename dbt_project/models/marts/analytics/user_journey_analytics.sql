-- One lifetime journey per user (journey_session_id NULL) from orders, conversations,
-- recommendations and interactions (spec §8 user_journey_analytics).
-- funnel_stage: retention (>= 2 orders), conversion (1 order or a selection in chat),
-- consideration (opened a recommended shop's details), interest (chatted or received a
-- recommendation), else awareness.
-- recommendation_acceptance_rate: lists with a final selection / lists received (NULL if none).
-- conversion_probability: for converted users 1 - churn_probability; otherwise the
-- Laplace-smoothed acceptance rate (accepted + 1) / (lists + 2).
-- drop_off_point: the stage the user stopped at, when inactive for 30 days or more.
with users as (
    select * from {{ ref('users') }}
),

features as (
    select * from {{ ref('user_features') }}
),

activity as (
    select * from {{ ref('int_user_activity') }}
),

base as (
    select
        f.platform_user_id,
        f.total_orders,
        f.first_order_at,
        f.last_order_at,
        f.time_consistency,
        u.churn_probability,
        coalesce(a.conversation_turns, 0) as conversation_turns,
        coalesce(a.sessions, 0) as sessions,
        coalesce(a.recommendation_lists, 0) as recommendation_lists,
        coalesce(a.accepted_lists, 0) as accepted_lists,
        coalesce(a.clicks, 0) as clicks,
        coalesce(a.selections, 0) as selections,
        coalesce(a.signal_events, 0) as signal_events,
        coalesce(a.positive_feedback, 0) as positive_feedback,
        coalesce(a.negative_feedback, 0) as negative_feedback,
        coalesce(a.preference_signals, 0) as preference_signals,
        coalesce(a.budget_signals, 0) as budget_signals,
        coalesce(a.companion_signals, 0) as companion_signals,
        a.avg_session_duration_s,
        a.avg_response_time_ms,
        a.first_chat_at,
        a.first_recommended_at,
        least(f.first_order_at, a.first_chat_at, a.first_recommended_at) as journey_start,
        greatest(f.last_order_at, a.last_chat_activity_at) as journey_end
    from features as f
    join users as u using (user_id)
    left join activity as a on a.user_id = f.user_id
),

staged as (
    select
        *,
        case
            when total_orders >= 2 then 'retention'
            when total_orders = 1 or accepted_lists > 0 or selections > 0 then 'conversion'
            when clicks > 0 then 'consideration'
            when conversation_turns > 0 or recommendation_lists > 0 then 'interest'
            else 'awareness'
        end as funnel_stage
    from base
)

select
    platform_user_id as user_id,
    cast(null as varchar(200)) as journey_session_id,
    journey_start,
    journey_end,
    (conversation_turns >= 3 or total_orders >= 1) as onboarding_completed,
    recommendation_lists > 0 as first_recommendation_received,
    (accepted_lists > 0 or selections > 0 or total_orders > 0) as first_selection_made,
    (conversation_turns + total_orders >= 10) as personalization_achieved,
    (conversation_turns + signal_events)::int as total_interactions,
    accepted_lists::int as successful_recommendations,
    case when recommendation_lists > 0 then round(accepted_lists::numeric / recommendation_lists, 3) end
        as recommendation_acceptance_rate,
    round(avg_session_duration_s)::int as average_session_duration,
    funnel_stage,
    round(case when funnel_stage in ('conversion', 'retention') then 1 - churn_probability
               else (accepted_lists + 1.0) / (recommendation_lists + 2.0) end, 3) as conversion_probability,
    case when journey_end < {{ as_of() }} - interval '30 days' then funnel_stage end as drop_off_point,
    jsonb_build_object(
        'positive_feedback_count', positive_feedback,
        'negative_feedback_count', negative_feedback,
        'avg_response_time', round(avg_response_time_ms / 1000.0, 2),
        'reengagement_rate', round({{ safe_divide('greatest(sessions - 1, 0)', 'sessions') }}, 3)
    ) as satisfaction_signals,
    jsonb_build_object(
        'preferences_identified', total_orders >= 3 or preference_signals > 0,
        'budget_pattern_learned', total_orders >= 3 or budget_signals > 0,
        'time_preference_detected', total_orders >= 5 and time_consistency >= 0.5,
        'companion_patterns_found', companion_signals > 0
    ) as personalization_milestones
from staged
