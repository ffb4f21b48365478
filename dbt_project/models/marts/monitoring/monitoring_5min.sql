{{
  config(
    materialized='incremental',
    unique_key='bucket_start',
    incremental_strategy='delete+insert',
    tags=['batch_5min']
  )
}}
-- Service health per 5-minute bucket (spec §13 모니터링): response time, cache hit rate, NLU
-- accuracy (where ground truth exists), recommendation CTR, interaction volume. Incremental:
-- each run recomputes the buckets from its newest one minus the late-arrival window, so the
-- 5-minute batch reads only recent log rows. The four §13 thresholds are Dagster asset checks
-- (severity WARN) over the latest hour of buckets.
{% set since = incremental_since('bucket_start') %}
with perf as (
    select
        date_bin('5 minutes', logged_at, '2000-01-01 00:00:00+00') as bucket_start,
        count(*) as request_count,
        count(*) filter (where not success) as error_count,
        avg(total_time_ms) as avg_response_time_ms,
        percentile_cont(0.95) within group (order by total_time_ms) as p95_response_time_ms,
        max(total_time_ms) as max_response_time_ms,
        count(*) filter (where total_time_ms > 500) as slow_requests,
        avg(cache_hit_rate) as cache_hit_rate,
        count(cache_hit_rate) as cache_observations
    from {{ ref('stg_naviyam__performance_logs') }}
    where logged_at >= {{ since }}
    group by 1
),

recs as (
    select
        date_bin('5 minutes', recommended_at, '2000-01-01 00:00:00+00') as bucket_start,
        count(*) as recommendation_requests,
        sum(jsonb_array_length(case when jsonb_typeof(recommendations) = 'array' then recommendations else '[]'::jsonb end))
            as impressions,
        sum((select count(*) from jsonb_array_elements(
                case when jsonb_typeof(recommendations) = 'array' then recommendations else '[]'::jsonb end) as r(item)
             where user_viewed_details @> (r.item->'shop_id')
                or user_viewed_details @> to_jsonb(r.item->>'shop_id')
                or (r.item->>'shop_id') = user_final_selection::text)) as clicks,
        count(*) filter (where user_final_selection is not null) as selections
    from {{ ref('stg_naviyam__recommendations_log') }}
    where recommended_at >= {{ since }}
    group by 1
),

nlu as (
    select
        date_bin('5 minutes', created_at, '2000-01-01 00:00:00+00') as bucket_start,
        count(*) as nlu_predictions,
        count(*) filter (where true_intent is not null) as nlu_labelled,
        count(*) filter (where true_intent is not null and predicted_intent = true_intent) as nlu_correct
    from {{ ref('stg_naviyam__nlu_training_data') }}
    where created_at >= {{ since }}
    group by 1
),

interactions as (
    select
        date_bin('5 minutes', occurred_at, '2000-01-01 00:00:00+00') as bucket_start,
        count(*) as interaction_count,
        count(satisfaction_score) as feedback_count,
        avg(satisfaction_score) as avg_satisfaction
    from {{ ref('stg_naviyam__user_interactions') }}
    where occurred_at >= {{ since }}
    group by 1
),

buckets as (
    select bucket_start from perf
    union select bucket_start from recs
    union select bucket_start from nlu
    union select bucket_start from interactions
)

select
    b.bucket_start,
    b.bucket_start + interval '5 minutes' as bucket_end,
    coalesce(p.request_count, 0) as request_count,
    coalesce(p.error_count, 0) as error_count,
    round(p.avg_response_time_ms::numeric, 1) as avg_response_time_ms,
    round(p.p95_response_time_ms::numeric, 1) as p95_response_time_ms,
    p.max_response_time_ms,
    coalesce(p.slow_requests, 0) as slow_requests,
    round(p.cache_hit_rate, 4) as cache_hit_rate,
    coalesce(p.cache_observations, 0) as cache_observations,
    coalesce(n.nlu_predictions, 0) as nlu_predictions,
    coalesce(n.nlu_labelled, 0) as nlu_labelled,
    coalesce(n.nlu_correct, 0) as nlu_correct,
    case when n.nlu_labelled > 0 then round(n.nlu_correct::numeric / n.nlu_labelled, 4) end as nlu_accuracy,
    coalesce(r.recommendation_requests, 0) as recommendation_requests,
    coalesce(r.impressions, 0) as impressions,
    coalesce(r.clicks, 0) as clicks,
    coalesce(r.selections, 0) as selections,
    round({{ safe_divide('r.clicks', 'r.impressions') }}, 4) as recommendation_ctr,
    coalesce(i.interaction_count, 0) as interaction_count,
    coalesce(i.feedback_count, 0) as feedback_count,
    round(i.avg_satisfaction, 2) as avg_satisfaction,
    now() as computed_at
from buckets as b
left join perf as p using (bucket_start)
left join recs as r using (bucket_start)
left join nlu as n using (bucket_start)
left join interactions as i using (bucket_start)
