-- The [DERIVED] and [AI_COMPUTED] columns of user_profiles (spec §8), one row per registered
-- user with any order or chat activity. The [CHATBOT_GENERATED] columns (preferred_categories,
-- average_budget, good_influence_preference, interaction_count) are the chat service's; this
-- model carries its own order-based estimates of them for users the service has not met yet.
-- personality_type (rule-based, checked in this order): deal_seeker (uses >= 50 % of its
-- coupons and price_elasticity >= 0.6), explorer (exploration_tendency >= 0.6 with >= 3
-- orders), loyalist (shop_loyalty >= 0.5 with >= 3 orders), else convenience_first.
-- decision_making_speed from the median time to decision in recommendation logs (< 15 s quick,
-- < 60 s moderate, else deliberate; NULL without logs).
-- next_order_prediction: last order + the user's mean gap (population median when unknown),
-- the most frequent category, the average amount rounded to 500 won; confidence grows with the
-- number of orders and shrinks with time-of-day inconsistency.
with features as (
    select * from {{ ref('user_features') }}
),

users as (
    select * from {{ ref('users') }}
),

activity as (
    select * from {{ ref('int_user_activity') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

ranked_orders as (
    select *, row_number() over (partition by user_id order by ordered_at desc, order_id desc) as recency_rank
    from orders
),

recent as (
    select
        user_id,
        jsonb_agg(jsonb_build_object(
            'order_id', order_id, 'menu_id', menu_id, 'shop_id', shop_id, 'category', shop_category,
            'amount', order_amount, 'ordered_at', to_char(ordered_at_local, 'YYYY-MM-DD"T"HH24:MI:SS')
        ) order by recency_rank) as recent_orders
    from ranked_orders
    where recency_rank <= 10
    group by user_id
),

favourite as (
    select user_id, jsonb_agg(shop_id order by n desc, shop_id) filter (where rn <= 3) as favorite_shops
    from (
        select user_id, shop_id, count(*) as n,
               row_number() over (partition by user_id order by count(*) desc, shop_id) as rn
        from orders where shop_id is not null group by user_id, shop_id
    ) as s
    group by user_id
),

preferred as (
    select user_id, jsonb_agg(shop_category order by n desc, shop_category) filter (where rn <= 3) as preferred_categories
    from (
        select user_id, shop_category, count(*) as n,
               row_number() over (partition by user_id order by count(*) desc, shop_category) as rn
        from orders where shop_category is not null group by user_id, shop_category
    ) as c
    group by user_id
),

monthly as (
    select user_id, jsonb_object_agg(order_month, stats) as monthly_stats
    from (
        select user_id, order_month,
               jsonb_build_object('orders', count(*), 'spend', sum(order_amount),
                                  'avg_amount', round(avg(order_amount)), 'shops', count(distinct shop_id)) as stats
        from orders group by user_id, order_month
    ) as m
    group by user_id
),

coupon_use as (
    select
        w.user_id,
        jsonb_build_object(
            'issued', count(*),
            'used', count(*) filter (where w.wallet_status = 'USED'),
            'expired', count(*) filter (where w.wallet_status = 'EXPIRED'),
            'usage_rate', round({{ safe_divide("count(*) filter (where w.wallet_status = 'USED')", 'count(*)') }}, 3),
            'avg_discount', round(avg(w.discount_applied) filter (where w.wallet_status = 'USED')),
            'prefers', case
                when count(*) filter (where w.wallet_status = 'USED' and c.discount_rate is not null)
                     > count(*) filter (where w.wallet_status = 'USED' and c.discount_amount is not null) then 'rate'
                when count(*) filter (where w.wallet_status = 'USED') > 0 then 'amount'
            end,
            'sources', (select jsonb_object_agg(src, n) from (
                select coalesce(acquisition_source, 'unknown') as src, count(*) as n
                from {{ ref('stg_naviyam__user_coupon_wallet') }} as w2
                where w2.user_id = w.user_id group by 1) as s)
        ) as coupon_preference
    from {{ ref('stg_naviyam__user_coupon_wallet') }} as w
    left join {{ ref('stg_naviyam__coupons') }} as c using (coupon_id)
    group by w.user_id
),

ratings as (
    select
        user_id,
        avg(satisfaction_score) filter (where rn <= 3) as recent_rating,
        avg(satisfaction_score) filter (where rn > 3) as earlier_rating
    from (
        select user_id, satisfaction_score,
               row_number() over (partition by user_id order by occurred_at desc) as rn
        from {{ ref('int_interaction_signals') }}
        where satisfaction_score is not null and user_id is not null
    ) as r
    group by user_id
),

good_influence as (
    select user_id, avg(case when is_good_influence_shop then 1.0 else 0.0 end) as share
    from orders group by user_id
),

population_gap as (
    select coalesce(percentile_cont(0.5) within group (order by mean_gap_days), 7) as median_gap_days
    from features where mean_gap_days is not null
)

select
    f.platform_user_id as user_id,
    f.user_id as registered_user_id,
    p.preferred_categories,
    (round(f.avg_order_value / 500) * 500)::int as average_budget,
    round(g.share, 2) as good_influence_preference,
    coalesce(a.conversation_turns, 0) + coalesce(a.signal_events, 0) as interaction_count,
    fav.favorite_shops,
    r.recent_orders,
    cu.coupon_preference,
    m.monthly_stats,
    case
        when f.total_orders = 0 then null
        when f.discount_responsiveness >= 0.5 and f.price_elasticity >= 0.6 then 'deal_seeker'
        when f.exploration_tendency >= 0.6 and f.total_orders >= 3 then 'explorer'
        when f.shop_loyalty >= 0.5 and f.total_orders >= 3 then 'loyalist'
        else 'convenience_first'
    end as personality_type,
    case
        when a.median_time_to_decision_ms is null then null
        when a.median_time_to_decision_ms < 15000 then 'quick'
        when a.median_time_to_decision_ms < 60000 then 'moderate'
        else 'deliberate'
    end as decision_making_speed,
    f.price_elasticity,
    f.shop_loyalty as brand_loyalty_score,
    case when f.total_orders > 0 then jsonb_build_object(
        'predicted_date', to_char(
            greatest(({{ local_ts('f.last_order_at') }})::date + ceil(coalesce(f.mean_gap_days, pg.median_gap_days))::int,
                     {{ as_of_date() }}), 'YYYY-MM-DD'),
        'predicted_category', f.top_category,
        'predicted_meal_time', f.top_meal_slot,
        'predicted_budget', (round(f.avg_order_value / 500) * 500)::int,
        'confidence', round((1 - exp(-f.total_orders / 5.0)) * (0.5 + 0.5 * f.time_consistency), 2)
    ) end as next_order_prediction,
    jsonb_build_object(
        'last_order_days_ago', f.days_since_last_order,
        'order_frequency_declining', f.orders_recent < f.orders_prior,
        'satisfaction_declining', coalesce(ra.recent_rating < ra.earlier_rating, false),
        'budget_constraints_increasing', coalesce(f.avg_amount_recent < 0.9 * f.avg_amount_prior, false),
        'churn_probability', u.churn_probability
    ) as churn_risk_factors
from features as f
join users as u using (user_id)
cross join population_gap as pg
left join activity as a on a.user_id = f.user_id
left join preferred as p on p.user_id = f.user_id
left join good_influence as g on g.user_id = f.user_id
left join favourite as fav on fav.user_id = f.user_id
left join recent as r on r.user_id = f.user_id
left join coupon_use as cu on cu.user_id = f.user_id
left join monthly as m on m.user_id = f.user_id
left join ratings as ra on ra.user_id = f.user_id
where f.total_orders > 0 or a.platform_user_id is not null
