select
    user_id as platform_user_id,
    created_at,
    last_updated as updated_at,
    preferred_categories,
    average_budget,
    interaction_count
from {{ source('naviyam', 'user_profiles') }}
