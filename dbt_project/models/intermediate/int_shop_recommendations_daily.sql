{{
  config(
    materialized='incremental',
    unique_key=['shop_id', 'recommended_on'],
    incremental_strategy='delete+insert'
  )
}}
-- Impressions, clicks and selections per shop and local day. Incremental: recomputes only the
-- days at or after the day before its newest day, so a 5-minute batch reads about two days of
-- impressions, never the whole history; the shop marts then sum these small daily rows.
with impressions as (
    select *, ({{ local_ts('recommended_at') }})::date as recommended_on
    from {{ ref('int_recommendation_impressions') }}
    {% if is_incremental() %}
    where recommended_at >= (
        (select coalesce(max(recommended_on), '1900-01-01'::date) from {{ this }}) - 1
    )::timestamp at time zone '{{ var("tz") }}'
    {% endif %}
)

select
    shop_id,
    recommended_on,
    count(*) as impressions,
    count(*) filter (where clicked) as clicks,
    count(*) filter (where selected) as selections,
    max(recommended_at) as last_recommended_at
from impressions
group by shop_id, recommended_on
