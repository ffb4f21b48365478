-- Derived fields of wallet entries (spec §4 user_coupon_wallet).
-- usage_probability: USED -> 1, EXPIRED (or past expiry) -> 0; ACTIVE -> the holder's own use
-- rate of finished coupons, Laplace-smoothed ((used + 1) / (used + expired + 2)), scaled down
-- when fewer than 7 days remain (by days left / 7).
-- recommended_usage_date (ACTIVE only): the first day from the as-of day on which the holder
-- usually orders (their most frequent weekday), if it comes before expiry; else the day before
-- expiry (or the as-of day when that has passed).
with wallet as (
    select * from {{ ref('stg_naviyam__user_coupon_wallet') }}
),

history as (
    select
        user_id,
        count(*) filter (where wallet_status = 'USED') as used,
        count(*) filter (where wallet_status = 'EXPIRED') as expired
    from wallet group by user_id
),

favourite_day as (
    select distinct on (user_id) user_id, order_isodow
    from {{ ref('int_orders_enriched') }}
    group by user_id, order_isodow
    order by user_id, count(*) desc, order_isodow
),

enriched as (
    select
        w.*,
        h.used,
        h.expired,
        fd.order_isodow,
        {{ as_of_date() }} as today,
        ({{ local_ts('w.expires_at') }})::date as expiry_day,
        extract(epoch from w.expires_at - {{ as_of() }}) / 86400.0 as days_left
    from wallet as w
    left join history as h using (user_id)
    left join favourite_day as fd using (user_id)
)

select
    wallet_id,
    case
        when wallet_status = 'USED' then 1.000
        when wallet_status = 'EXPIRED' or days_left <= 0 then 0.000
        else round(((coalesce(used, 0) + 1.0) / (coalesce(used, 0) + coalesce(expired, 0) + 2.0)
                    * least(coalesce(days_left, 7) / 7.0, 1))::numeric, 3)
    end as usage_probability,
    case
        when wallet_status <> 'ACTIVE' then null
        when order_isodow is not null
             and (expiry_day is null or today + ((order_isodow - extract(isodow from today)::int + 7) % 7) < expiry_day)
            then today + ((order_isodow - extract(isodow from today)::int + 7) % 7)
        when expiry_day is null then today
        else greatest(expiry_day - 1, today)
    end as recommended_usage_date
from enriched
