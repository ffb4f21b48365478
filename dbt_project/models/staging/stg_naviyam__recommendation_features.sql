select
    id as recommendation_feature_id,
    user_id as platform_user_id,
    shop_id,
    "timestamp" as computed_at,
    predicted_score::numeric as predicted_score,
    ranking_position
from {{ source('naviyam', 'recommendation_features') }}
