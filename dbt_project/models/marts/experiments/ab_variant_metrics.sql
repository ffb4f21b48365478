-- The ranking A/B test (spec §12 scenario 3), per variant: one row per model_variant of
-- recommendations_log, over the lists shown since var('ab_since') (all when null).
-- A list is the unit of the order rate; impressions are the unit of CTR. Reactions come from
-- /feedback: views are recorded on the list (user_viewed_details), orders and ratings in
-- user_interactions (joined by the list's event id). Intervals are 95 % normal approximations
-- (Wald for proportions, mean ± 1.96·s/√n for means); the Dagster asset `experiments/ab_decision`
-- runs the two-sample tests (two-proportion z, Welch t) and decides.
with lists as (
    select
        recommendation_event_id,
        recommended_at,
        platform_user_id,
        model_variant as variant,
        recommendation_count as impressions,
        jsonb_array_length(user_viewed_details) as views
    from {{ ref('stg_naviyam__recommendations_log') }}
    where recommendation_count > 0
      and model_variant is not null
      {% if var('ab_since') %}and recommended_at >= cast('{{ var("ab_since") }}' as timestamptz){% endif %}
),

reactions as (
    select
        recommendation_event_id,
        bool_or(interaction_type = 'order') as ordered,
        avg(satisfaction_score) filter (where satisfaction_score is not null) as satisfaction,
        avg(final_price::numeric / card_balance_before)
            filter (where interaction_type = 'order' and card_balance_before > 0) as price_to_balance,
        avg(final_price) filter (where interaction_type = 'order') as final_price
    from {{ ref('stg_naviyam__user_interactions') }}
    where recommendation_event_id is not null
    group by 1
),

per_list as (
    select
        l.*,
        coalesce(r.ordered, false) as ordered,
        r.satisfaction,
        r.price_to_balance,
        r.final_price
    from lists as l
    left join reactions as r using (recommendation_event_id)
),

agg as (
    select
        variant,
        count(*) as lists,
        count(distinct platform_user_id) as users,
        sum(impressions) as impressions,
        sum(views) as views,
        sum(ordered::int) as orders,
        count(satisfaction) as satisfaction_n,
        avg(satisfaction) as satisfaction_mean,
        stddev_samp(satisfaction) as satisfaction_sd,
        count(price_to_balance) as price_to_balance_n,
        avg(price_to_balance) as price_to_balance_mean,
        stddev_samp(price_to_balance) as price_to_balance_sd,
        avg(final_price) as final_price_mean,
        min(recommended_at) as first_shown_at,
        max(recommended_at) as last_shown_at
    from per_list
    group by 1
)

select
    variant,
    lists,
    users,
    impressions,
    views,
    round(views::numeric / nullif(impressions, 0), 5) as ctr,
    {{ wald_bound('views', 'impressions', 'low') }} as ctr_ci_low,
    {{ wald_bound('views', 'impressions', 'high') }} as ctr_ci_high,
    orders,
    round(orders::numeric / nullif(lists, 0), 5) as order_rate,
    {{ wald_bound('orders', 'lists', 'low') }} as order_rate_ci_low,
    {{ wald_bound('orders', 'lists', 'high') }} as order_rate_ci_high,
    satisfaction_n,
    round(satisfaction_mean::numeric, 4) as satisfaction_mean,
    round(satisfaction_sd::numeric, 4) as satisfaction_sd,
    {{ mean_bound('satisfaction_mean', 'satisfaction_sd', 'satisfaction_n', 'low') }} as satisfaction_ci_low,
    {{ mean_bound('satisfaction_mean', 'satisfaction_sd', 'satisfaction_n', 'high') }} as satisfaction_ci_high,
    price_to_balance_n,
    round(price_to_balance_mean::numeric, 4) as price_to_balance_mean,
    round(price_to_balance_sd::numeric, 4) as price_to_balance_sd,
    {{ mean_bound('price_to_balance_mean', 'price_to_balance_sd', 'price_to_balance_n', 'low') }} as price_to_balance_ci_low,
    {{ mean_bound('price_to_balance_mean', 'price_to_balance_sd', 'price_to_balance_n', 'high') }} as price_to_balance_ci_high,
    round(final_price_mean::numeric, 1) as final_price_mean,
    first_shown_at,
    last_shown_at
from agg
