select
    id as recommendation_log_id,
    "timestamp" as recommended_at,
    user_id as platform_user_id,
    {{ platform_to_user_id('user_id') }} as user_id,
    session_id,
    request_intent,
    recommendations,
    recommendation_count,
    recommendation_method,
    coalesce(user_viewed_details, '[]'::jsonb) as user_viewed_details,
    user_final_selection,
    time_to_decision_ms,
    model_variant,
    event_id::text as recommendation_event_id
from {{ source('naviyam', 'recommendations_log') }} as s
-- rows failing a validity rule are in live_quarantine instead (macros/live_quality.sql)
where {{ live_row_is_valid('recommendations_log') }}
