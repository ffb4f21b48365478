select
    id as interaction_id,
    "timestamp" as occurred_at,
    user_id as platform_user_id,
    {{ platform_to_user_id('user_id') }} as user_id,
    session_id,
    interaction_type,
    intent,
    {{ json_int("user_selection->>'shop_id'") }} as selected_shop_id,
    {{ json_int("user_selection->>'selection_time_ms'") }} as selection_time_ms,
    -- /feedback rows: the recommendation list reacted to, the price paid, the card balance before it
    user_selection->>'recommendation_id' as recommendation_event_id,
    {{ json_int("user_selection->>'final_price'") }} as final_price,
    {{ json_int("user_selection->>'card_balance_before'") }} as card_balance_before,
    food_preference_extracted,
    budget_pattern_extracted,
    companion_pattern_extracted,
    coupon_usage,
    satisfaction_score,
    decision_confidence::numeric as decision_confidence
from {{ source('naviyam', 'user_interactions') }} as s
-- rows failing a validity rule are in live_quarantine instead (macros/live_quality.sql)
where {{ live_row_is_valid('user_interactions') }}
