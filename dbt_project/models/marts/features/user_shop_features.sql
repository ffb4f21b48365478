-- User × shop interaction features of recommendation_features that do not depend on the live
-- request (§11 상호작용 레벨: previous_satisfaction, reorder_probability, time_since_last_order,
-- category_preference_match, price_range_compatibility, visited_before). One row per pair with
-- history (an order, an impression or a rating); the recommender fills the request-dependent
-- ones (distance, weather, companions, time of request) online.
with orders as (
    select * from {{ ref('int_orders_enriched') }} where shop_id is not null
),

pair_orders as (
    select user_id::text as platform_user_id, shop_id, count(*) as order_count, max(ordered_at) as last_order_at
    from orders
    group by user_id, shop_id
),

pair_impressions as (
    select platform_user_id, shop_id, count(*) as impressions, count(*) filter (where clicked) as clicks
    from {{ ref('int_recommendation_impressions') }}
    group by platform_user_id, shop_id
),

pair_ratings as (
    select platform_user_id, selected_shop_id as shop_id, avg(satisfaction_score) as previous_satisfaction
    from {{ ref('int_interaction_signals') }}
    where satisfaction_score is not null and selected_shop_id is not null
    group by platform_user_id, selected_shop_id
),

pairs as (
    select platform_user_id, shop_id from pair_orders
    union
    select platform_user_id, shop_id from pair_impressions
    union
    select platform_user_id, shop_id from pair_ratings
),

user_category as (
    select user_id::text as platform_user_id, shop_category,
           count(*)::numeric / sum(count(*)) over (partition by user_id) as share
    from orders
    group by user_id, shop_category
)

select
    p.platform_user_id,
    {{ platform_to_user_id('p.platform_user_id') }} as user_id,
    p.shop_id,
    coalesce(po.order_count, 0) as order_count,
    coalesce(po.order_count, 0) > 0 as visited_before,
    po.last_order_at,
    floor(extract(epoch from {{ as_of() }} - po.last_order_at) / 86400)::int as time_since_last_order,
    coalesce(pi.impressions, 0) as impressions,
    coalesce(pi.clicks, 0) as clicks,
    round({{ safe_divide('pi.clicks', 'pi.impressions') }}, 4) as click_through_rate,
    round(pr.previous_satisfaction, 2) as previous_satisfaction,
    round(coalesce(uc.share, 0), 3) as category_preference_match,
    case when uf.total_orders > 0 and sf.median_menu_price is not null
         then round(greatest(1 - abs(sf.median_menu_price - uf.avg_order_value)
                             / greatest(sf.median_menu_price, uf.avg_order_value, 1), 0)::numeric, 3)
    end as price_range_compatibility,
    -- share of the user's orders that went to this shop, decayed with a 60-day time constant
    round(coalesce({{ safe_divide('po.order_count', 'uf.total_orders') }}
          * exp(-extract(epoch from {{ as_of() }} - po.last_order_at) / (60 * 86400.0)), 0)::numeric, 3)
        as reorder_probability
from pairs as p
join {{ ref('stg_naviyam__shops') }} as s on s.shop_id = p.shop_id
left join pair_orders as po on po.platform_user_id = p.platform_user_id and po.shop_id = p.shop_id
left join pair_impressions as pi on pi.platform_user_id = p.platform_user_id and pi.shop_id = p.shop_id
left join pair_ratings as pr on pr.platform_user_id = p.platform_user_id and pr.shop_id = p.shop_id
left join user_category as uc on uc.platform_user_id = p.platform_user_id and uc.shop_category = s.shop_category
left join {{ ref('user_features') }} as uf on uf.platform_user_id = p.platform_user_id
left join {{ ref('shop_features') }} as sf on sf.shop_id = p.shop_id
