{{
  config(
    materialized='incremental',
    unique_key='interaction_id',
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['selected_shop_id']}, {'columns': ['platform_user_id']}]
  )
}}
-- The interaction events that carry a signal the warehouse uses: a rating, a selected shop, or
-- a preference the service extracted. Incremental on the event time (late-arrival window).
select
    interaction_id,
    occurred_at,
    platform_user_id,
    user_id,
    session_id,
    interaction_type,
    selected_shop_id,
    selection_time_ms,
    satisfaction_score,
    food_preference_extracted,
    budget_pattern_extracted,
    companion_pattern_extracted,
    coupon_usage is not null as used_coupon
from {{ ref('stg_naviyam__user_interactions') }}
where occurred_at >= {{ incremental_since('occurred_at') }}
  and (
      satisfaction_score is not null
      or selected_shop_id is not null
      or food_preference_extracted is not null
      or budget_pattern_extracted is not null
      or companion_pattern_extracted is not null
      or interaction_type in ('selection', 'feedback', 'detail_view', 'order', 'coupon_use')
  )
