{%- set n_categories = var('ranking_categories') | length -%}
{%- set n_slots = var('ranking_slots') | length -%}
-- Per visit, the running totals of its user and of its shop up to and including it, in the
-- reference's visit order (models.ranking.raw_features.build_snapshots): the user's visits,
-- spend, distinct and repeated shops, coordinate sums and category / slot counts; the shop's
-- distinct and repeat customers, slot counts and the sum of its visitors' category shares
-- (each visitor's share as of that visit). The feature-history marts read the last visit of
-- each entity and night.
with visits as (
    select * from {{ ref('int_visits') }}
),

user_running as (
    select
        visits.*,
        min(visited_at) over (partition by user_id) as user_first_visit_at,
        sum(visit_value) over user_history as user_value_sum,
        count(*) filter (where user_shop_visit_seq = 1) over user_history as user_distinct_shops,
        count(*) filter (where user_shop_visit_seq = 2) over user_history as user_repeat_shops,
        sum(shop_lat) over user_history as user_lat_sum,
        sum(shop_lon) over user_history as user_lon_sum,
        {{ running_counts_by_index('category_idx', n_categories, 'user_history') }} as user_category_counts,
        {{ running_counts_by_index('slot_idx', n_slots, 'user_history') }} as user_slot_counts
    from visits
    window user_history as (partition by user_id order by user_visit_seq rows between unbounded preceding and current row)
)

select
    user_running.*,
    count(*) filter (where user_shop_visit_seq = 1) over shop_history as shop_customers,
    count(*) filter (where user_shop_visit_seq = 2) over shop_history as shop_repeat_customers,
    {{ running_counts_by_index('slot_idx', n_slots, 'shop_history') }} as shop_slot_counts,
    -- in numeric, close to exact: the reference's cumsum is compensated (Kahan), so a plain
    -- float sum would land on the other side of a rounding tie more often than it does
    array[
    {%- for i in range(1, n_categories + 1) -%}
        sum(user_category_counts[{{ i }}]::numeric / user_visit_seq) over shop_history{{ ", " if not loop.last }}
    {%- endfor -%}
    ]::numeric[] as shop_customer_share_sums
from user_running
window shop_history as (partition by shop_id order by shop_visit_seq rows between unbounded preceding and current row)
