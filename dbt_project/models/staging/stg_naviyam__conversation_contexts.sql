select
    id as context_id,
    session_id,
    user_id as platform_user_id,
    conversation_turn,
    context_type,
    "timestamp" as recorded_at,
    expires_at
from {{ source('naviyam', 'conversation_contexts') }}
