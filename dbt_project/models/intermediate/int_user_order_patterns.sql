-- Order-derived behaviour patterns per user (peak hours, preferred days, category shares by
-- month, preferences per meal slot). Split from the users mart so the 5-minute batch, which
-- rebuilds users for its chat-derived columns, does not re-aggregate the order history.
with orders as (
    select * from {{ ref('int_orders_enriched') }}
),

hours as (
    select user_id, order_hour as hour, count(*) as n from orders group by user_id, order_hour
),

peak_hours as (
    select user_id, jsonb_agg(hour order by n desc, hour) filter (where rn <= 3) as peak_hours
    from (select *, row_number() over (partition by user_id order by n desc, hour) as rn from hours) as h
    group by user_id
),

days as (
    select user_id, trim(to_char(ordered_at_local, 'Day')) as day_name, count(*) as n
    from orders group by user_id, trim(to_char(ordered_at_local, 'Day'))
),

preferred_days as (
    select user_id, jsonb_agg(day_name order by n desc, day_name) filter (where rn <= 2) as preferred_days
    from (select *, row_number() over (partition by user_id order by n desc, day_name) as rn from days) as d
    group by user_id
),

monthly_category as (
    select user_id, order_month, shop_category,
           round(count(*)::numeric / sum(count(*)) over (partition by user_id, order_month), 3) as share
    from orders
    where shop_category is not null
    group by user_id, order_month, shop_category
),

evolution as (
    select user_id, jsonb_object_agg(order_month, categories) as preference_evolution
    from (
        select user_id, order_month, jsonb_object_agg(shop_category, share) as categories
        from monthly_category group by user_id, order_month
    ) as m
    group by user_id
),

slot_category as (
    select user_id, meal_slot, shop_category, count(*) as n,
           row_number() over (partition by user_id, meal_slot order by count(*) desc, shop_category) as rn
    from orders
    where shop_category is not null
    group by user_id, meal_slot, shop_category
),

slot_top_categories as (
    select user_id, meal_slot, jsonb_agg(shop_category order by rn) as categories
    from slot_category
    where rn <= 2
    group by user_id, meal_slot
),

slot_budget as (
    select user_id, meal_slot, (round(avg(order_amount) / 500) * 500)::int as budget, count(*) as n
    from orders group by user_id, meal_slot
),

context as (
    select
        b.user_id,
        jsonb_object_agg(
            b.meal_slot,
            jsonb_build_object('categories', c.categories, 'budget', b.budget, 'orders', b.n)
        ) as context_preferences
    from slot_budget as b
    left join slot_top_categories as c on c.user_id = b.user_id and c.meal_slot = b.meal_slot
    group by b.user_id
)

select
    u.user_id,
    coalesce(ph.peak_hours, '[]'::jsonb) as peak_hours,
    coalesce(pd.preferred_days, '[]'::jsonb) as preferred_days,
    ev.preference_evolution,
    cx.context_preferences
from {{ ref('stg_naviyam__users') }} as u
left join peak_hours as ph using (user_id)
left join preferred_days as pd using (user_id)
left join evolution as ev using (user_id)
left join context as cx using (user_id)
