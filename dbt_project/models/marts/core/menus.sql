-- Derived fields of menus (spec §4 menus). The nutrition fields (estimated_calories,
-- healthiness_score, dietary_tags) are RULE-BASED, standing in for the spec's nutrition AI:
-- the longest dish keyword of the seed menu_nutrition_rules found in the menu name gives the
-- calories, healthiness and tags; set menus count 1.5 servings; spice cue words in the name or
-- description add "spicy"; an unmatched name falls back to its menu category's typical values.
-- meal_kind (what the chat service offers a hungry child first) is rule-based too, from the menu's
-- role, its shop's category and its price: drinks and sides are drink/side, desserts snack; a main
-- dish at a bakery or café is a snack unless it is a sandwich-like meal; a main dish cheaper than
-- var meal_min_price is a snack (어묵 한 꼬치); everything else is a meal.
with menus as (
    select m.*, s.shop_category
    from {{ ref('stg_naviyam__menus') }} as m
    left join {{ ref('stg_naviyam__shops') }} as s using (shop_id)
),

rules as (
    select keyword, calories::int as calories, healthiness::numeric as healthiness, tags from {{ ref('menu_nutrition_rules') }}
),

matched as (
    select distinct on (m.menu_id)
        m.menu_id, r.keyword, r.calories, r.healthiness, r.tags
    from menus as m
    join rules as r on strpos(m.menu_name, r.keyword) > 0
    order by m.menu_id, length(r.keyword) desc, r.keyword
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

menu_orders as (
    select
        menu_id,
        count(*) as orders,
        count(distinct user_id) as customers,
        count(distinct user_id) filter (where user_menu_seq = 2) as reorder_customers
    from orders
    group by menu_id
),

monthly as (
    select menu_id, order_month_of_year, count(*) as n
    from orders
    group by menu_id, order_month_of_year
),

seasonal as (
    select
        m.menu_id,
        jsonb_object_agg(mo || '월', round(coalesce(x.n, 0)::numeric / nullif(mx.peak, 0), 3) order by mo)
            as seasonal_popularity
    from (select distinct menu_id from monthly) as m
    cross join generate_series(1, 12) as mo
    left join monthly as x on x.menu_id = m.menu_id and x.order_month_of_year = mo
    join (select menu_id, max(n) as peak from monthly group by menu_id) as mx on mx.menu_id = m.menu_id
    group by m.menu_id
),

recommended as (
    select (menu.value #>> '{}')::int as menu_id, count(*) as times
    from {{ ref('int_recommendation_impressions') }} as i
    cross join lateral jsonb_array_elements(i.menu_ids) as menu(value)
    where (menu.value #>> '{}') ~ '^[0-9]{1,9}$'
    group by 1
),

scored as (
    select
        m.*,
        coalesce(mo.orders, 0) as orders,
        coalesce(mo.customers, 0) as customers,
        coalesce(mo.reorder_customers, 0) as reorder_customers,
        case when coalesce(mo.orders, 0) = 0 then 0
             else percent_rank() over (partition by m.shop_id order by coalesce(mo.orders, 0))::numeric end
            as rank_in_shop
    from menus as m
    left join menu_orders as mo using (menu_id)
)

select
    s.menu_id,
    s.shop_id,
    coalesce(rc.times, 0)::int as recommendation_frequency,
    -- 60 % rank of the menu's orders within its shop, 40 % share of its customers who reordered
    -- it (Laplace-smoothed); never-ordered menus score 0
    case when s.orders = 0 then 0
         else round(0.6 * s.rank_in_shop + 0.4 * (s.reorder_customers + 1.0) / (s.customers + 2.0), 3)
    end as user_preference_score,
    se.seasonal_popularity,
    round(coalesce(mt.calories, case s.menu_category
        when '세트메뉴' then 950 when '사이드메뉴' then 300 when '음료' then 150 when '디저트' then 350 else 650 end)
        * case when s.menu_category = '세트메뉴' and mt.keyword is not null then 1.5 else 1 end)::int as estimated_calories,
    round({{ clamp(
        "coalesce(mt.healthiness, case s.menu_category when '음료' then 2.8 when '디저트' then 1.8 when '세트메뉴' then 2.6 else 3.0 end)"
        ~ " - case when s.menu_category = '세트메뉴' then 0.3 else 0 end", 0, 5) }}, 2) as healthiness_score,
    (
        select coalesce(jsonb_agg(distinct tag order by tag), '[]'::jsonb)
        from unnest(
            string_to_array(coalesce(mt.tags, ''), '|')
            || case when (s.menu_name || ' ' || s.menu_description) ~ '(매콤|매운|얼큰|칼칼|화끈|불닭|마라)'
                    then array['spicy'] else array[]::text[] end
        ) as tag
        where tag <> ''
    ) as dietary_tags,
    mt.keyword as nutrition_rule_keyword,
    s.orders as total_orders,
    case
        when s.menu_category = '음료' then 'drink'
        when s.menu_category = '사이드메뉴' then 'side'
        when s.menu_category = '디저트' then 'snack'
        when s.shop_category in ('카페·디저트', '베이커리')
             and s.menu_name !~ '{{ var("meal_words_at_snack_shops") }}' then 'snack'
        when s.menu_price < {{ var('meal_min_price') }} then 'snack'
        else 'meal'
    end as meal_kind
from scored as s
left join matched as mt using (menu_id)
left join seasonal as se using (menu_id)
left join recommended as rc using (menu_id)
