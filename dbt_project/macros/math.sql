{# n / d as numeric, 0 when d is 0 or NULL: "CTR with zero impressions is 0". #}
{% macro safe_divide(n, d) -%}
  (case when coalesce({{ d }}, 0) = 0 then 0 else coalesce({{ n }}, 0)::numeric / ({{ d }}) end)
{%- endmacro %}

{# Clamp x into [lo, hi]. #}
{% macro clamp(x, lo=0, hi=1) -%}
  least(greatest({{ x }}, {{ lo }}), {{ hi }})
{%- endmacro %}

{# A JSON scalar that should hold an integer id: the integer, or NULL if it is anything else. #}
{% macro json_int(expr) -%}
  (case when ({{ expr }}) ~ '^[0-9]{1,9}$' then ({{ expr }})::int end)
{%- endmacro %}

{# Text platform user id -> integer users.id when it is its canonical decimal text (sample users'
   platform id is the id); "0001" or "1.0" name no users row. Same rule as infra/platform_ids.py. #}
{% macro platform_to_user_id(column) -%}
  (case when {{ column }} ~ '^[1-9][0-9]{0,8}$' then {{ column }}::int end)
{%- endmacro %}
