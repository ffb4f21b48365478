{{ config(indexes=[{"columns": ["shop_id", "event_timestamp"]}]) }}
{%- set n_categories = var('ranking_categories') | length -%}
{%- set n_slots = var('ranking_slots') | length -%}
-- The ranker's shop feature history, the source of Feast's `shop_features` view
-- (models.ranking.raw_features.build_snapshots, which tests/integration checks this against):
-- * every shop has a row at the epoch (2000-01-01 UTC) with zero counts and even shares, so a
--   shop nobody ordered from is still scorable (the Feast views have no TTL);
-- * then one row per night its orders changed, stamped with the next local midnight, as of the
--   night's last visit, with order_count_30d (visits on the 30 local days before the stamp)
--   and popularity_pct, its order-count percentile among all shops that night (average rank
--   of ties / number of shops, shops without orders counting 0), pandas'
--   rank(pct=True, method="average").
with attributes as (
    select * from {{ ref('int_shop_ranking_attributes') }}
),

-- the shop's running totals after the last visit of each night it had visits
changes as (
    select distinct on (shop_id, available_at)
        shop_id,
        available_at,
        shop_visit_seq,
        count(*) over (partition by shop_id, available_at) as night_visits,
        shop_customers,
        shop_repeat_customers,
        shop_slot_counts,
        shop_customer_share_sums
    from {{ ref('int_visit_running_totals') }}
    order by shop_id, available_at, shop_visit_seq desc
),

last_30_days as (
    select
        shop_id,
        available_at,
        -- a stamp counts the visits of its own night and the 29 before: 30 local days
        sum(night_visits) over (
            partition by shop_id order by ({{ local_ts('available_at') }})::date - date '2000-01-01'
            range between 29 preceding and current row
        ) as order_count_30d
    from changes
),

-- popularity_pct without a nights x shops grid. A shop's count reaches k on the night its k-th
-- visit shows, so on a night the shops counting at least k are a running count of k-th visits.
-- Each changed row (count x) asks it for k = x and k = x + 1: shops below it = all - at_least(x),
-- its ties = at_least(x) - at_least(x + 1), itself included.
rank_inputs as (
    select shop_visit_seq as order_count, available_at, 1 as reached, null::bigint as shop_id, null::int as probe
    from {{ ref('int_visits') }}
    union all
    select c.shop_visit_seq + probe.step, c.available_at, 0, c.shop_id, probe.step
    from changes as c
    cross join (values (0), (1)) as probe (step)
),

shops_reaching as (
    select
        shop_id,
        available_at,
        probe,
        reached,
        -- a visit showing on the same night counts: ties sort the visits first
        sum(reached) over (
            partition by order_count order by available_at, reached desc rows between unbounded preceding and current row
        ) as shops
    from rank_inputs
),

popularity as (
    select
        q.shop_id,
        q.available_at,
        -- (shops below + (ties + 1) / 2) / all shops: the average rank of the ties, as a fraction
        (n.shops - q.at_least + (q.at_least - q.above + 1)::double precision / 2) / n.shops as popularity_pct
    from (
        select
            shop_id,
            available_at,
            max(shops) filter (where probe = 0) as at_least,
            max(shops) filter (where probe = 1) as above
        from shops_reaching
        where reached = 0
        group by shop_id, available_at
    ) as q
    cross join (select count(*) as shops from attributes) as n
),

epoch as (
    select
        shop_id,
        category,
        category_idx,
        lat,
        lon,
        median_price,
        0.0::double precision as order_count,
        0.0::double precision as order_count_30d,
        0.0::double precision as distinct_customers,
        0.0::double precision as repeat_customer_rate,
        0.0::double precision as popularity_pct,
        takes_food_card,
        is_good_influence,
        {{ uniform_shares(n_slots) }} as slot_share,
        {{ uniform_shares(n_categories) }} as customer_taste,
        timestamptz '2000-01-01 00:00:00+00' as event_timestamp
    from attributes
),

changed as (
    select
        c.shop_id,
        a.category,
        a.category_idx,
        a.lat,
        a.lon,
        a.median_price,
        c.shop_visit_seq::double precision as order_count,
        w.order_count_30d::double precision as order_count_30d,
        c.shop_customers::double precision as distinct_customers,
        (case when c.shop_customers > 0
              then c.shop_repeat_customers::double precision / c.shop_customers else 0 end)::double precision
            as repeat_customer_rate,
        p.popularity_pct,
        a.takes_food_card,
        a.is_good_influence,
        {{ rounded_shares('c.shop_slot_counts', 'c.shop_visit_seq', n_slots) }} as slot_share,
        array[
        {%- for i in range(1, n_categories + 1) -%}
            {{ round_like_numpy('(c.shop_customer_share_sums[' ~ i ~ '] / c.shop_visit_seq)::double precision') }}{{ ", " if not loop.last }}
        {%- endfor -%}
        ]::double precision[] as customer_taste,
        c.available_at as event_timestamp
    from changes as c
    join attributes as a using (shop_id)
    join last_30_days as w using (shop_id, available_at)
    join popularity as p using (shop_id, available_at)
)

select *, now() as created_at from epoch
union all
select *, now() as created_at from changed
