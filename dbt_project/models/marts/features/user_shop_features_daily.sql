{{ config(indexes=[{"columns": ["user_id", "shop_id", "event_timestamp"]}]) }}
-- The ranker's user x shop feature history, the source of Feast's `user_shop_features` view:
-- one row per pair per night the user visited the shop, stamped with the next local midnight
-- (models.ranking.raw_features.build_snapshots).
select
    user_id,
    shop_id,
    max(user_shop_visit_seq)::double precision as visit_count,
    available_at as event_timestamp,
    now() as created_at
from {{ ref('int_visits') }}
group by user_id, shop_id, available_at
