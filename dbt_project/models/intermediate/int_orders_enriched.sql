{{ config(indexes=[{"columns": ["user_id", "shop_id"]}]) }}
-- Orders joined to their menu and shop, with local-time parts and per-user sequence numbers.
with orders as (
    select * from {{ ref('stg_naviyam__product_orders') }}
),

menus as (
    select * from {{ ref('stg_naviyam__menus') }}
),

shops as (
    select * from {{ ref('stg_naviyam__shops') }}
),

joined as (
    select
        o.order_id,
        o.user_id,
        o.menu_id,
        m.shop_id,
        s.shop_category,
        m.menu_category,
        s.is_good_influence_shop,
        m.menu_price,
        o.quantity,
        o.order_amount,
        o.ordered_at,
        {{ local_ts('o.ordered_at') }} as ordered_at_local
    from orders as o
    left join menus as m on m.menu_id = o.menu_id
    left join shops as s on s.shop_id = m.shop_id
)

select
    *,
    ordered_at_local::date as order_date,
    to_char(ordered_at_local, 'YYYY-MM') as order_month,
    extract(month from ordered_at_local)::int as order_month_of_year,
    extract(hour from ordered_at_local)::int as order_hour,
    extract(isodow from ordered_at_local)::int as order_isodow,
    extract(isodow from ordered_at_local) in (6, 7) as is_weekend,
    {{ meal_slot('extract(hour from ordered_at_local)') }} as meal_slot,
    least(ceil(extract(day from ordered_at_local) / 7.0)::int, 4) as week_of_month,
    row_number() over (partition by user_id order by ordered_at, order_id) as user_order_seq,
    row_number() over (partition by user_id, shop_id order by ordered_at, order_id) as user_shop_seq,
    row_number() over (partition by user_id, menu_id order by ordered_at, order_id) as user_menu_seq,
    lag(ordered_at) over (partition by user_id order by ordered_at, order_id) as previous_ordered_at
from joined
