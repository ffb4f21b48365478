-- §11 shop-level features, one row per shop (shops with no orders or logs get zeros/NULLs).
with shops as (
    select * from {{ ref('stg_naviyam__shops') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }} where shop_id is not null
),

order_stats as (
    select
        shop_id,
        count(*) as total_orders,
        avg(order_amount) as avg_order_value,
        max(ordered_at) as last_order_at,
        count(*) filter (where ordered_at >= {{ as_of() }} - interval '{{ var("recent_days") }} days') as orders_recent,
        count(*) filter (where ordered_at < {{ as_of() }} - interval '{{ var("recent_days") }} days'
                           and ordered_at >= {{ as_of() }} - interval '{{ 2 * var("recent_days") }} days') as orders_prior,
        count(*) filter (where order_hour between 11 and 13 or order_hour between 17 and 19) as peak_orders,
        count(distinct user_id) as customers
    from orders
    group by shop_id
),

repeaters as (
    select shop_id, count(*) as repeat_customers
    from (select shop_id, user_id from orders group by shop_id, user_id having count(*) >= 2) as r
    group by shop_id
),

recently_ordered_menus as (
    select distinct menu_id
    from orders
    where ordered_at >= {{ as_of() }} - interval '90 days'
),

menus as (
    select
        m.shop_id,
        count(*) as menu_count,
        percentile_cont(0.5) within group (order by m.menu_price) as median_menu_price,
        count(r.menu_id) as menus_ordered_90d
    from {{ ref('stg_naviyam__menus') }} as m
    left join recently_ordered_menus as r using (menu_id)
    group by m.shop_id
),

ratings as (
    select
        selected_shop_id as shop_id,
        count(*) as rating_count,
        avg(satisfaction_score) as rating_mean,
        stddev_samp(satisfaction_score) as rating_stddev,
        count(*) filter (where satisfaction_score <= 2) as complaints
    from {{ ref('int_interaction_signals') }}
    where satisfaction_score is not null and selected_shop_id is not null
    group by selected_shop_id
),

global_rating as (
    select coalesce(avg(satisfaction_score), 3.0) as prior_mean
    from {{ ref('int_interaction_signals') }}
    where satisfaction_score is not null
),

selections as (
    select recommendation_log_id, position, user_id, shop_id, recommended_at
    from {{ ref('int_recommendation_impressions') }}
    where selected
),

fulfilment as (
    select
        sel.shop_id,
        count(*) as selections,
        count(*) filter (where matched.order_id is not null) as fulfilled
    from selections as sel
    left join lateral (
        select o.order_id
        from {{ ref('int_orders_enriched') }} as o
        where o.user_id = sel.user_id and o.shop_id = sel.shop_id
          and o.ordered_at between sel.recommended_at and sel.recommended_at + interval '24 hours'
        limit 1
    ) as matched on true
    group by sel.shop_id
)

select
    s.shop_id,
    coalesce(o.total_orders, 0) as total_orders,
    round(coalesce(o.avg_order_value, 0), 2) as avg_order_value,
    o.last_order_at,
    round(percent_rank() over (order by coalesce(o.total_orders, 0))::numeric, 4) as overall_popularity,
    coalesce(o.orders_recent, 0) as orders_recent,
    coalesce(o.orders_prior, 0) as orders_prior,
    round({{ safe_divide('coalesce(o.orders_recent, 0) - coalesce(o.orders_prior, 0)',
                         'coalesce(o.orders_recent, 0) + coalesce(o.orders_prior, 0)') }}, 4) as recent_popularity_trend,
    coalesce(o.customers, 0) as customers,
    coalesce(rp.repeat_customers, 0) as repeat_customers,
    round({{ safe_divide('rp.repeat_customers', 'o.customers') }}, 4) as repeat_customer_rate,
    coalesce(r.rating_count, 0) as rating_count,
    -- Bayesian average: 5 pseudo-ratings at the global mean pull thin evidence toward it
    case when r.rating_count > 0
         then round((r.rating_mean * r.rating_count + g.prior_mean * 5) / (r.rating_count + 5), 3) end as avg_rating,
    case when r.rating_count >= 2 then round(greatest(1 - r.rating_stddev / 2.0, 0), 3) end as rating_consistency,
    round({{ safe_divide('r.complaints', 'r.rating_count') }}, 4) as complaint_rate,
    case when f.selections > 0 then round(f.fulfilled::numeric / f.selections, 4) end as order_fulfillment_rate,
    round({{ safe_divide('o.peak_orders', 'o.total_orders') }}, 4) as peak_hour_performance,
    case when m.menu_count > 0 then round(m.menus_ordered_90d::numeric / m.menu_count, 4) end as menu_availability,
    coalesce(m.menu_count, 0) as menu_count,
    m.median_menu_price
from shops as s
cross join global_rating as g
left join order_stats as o using (shop_id)
left join repeaters as rp using (shop_id)
left join menus as m using (shop_id)
left join ratings as r using (shop_id)
left join fulfilment as f using (shop_id)
