-- Derived fields of meal cards (spec §4 foodcard_users).
-- target_age_group from the holder's age on the as-of day: < 13 초등학생, 13-18 중고등학생, else 청년.
-- monthly_usage_pattern: per week of month (days 1-7, 8-14, 15-21, 22-end), the holder's
-- average spend and order count per month over the months with any order.
-- balance_alert_sent: whether a low-balance alert is due now (the balance no longer covers the
-- holder's typical order, 5,000 won when no history) for an ACTIVE card. The chat service
-- sends the alert; the warehouse keeps the flag true while the condition holds.
-- emergency_coupon_eligible: an ACTIVE card whose holder has not received the month-end
-- EMERGENCY_ASSIST coupon in the current month.
with cards as (
    select * from {{ ref('stg_naviyam__foodcard_users') }}
),

holders as (
    select user_id, birthday from {{ ref('stg_naviyam__users') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
    where user_id in (select user_id from cards)
),

weekly as (
    select user_id, week_of_month, sum(order_amount) as amount, count(*) as n
    from orders group by user_id, week_of_month
),

months as (
    select user_id, count(distinct order_month) as active_months, avg(order_amount) as typical_order
    from orders group by user_id
),

pattern as (
    select
        m.user_id,
        jsonb_object_agg(
            'week' || wk,
            jsonb_build_object(
                'amount', round(coalesce(w.amount, 0)::numeric / m.active_months),
                'count', round(coalesce(w.n, 0)::numeric / m.active_months, 1)
            )
        ) as monthly_usage_pattern
    from months as m
    cross join generate_series(1, 4) as wk
    left join weekly as w on w.user_id = m.user_id and w.week_of_month = wk
    group by m.user_id
),

emergency_this_month as (
    select distinct user_id
    from {{ ref('stg_naviyam__user_coupon_wallet') }}
    where coupon_id = 'EMERGENCY_ASSIST'
      and date_trunc('month', {{ local_ts('acquired_at') }}) = date_trunc('month', {{ local_ts(as_of()) }})
)

select
    c.foodcard_user_id,
    c.user_id,
    case
        when h.birthday is null then null
        when extract(year from age({{ as_of_date() }}, h.birthday)) < 13 then '초등학생'
        when extract(year from age({{ as_of_date() }}, h.birthday)) < 19 then '중고등학생'
        else '청년'
    end as target_age_group,
    p.monthly_usage_pattern,
    (c.card_status = 'ACTIVE' and c.balance < coalesce(m.typical_order, 5000)) as balance_alert_sent,
    (c.card_status = 'ACTIVE' and e.user_id is null) as emergency_coupon_eligible
from cards as c
left join holders as h using (user_id)
left join months as m using (user_id)
left join pattern as p using (user_id)
left join emergency_this_month as e using (user_id)
