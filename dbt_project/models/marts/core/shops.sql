-- Derived fields of shops (spec §4 shops: [DERIVED] current_status, [AI_COMPUTED] metrics).
-- Written back to public.shops by the Dagster asset operational_derived_fields.
with shops as (
    select * from {{ ref('stg_naviyam__shops') }}
),

recs as (
    select
        shop_id,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(selections) as selections,
        max(last_recommended_at) as last_recommended
    from {{ ref('int_shop_recommendations_daily') }}
    group by shop_id
),

ratings as (
    select selected_shop_id as shop_id, avg(satisfaction_score) as satisfaction_avg
    from {{ ref('int_interaction_signals') }}
    where satisfaction_score is not null and selected_shop_id is not null
    group by selected_shop_id
),

now_local as (
    select
        {{ as_of() }} as computed_at,
        (extract(hour from {{ local_ts(as_of()) }}) * 60 + extract(minute from {{ local_ts(as_of()) }}))::int as now_min
)

select
    s.shop_id,
    {{ shop_status('s.open_hour', 's.close_hour', 's.break_start_hour', 's.break_end_hour', 'n.now_min') }}
        as current_status,
    coalesce(r.impressions, 0)::int as recommendation_count,
    round({{ safe_divide('r.clicks', 'r.impressions') }}, 4) as click_through_rate,
    round({{ safe_divide('r.selections', 'r.impressions') }}, 4) as conversion_rate,
    -- 60 % all-time order percentile, 40 % last-30-days order percentile
    round((0.6 * f.overall_popularity
           + 0.4 * percent_rank() over (order by f.orders_recent)::numeric), 3) as popularity_score,
    -- 70 % rating (Bayesian average mapped 1..5 -> 0..1; no ratings -> neutral 0.5), 30 % repeat customers
    round(0.7 * coalesce((f.avg_rating - 1) / 4.0, 0.5) + 0.3 * f.repeat_customer_rate, 3) as quality_score,
    round(coalesce(ra.satisfaction_avg, 0), 2) as user_satisfaction_avg,
    r.last_recommended,
    f.total_orders as total_orders_served,
    f.avg_order_value,
    n.computed_at as status_computed_at
from shops as s
cross join now_local as n
left join recs as r using (shop_id)
left join ratings as ra using (shop_id)
left join {{ ref('shop_features') }} as f using (shop_id)
