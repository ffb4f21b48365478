-- Derived fields of orders (spec §4 product_orders).
-- order_pattern_score: how typical the order is for the user: mean of the share of the user's
-- orders in the same shop category and the share in the same meal slot (0-1).
-- preference_weight: the user's orders of this menu item / their most-ordered item's count.
-- time_since_last_order: whole days since the user's previous order (NULL for the first).
-- is_reorder: the user ordered this menu item before.
-- order_context: 'emergency' when the user received the month-end EMERGENCY_ASSIST coupon (or
-- used an emergency_assist coupon) within 24 h before the order; 'exploration' for the first
-- order at a shop (other than the user's very first order); otherwise 'regular'.
with orders as (
    select * from {{ ref('int_orders_enriched') }}
),

category_share as (
    select user_id, shop_category, count(*)::numeric / sum(count(*)) over (partition by user_id) as share
    from orders group by user_id, shop_category
),

slot_share as (
    select user_id, meal_slot, count(*)::numeric / sum(count(*)) over (partition by user_id) as share
    from orders group by user_id, meal_slot
),

menu_count as (
    select user_id, menu_id, count(*) as n, max(count(*)) over (partition by user_id) as top_n
    from orders group by user_id, menu_id
),

emergency as (
    select user_id, acquired_at
    from {{ ref('stg_naviyam__user_coupon_wallet') }}
    where coupon_id = 'EMERGENCY_ASSIST' or acquisition_source = 'emergency_assist'
)

select
    o.order_id,
    round((coalesce(cs.share, 0) + ss.share) / 2, 2) as order_pattern_score,
    round(mc.n::numeric / mc.top_n, 2) as preference_weight,
    floor(extract(epoch from o.ordered_at - o.previous_ordered_at) / 86400)::int as time_since_last_order,
    o.user_menu_seq > 1 as is_reorder,
    case
        when exists (
            select 1 from emergency as e
            where e.user_id = o.user_id
              and e.acquired_at between o.ordered_at - interval '24 hours' and o.ordered_at
        ) then 'emergency'
        when o.user_shop_seq = 1 and o.user_order_seq > 1 then 'exploration'
        else 'regular'
    end as order_context
from orders as o
left join category_share as cs on cs.user_id = o.user_id and cs.shop_category is not distinct from o.shop_category
join slot_share as ss on ss.user_id = o.user_id and ss.meal_slot = o.meal_slot
join menu_count as mc on mc.user_id = o.user_id and mc.menu_id is not distinct from o.menu_id
