{# The moment the warehouse is computed as of: var('as_of') when set (tests), else now(). #}
{% macro as_of() -%}
  {%- if var('as_of', none) -%}('{{ var("as_of") }}'::timestamptz){%- else -%}now(){%- endif -%}
{%- endmacro %}

{# A timestamptz column seen as a local (Asia/Seoul) wall-clock timestamp. #}
{% macro local_ts(column) -%}
  ({{ column }} at time zone '{{ var("tz") }}')
{%- endmacro %}

{# The local calendar date of the as-of moment. #}
{% macro as_of_date() -%}
  ({{ local_ts(as_of()) }})::date
{%- endmacro %}

{# 'HH:MM' text -> minutes after midnight (NULL stays NULL). #}
{% macro hhmm_to_minutes(column) -%}
  (split_part({{ column }}, ':', 1)::int * 60 + split_part({{ column }}, ':', 2)::int)
{%- endmacro %}

{# Whether minute-of-day t lies in [a, b): a == b means the whole day, b < a wraps past midnight. #}
{% macro in_daily_window(t, a, b) -%}
  (case
     when {{ a }} = {{ b }} then true
     when {{ a }} < {{ b }} then {{ t }} >= {{ a }} and {{ t }} < {{ b }}
     else {{ t }} >= {{ a }} or {{ t }} < {{ b }}
   end)
{%- endmacro %}

{# Meal slot of a local hour: the service's five time-of-day contexts. #}
{% macro meal_slot(hour) -%}
  (case
     when {{ hour }} between 5 and 9 then 'breakfast'
     when {{ hour }} between 10 and 14 then 'lunch'
     when {{ hour }} between 15 and 16 then 'snack'
     when {{ hour }} between 17 and 20 then 'dinner'
     else 'late_night'
   end)
{%- endmacro %}
