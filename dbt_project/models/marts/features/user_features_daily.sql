{{ config(
    indexes=[{"columns": ["user_id", "event_timestamp"]}],
    pre_hook="set local jit = off"
) }}
{#- the planner prices the recent-shops lateral join far above its real cost (a few index
    rows per user-night), and JIT-compiling the plan then takes longer than running it -#}
{%- set n_categories = var('ranking_categories') | length -%}
{%- set n_slots = var('ranking_slots') | length -%}
-- The ranker's user feature history, the source of Feast's `user_features` view: one row per
-- user per night their features changed, stamped with the next local midnight after the
-- visits it reflects (the nightly rebuild), so a point-in-time join never sees a visit before
-- that night is over. Values are as of the night's last visit; formulas and rounding follow
-- models.ranking.raw_features.build_snapshots, which tests/integration checks this against.
-- segment is the age at the local date of the latest visit in the data, like the reference's.
with visits as (
    select * from {{ ref('int_visit_running_totals') }}
),

per_visit as (
    select
        user_id,
        available_at,
        user_visit_seq,
        -- the reference's cumulative mean is NaN at a visit to a shop without coordinates
        case when shop_lat is not null then user_lat_sum / user_visit_seq end as loc_lat,
        case when shop_lon is not null then user_lon_sum / user_visit_seq end as loc_lon
    from visits
),

nights as (
    select
        user_id,
        available_at,
        max(user_visit_seq) as last_seq,
        -- pandas' groupby().last() keeps the night's latest non-NaN value of each column
        (array_agg(loc_lat order by user_visit_seq desc) filter (where loc_lat is not null))[1] as loc_lat,
        (array_agg(loc_lon order by user_visit_seq desc) filter (where loc_lon is not null))[1] as loc_lon
    from per_visit
    group by user_id, available_at
),

latest as (
    select
        v.*,
        n.loc_lat,
        n.loc_lon,
        -- orders per 30 days since the first visit, over at least a week
        greatest(extract(epoch from v.visited_at - v.user_first_visit_at)::double precision / 86400, 7.0) as active_days
    from nights as n
    join visits as v on v.user_id = n.user_id and v.user_visit_seq = n.last_seq
),

reference_date as (
    select coalesce(
        ({{ local_ts('max(visited_at)') }})::date,
        ({{ local_ts('now()') }})::date
    ) as on_date
    from {{ ref('int_visits') }}
),

profiles as (
    select
        u.user_id::bigint as user_id,
        {{ ranking_age_segment('u.birthday', 'r.on_date') }} as segment,
        (case when exists (
            select 1 from {{ ref('stg_naviyam__foodcard_users') }} as c
            where c.user_id = u.user_id and c.card_status = 'ACTIVE'
        ) then 1.0 else 0.0 end)::double precision as is_foodcard
    from {{ ref('stg_naviyam__users') }} as u
    cross join reference_date as r
)

select
    l.user_id,
    l.user_visit_seq::double precision as total_orders,
    l.user_value_sum::double precision / l.user_visit_seq as avg_order_value,
    l.user_visit_seq::double precision / l.active_days * 30.0 as order_frequency,
    l.user_repeat_shops::double precision as favorite_count,
    -- entropy of the (unrounded) category shares, normalised by ln(number of categories)
    -({% for i in range(1, n_categories + 1) -%}
        (case when l.user_category_counts[{{ i }}] > 0
              then (l.user_category_counts[{{ i }}]::double precision / l.user_visit_seq)
                   * ln(l.user_category_counts[{{ i }}]::double precision / l.user_visit_seq)
              else 0 end){{ " +" if not loop.last }}
      {% endfor -%}) / ln({{ n_categories }}::double precision) as category_diversity,
    1.0::double precision - l.user_distinct_shops::double precision / l.user_visit_seq as shop_loyalty,
    l.loc_lat,
    l.loc_lon,
    coalesce(p.is_foodcard, 0.0)::double precision as is_foodcard,
    coalesce(p.segment, 'unknown')::text as segment,
    {{ rounded_shares('l.user_category_counts', 'l.user_visit_seq', n_categories) }} as category_share,
    {{ rounded_shares('l.user_slot_counts', 'l.user_visit_seq', n_slots) }} as slot_share,
    recent.recent_shop_ids,
    l.available_at as event_timestamp,
    now() as created_at
from latest as l
left join profiles as p using (user_id)
left join lateral (
    -- the user's last distinct shops, newest first: visits that were still the latest at their
    -- shop after the night's last visit
    select array_agg(r.shop_id order by r.user_visit_seq desc)::bigint[] as recent_shop_ids
    from (
        select h.shop_id, h.user_visit_seq
        from {{ ref('int_visits') }} as h
        where h.user_id = l.user_id
          and h.user_visit_seq <= l.user_visit_seq
          and (h.next_user_shop_visit_seq is null or h.next_user_shop_visit_seq > l.user_visit_seq)
        order by h.user_visit_seq desc
        limit {{ var('ranking_recent_shops') }}
    ) as r
) as recent on true
