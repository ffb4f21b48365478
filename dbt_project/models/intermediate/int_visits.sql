{{ config(indexes=[{"columns": ["visit_seq"], "unique": true}, {"columns": ["user_id", "user_visit_seq"]}]) }}
-- One row per visit, the unit every ranking feature counts: the order lines of one user at one
-- shop in the same var('ranking_basket_minutes')-minute bucket (floored on absolute time, as
-- pandas' dt.floor does), stamped with its first line's time and valued at the sum of its lines
-- (models.ranking.raw_features.visits_from_orders). Visits are numbered in the reference's
-- order (time, user, shop) overall and within their user, user x shop pair and shop, so the
-- running features downstream accumulate in the same order as the Python reference.
with lines as (
    select
        user_id,
        shop_id,
        ordered_at,
        order_amount,
        date_bin(interval '{{ var("ranking_basket_minutes") }} minutes', ordered_at, timestamptz '2000-01-01 00:00:00+00')
            as basket_start
    from {{ ref('int_orders_enriched') }}
    -- a line whose menu is gone belongs to no shop (the reference's inner join)
    where shop_id is not null
),

baskets as (
    select
        user_id::bigint as user_id,
        shop_id::bigint as shop_id,
        min(ordered_at) as visited_at,
        sum(order_amount)::bigint as visit_value,
        count(*) as order_lines
    from lines
    group by user_id, shop_id, basket_start
),

placed as (
    select
        b.*,
        {{ local_ts('b.visited_at') }} as visited_at_local,
        coalesce(a.category_idx, 0) as category_idx,
        a.lat as shop_lat,
        a.lon as shop_lon
    from baskets as b
    left join {{ ref('int_shop_ranking_attributes') }} as a using (shop_id)
),

numbered as (
    select
        row_number() over (order by visited_at, user_id, shop_id) as visit_seq,
        user_id,
        shop_id,
        visited_at,
        -- the nightly rebuild: a visit on local day D shows in the row stamped D+1 00:00 local
        (date_trunc('day', visited_at_local) + interval '1 day') at time zone '{{ var("tz") }}' as available_at,
        visit_value,
        order_lines,
        category_idx,
        {{ ranking_slot_idx('(extract(hour from visited_at_local)::int * 60 + extract(minute from visited_at_local)::int)') }}
            as slot_idx,
        shop_lat,
        shop_lon,
        row_number() over (partition by user_id order by visited_at, shop_id) as user_visit_seq,
        row_number() over (partition by user_id, shop_id order by visited_at) as user_shop_visit_seq,
        row_number() over (partition by shop_id order by visited_at, user_id) as shop_visit_seq
    from placed
)

select
    *,
    -- while a visit is the user's latest at its shop, that shop is in the user's recent list
    lead(user_visit_seq) over (partition by user_id, shop_id order by user_visit_seq) as next_user_shop_visit_seq
from numbered
