select
    id as conversation_id,
    "timestamp" as occurred_at,
    user_id as platform_user_id,
    {{ platform_to_user_id('user_id') }} as user_id,
    session_id,
    extracted_intent,
    intent_confidence::numeric as intent_confidence,
    extracted_entities,
    user_strategy,
    conversation_turn,
    response_time_ms,
    processing_time_ms
from {{ source('naviyam', 'conversations') }} as s
-- rows failing a validity rule are in live_quarantine instead (macros/live_quality.sql)
where {{ live_row_is_valid('conversations') }}
