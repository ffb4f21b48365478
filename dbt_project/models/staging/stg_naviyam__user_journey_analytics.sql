select
    id as journey_id,
    user_id as platform_user_id,
    journey_session_id,
    funnel_stage
from {{ source('naviyam', 'user_journey_analytics') }}
