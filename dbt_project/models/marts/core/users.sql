-- Derived fields of users (spec §4 users).
-- churn_probability: 1 - P(alive) under a Poisson ordering process, P(alive) = exp(-r / g), with
-- r the days since the user's last activity (order or chat) and g the user's mean gap between
-- orders (the population median gap when the user has fewer than two orders; 7 days when no one
-- has two). A user who has never been active gets 0.5, an uninformed prior.
-- lifetime_value_score: average monthly spend (thousand won) over the months since the first
-- order, times 12 months of expected survival (1 - churn_probability), capped at 9999.99.
-- personalization_completeness: share of six profile signals known (age group, region, a
-- category preference (>= 3 orders or an extracted food preference), a budget (an order or an
-- extracted budget), a time preference (>= 3 orders), chat history).
with users as (
    select * from {{ ref('stg_naviyam__users') }}
),

features as (
    select * from {{ ref('user_features') }}
),

activity as (
    select * from {{ ref('int_user_activity') }}
),

patterns as (
    select * from {{ ref('int_user_order_patterns') }}
),

population_gap as (
    select coalesce(percentile_cont(0.5) within group (order by mean_gap_days), 7) as median_gap_days
    from features
    where mean_gap_days is not null
),

scored as (
    select
        u.user_id,
        u.birthday,
        u.current_address,
        f.total_orders,
        f.total_spend,
        f.first_order_at,
        f.preferred_meal_times,
        f.top_category,
        a.sessions,
        a.sessions_28d,
        a.avg_session_duration_s,
        a.median_time_to_decision_ms,
        a.preference_signals,
        a.budget_signals,
        a.conversation_turns,
        greatest(f.last_order_at, a.last_chat_activity_at) as last_active_at,
        coalesce(case when f.mean_gap_days > 0 then f.mean_gap_days end, g.median_gap_days) as gap_days
    from users as u
    left join features as f using (user_id)
    left join activity as a on a.user_id = u.user_id
    cross join population_gap as g
),

churn as (
    select
        *,
        case
            when last_active_at is null then 0.5
            else 1 - exp(-greatest(extract(epoch from {{ as_of() }} - last_active_at) / 86400.0, 0)
                         / greatest(gap_days, 1))
        end as churn_probability_raw
    from scored
)

select
    c.user_id,
    case
        when c.birthday is null then null
        when extract(year from age({{ as_of_date() }}, c.birthday)) < 10 then '10대 미만'
        else (floor(extract(year from age({{ as_of_date() }}, c.birthday)) / 10) * 10)::int || '대'
    end as age_group,
    -- province + district of the address ('서울 마포구', '경기 수원시 영통구')
    nullif(substring(c.current_address from '^(\S+\s+\S+(?:시\s+\S+구)?)'), '') as region_code,
    jsonb_build_object(
        'peak_hours', coalesce(p.peak_hours, '[]'::jsonb),
        'preferred_days', coalesce(p.preferred_days, '[]'::jsonb),
        'preferred_meal_times', coalesce(c.preferred_meal_times, '[]'::jsonb),
        'avg_session_length', round(coalesce(c.avg_session_duration_s, 0)),
        'interaction_style', case
            when c.median_time_to_decision_ms is null then 'unknown'
            when c.median_time_to_decision_ms < 15000 then 'quick_decision'
            when c.median_time_to_decision_ms < 60000 then 'moderate'
            else 'deliberate' end
    ) as interaction_patterns,
    p.preference_evolution,
    p.context_preferences,
    round(coalesce(c.sessions_28d, 0) / 4.0, 2) as session_frequency,
    round(coalesce(c.avg_session_duration_s, 0))::int as avg_session_duration,
    round(c.churn_probability_raw::numeric, 3) as churn_probability,
    round(least(
        case when c.total_orders > 0
             then c.total_spend / 1000.0
                  / greatest(extract(epoch from {{ as_of() }} - c.first_order_at) / (30.44 * 86400), 1)
                  * 12 * (1 - c.churn_probability_raw)
             else 0 end,
        9999.99)::numeric, 2) as lifetime_value_score,
    round((
        (case when c.birthday is not null then 1 else 0 end)
        + (case when c.current_address is not null then 1 else 0 end)
        + (case when c.total_orders >= 3 or c.preference_signals > 0 then 1 else 0 end)
        + (case when c.total_orders >= 1 or c.budget_signals > 0 then 1 else 0 end)
        + (case when c.total_orders >= 3 then 1 else 0 end)
        + (case when coalesce(c.conversation_turns, 0) > 0 then 1 else 0 end)
    ) / 6.0, 2) as personalization_completeness,
    c.last_active_at
from churn as c
left join patterns as p using (user_id)
