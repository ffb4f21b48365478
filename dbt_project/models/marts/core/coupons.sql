-- Derived fields of coupons (spec §4 coupons).
-- is_active: the as-of day lies in [valid_from, valid_until] (open ends allowed).
-- priority_score (0-1, 0 when inactive): 50 % value (won-equivalent discount on an 8,000-won
-- meal, capped at 5,000 won), 30 % use rate (used / issued, Laplace-smoothed), 20 % urgency
-- (expiring within 14 days -> up to 1).
-- avg_order_increase: mean of (order amount the coupon was used on - the user's average order
-- amount), NULL when never used.
-- user_satisfaction_impact is left to the chat service (it needs ratings tied to coupon use).
with coupons as (
    select * from {{ ref('stg_naviyam__coupons') }}
),

wallet as (
    select * from {{ ref('stg_naviyam__user_coupon_wallet') }}
),

user_avg as (
    select user_id, avg(order_amount) as avg_amount from {{ ref('int_orders_enriched') }} group by user_id
),

usage as (
    select
        w.coupon_id,
        count(*) as total_issued,
        count(*) filter (where w.wallet_status = 'USED') as total_used,
        avg(w.used_order_amount - ua.avg_amount) filter (where w.wallet_status = 'USED' and w.used_order_amount is not null)
            as avg_order_increase
    from wallet as w
    left join user_avg as ua using (user_id)
    group by w.coupon_id
),

flags as (
    select
        c.*,
        coalesce(c.valid_from <= {{ as_of_date() }}, true) and coalesce(c.valid_until >= {{ as_of_date() }}, true) as is_active,
        least(coalesce(c.discount_amount, c.discount_rate * 8000), 5000) / 5000.0 as value_score,
        case when c.valid_until is null then 0
             else {{ clamp("1 - (c.valid_until - " ~ as_of_date() ~ ") / 14.0") }} end as urgency
    from coupons as c
)

select
    f.coupon_id,
    f.is_active,
    case when f.is_active
         then round(0.5 * f.value_score
                    + 0.3 * (coalesce(u.total_used, 0) + 1.0) / (coalesce(u.total_issued, 0) + 2.0)
                    + 0.2 * f.urgency, 2)
         else 0 end as priority_score,
    coalesce(u.total_issued, 0) as total_issued,
    coalesce(u.total_used, 0) as total_used,
    round(u.avg_order_increase, 2) as avg_order_increase
from flags as f
left join usage as u using (coupon_id)
