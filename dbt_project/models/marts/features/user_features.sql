-- §11 user-level features, one row per registered user (users with no orders get zeros/NULLs).
with users as (
    select * from {{ ref('stg_naviyam__users') }}
),

orders as (
    select o.*, mp.price_percentile
    from {{ ref('int_orders_enriched') }} as o
    left join (
        select
            menu_id,
            case when count(*) over (partition by shop_id) = 1 then 0.5
                 else percent_rank() over (partition by shop_id order by menu_price) end as price_percentile
        from {{ ref('stg_naviyam__menus') }}
    ) as mp using (menu_id)
),

totals as (
    select
        user_id,
        count(*) as total_orders,
        sum(order_amount) as total_spend,
        avg(order_amount) as avg_order_value,
        coalesce(stddev_samp(order_amount), 0) as budget_variability,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(distinct shop_id) as distinct_shops,
        count(distinct shop_category) as distinct_categories,
        avg(case when is_weekend then 1.0 else 0.0 end) as weekend_vs_weekday,
        (1 - avg(price_percentile))::numeric as price_elasticity,
        avg(extract(epoch from ordered_at - previous_ordered_at) / 86400.0) as mean_gap_days,
        count(*) filter (where ordered_at >= {{ as_of() }} - interval '{{ var("recent_days") }} days') as orders_recent,
        count(*) filter (where ordered_at < {{ as_of() }} - interval '{{ var("recent_days") }} days'
                           and ordered_at >= {{ as_of() }} - interval '{{ 2 * var("recent_days") }} days') as orders_prior,
        avg(order_amount) filter (where ordered_at >= {{ as_of() }} - interval '{{ var("recent_days") }} days') as avg_amount_recent,
        avg(order_amount) filter (where ordered_at < {{ as_of() }} - interval '{{ var("recent_days") }} days'
                                    and ordered_at >= {{ as_of() }} - interval '{{ 2 * var("recent_days") }} days') as avg_amount_prior
    from orders
    group by user_id
),

category_shares as (
    select user_id, shop_category, count(*)::numeric / sum(count(*)) over (partition by user_id) as share
    from orders
    where shop_category is not null
    group by user_id, shop_category
),

categories as (
    select
        user_id,
        -sum(share * log(2, share)) as category_diversity,
        (array_agg(shop_category order by share desc, shop_category))[1] as top_category
    from category_shares
    group by user_id
),

slot_shares as (
    select user_id, meal_slot, count(*)::numeric / sum(count(*)) over (partition by user_id) as share
    from orders
    group by user_id, meal_slot
),

slots as (
    select
        user_id,
        1 - (-sum(share * log(2, share))) / log(2, 5) as time_consistency,
        jsonb_agg(meal_slot order by share desc, meal_slot) filter (where share >= 0.25) as preferred_meal_times,
        (array_agg(meal_slot order by share desc, meal_slot))[1] as top_meal_slot
    from slot_shares
    group by user_id
),

shop_counts as (
    select user_id, shop_id, count(*) as n
    from orders
    where shop_id is not null
    group by user_id, shop_id
),

loyalty as (
    select
        user_id,
        max(n)::numeric / sum(n) as shop_loyalty,
        (array_agg(shop_id order by n desc, shop_id))[1] as top_shop_id
    from shop_counts
    group by user_id
),

wallet as (
    select
        user_id,
        count(*) as coupons_issued,
        count(*) filter (where wallet_status = 'USED') as coupons_used
    from {{ ref('stg_naviyam__user_coupon_wallet') }}
    group by user_id
)

select
    u.user_id,
    u.platform_user_id,
    coalesce(t.total_orders, 0) as total_orders,
    coalesce(t.total_spend, 0) as total_spend,
    round(coalesce(t.avg_order_value, 0), 2) as avg_order_value,
    round(coalesce(t.total_orders / greatest(extract(epoch from {{ as_of() }} - t.first_order_at) / (7 * 86400.0), 1), 0), 3)
        as order_frequency,
    coalesce(s.preferred_meal_times, case when s.top_meal_slot is not null then jsonb_build_array(s.top_meal_slot) end)
        as preferred_meal_times,
    s.top_meal_slot,
    round(coalesce(t.weekend_vs_weekday, 0), 3) as weekend_vs_weekday,
    round(coalesce(s.time_consistency, 0), 3) as time_consistency,
    round(coalesce(c.category_diversity, 0), 4) as category_diversity,
    c.top_category,
    round(coalesce(l.shop_loyalty, 0), 3) as shop_loyalty,
    l.top_shop_id,
    round({{ safe_divide('t.distinct_shops', 't.total_orders') }}, 3) as exploration_tendency,
    round(t.price_elasticity, 3) as price_elasticity,
    round({{ safe_divide('w.coupons_used', 'w.coupons_issued') }}, 3) as discount_responsiveness,
    round(coalesce(t.budget_variability, 0), 2) as budget_variability,
    coalesce(w.coupons_issued, 0) as coupons_issued,
    coalesce(w.coupons_used, 0) as coupons_used,
    coalesce(t.distinct_shops, 0) as distinct_shops,
    coalesce(t.distinct_categories, 0) as distinct_categories,
    t.first_order_at,
    t.last_order_at,
    floor(extract(epoch from {{ as_of() }} - t.last_order_at) / 86400)::int as days_since_last_order,
    round(t.mean_gap_days::numeric, 2) as mean_gap_days,
    coalesce(t.orders_recent, 0) as orders_recent,
    coalesce(t.orders_prior, 0) as orders_prior,
    round(t.avg_amount_recent, 2) as avg_amount_recent,
    round(t.avg_amount_prior, 2) as avg_amount_prior
from users as u
left join totals as t using (user_id)
left join categories as c using (user_id)
left join slots as s using (user_id)
left join loyalty as l using (user_id)
left join wallet as w using (user_id)
