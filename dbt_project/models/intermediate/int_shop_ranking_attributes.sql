-- The shop attributes of the ranker that do not depend on orders, one row per shop
-- (models.ranking.raw_features.shop_static): category and its index, location, the food-card
-- weight, 착한가게, and the median price of the main / set menus (of every menu when a shop
-- has none, var('ranking_default_median_price') without menus).
with shops as (
    select * from {{ ref('stg_naviyam__shops') }}
),

prices as (
    select
        shop_id,
        percentile_cont(0.5) within group (order by menu_price)
            filter (where menu_category in ('{{ var("ranking_main_menu_roles") | join("', '") }}')) as main_median_price,
        percentile_cont(0.5) within group (order by menu_price) as median_menu_price
    from {{ ref('stg_naviyam__menus') }}
    group by shop_id
)

select
    s.shop_id::bigint as shop_id,
    s.shop_category::text as category,
    {{ ranking_category_idx('s.shop_category') }}::bigint as category_idx,
    s.latitude::double precision as lat,
    s.longitude::double precision as lon,
    (case s.is_food_card_shop
     {%- for flag, weight in var('ranking_food_card_weights').items() %}
        when '{{ flag }}' then {{ weight }}
     {%- endfor %}
        else {{ var('ranking_food_card_weights')['U'] }}
     end)::double precision as takes_food_card,
    (case when s.is_good_influence_shop then 1.0 else 0.0 end)::double precision as is_good_influence,
    coalesce(p.main_median_price, p.median_menu_price, {{ var('ranking_default_median_price') }})::double precision
        as median_price
from shops as s
left join prices as p using (shop_id)
