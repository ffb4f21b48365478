select
    id as nlu_example_id,
    created_at,
    predicted_intent,
    true_intent,
    intent_confidence::numeric as intent_confidence,
    quality_score::numeric as quality_score,
    data_source,
    user_id as platform_user_id,
    used_for_training,
    training_batch_id
from {{ source('naviyam', 'nlu_training_data') }}
