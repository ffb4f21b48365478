select
    id as training_log_id,
    training_session_id,
    model_type,
    training_start_time as started_at,
    training_end_time as ended_at,
    deployment_status
from {{ source('naviyam', 'model_training_logs') }}
