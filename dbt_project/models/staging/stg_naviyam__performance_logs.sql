select
    id as performance_log_id,
    "timestamp" as logged_at,
    operation_type,
    coalesce(total_time_ms, processing_time_ms) as total_time_ms,
    nlu_time_ms,
    rag_time_ms,
    recommendation_time_ms,
    cache_hit_rate::numeric as cache_hit_rate,
    success,
    error_type,
    user_id as platform_user_id,
    session_id,
    bottleneck_component
from {{ source('naviyam', 'performance_logs') }} as s
-- rows failing a validity rule are in live_quarantine instead (macros/live_quality.sql)
where {{ live_row_is_valid('performance_logs') }}
