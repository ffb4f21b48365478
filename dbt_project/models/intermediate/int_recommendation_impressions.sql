{{
  config(
    materialized='incremental',
    unique_key=['recommendation_log_id', 'position'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['shop_id']}, {'columns': ['recommended_at']}]
  )
}}
-- One row per shop shown in a recommendation list (an impression), with the user's reaction:
-- clicked = the user opened the shop's details or picked it; selected = the user picked it.
-- Incremental: each run re-reads only the log rows newer than its high-water mark minus
-- var('late_arrival_window'), because reactions are written onto a log row after it is shown.
with logs as (
    select *
    from {{ ref('stg_naviyam__recommendations_log') }}
    where recommended_at >= {{ incremental_since('recommended_at') }}
),

exploded as (
    select
        l.recommendation_log_id,
        l.recommended_at,
        l.platform_user_id,
        l.user_id,
        l.session_id,
        l.recommendation_method,
        l.time_to_decision_ms,
        l.user_viewed_details,
        l.user_final_selection,
        r.position::int as position,
        {{ json_int("r.item->>'shop_id'") }} as shop_id,
        coalesce({{ json_int("r.item->>'ranking'") }}, r.position::int) as ranking,
        case when jsonb_typeof(r.item->'menu_ids') = 'array' then r.item->'menu_ids' else '[]'::jsonb end as menu_ids
    from logs as l
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(l.recommendations) = 'array' then l.recommendations else '[]'::jsonb end
    ) with ordinality as r(item, position)
)

select
    recommendation_log_id,
    position,
    recommended_at,
    platform_user_id,
    user_id,
    session_id,
    recommendation_method,
    shop_id,
    ranking,
    menu_ids,
    (user_viewed_details @> to_jsonb(shop_id) or user_viewed_details @> to_jsonb(shop_id::text)
        or user_final_selection = shop_id) as clicked,
    coalesce(user_final_selection = shop_id, false) as selected,
    case when user_final_selection = shop_id then time_to_decision_ms end as time_to_decision_ms
from exploded
where shop_id is not null
