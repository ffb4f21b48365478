{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='fail',
    pre_hook=["set local jit = off", "{% if is_incremental() %}delete from {{ this }}{% endif %}"]
) }}
{#- Replaced whole on every run, in one transaction (the delete above, then the insert), rather
    than materialized as a table: dbt rebuilds a table by dropping the old one with CASCADE, which
    would drop the staging views that read it. full_refresh=false for the same reason (a change of
    its columns fails the run: drop it with CASCADE and build staging again). JIT off: compiling
    the plan over every partition took 20 s, running it 3 s (two million live rows). -#}
-- The live-table rows the staging models leave out, one row each with every rule it failed
-- (macros/live_quality.sql): the batch sets a bad row aside here instead of failing on it.
-- Recomputed from the live tables on every run (a pass for the row-level rules and one grouping
-- per key: about 1-2 s per million live rows), so a row that is corrected or deleted leaves it,
-- and the retention policy applies to it as to its table. Stored, not a view: the staging views
-- anti-join it, and the operator's check and `naviyam data quarantine --source live` read the
-- batch's snapshot instead of re-checking every live row. What the child typed (input_text,
-- response_text) is left out of source_row: the row's key finds it in its table.
with
{%- for table in live_tables() %}
{%- set src = source('naviyam', table) %}
{{ table }}_failures as (
    select s.id, s."timestamp", rule.n, rule.reason
    from {{ src }} as s
    cross join lateral (values
        {%- for reason, condition in live_rules(table) %}
        ({{ loop.index }}, case when coalesce({{ condition }}, false) then '{{ reason }}' end){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as rule (n, reason)
    where {{ live_row_fails(table) }} and rule.reason is not null
    {%- for reason, column in live_keys() %}
    union all
    -- every row holding a shared {{ column }} but the earliest
    select s.id, s."timestamp", {{ 100 + loop.index }}, '{{ reason }}'
    from {{ src }} as s
    inner join (
        select {{ column }}, min("timestamp") as first_at
        from {{ src }}
        where {{ column }} is not null
        group by {{ column }}
        having count(*) > 1
    ) as shared on shared.{{ column }} = s.{{ column }} and s."timestamp" > shared.first_at
    {%- endfor %}
){% if not loop.last %},{% endif %}
{%- endfor %}

{% for table in live_tables() %}
{% if not loop.first %}union all{% endif %}
select
    '{{ table }}'::text as source_table,
    s.id as row_id,
    s."timestamp" as occurred_at,
    f.reasons,
    to_jsonb(s) - 'input_text' - 'response_text' as source_row
from (
    select id, "timestamp", jsonb_agg(reason order by n) as reasons
    from {{ table }}_failures
    group by id, "timestamp"
) as f
inner join {{ source('naviyam', table) }} as s on s.id = f.id and s."timestamp" = f."timestamp"
{%- endfor %}
