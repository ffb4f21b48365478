{#
  The ranker's feature contract in SQL, for the feature-history marts. Each macro mirrors one
  piece of models/ranking (features.py, raw_features.py); the constants are the ranking_* vars
  in dbt_project.yml, and tests/integration/test_feature_history_parity.py checks the result.
#}

{# Index of a shop category in var('ranking_categories'); an unknown category is 0, like CATEGORY_INDEX. #}
{% macro ranking_category_idx(category) -%}
  (case {{ category }}
  {%- for c in var('ranking_categories') %} when '{{ c }}' then {{ loop.index0 }}{% endfor %}
   else 0 end)
{%- endmacro %}

{# Meal slot index (var('ranking_slots')) of a local minute of the day, like slot_of_minute. #}
{% macro ranking_slot_idx(minute) -%}
  {%- set starts = var('ranking_slot_starts') -%}
  (case
  {%- for i in range(starts | length - 1) %}
     when {{ minute }} >= {{ starts[i] }} and {{ minute }} < {{ starts[i + 1] }} then {{ i }}
  {%- endfor %}
     else {{ starts | length - 1 }}
   end)
{%- endmacro %}

{#
  numpy's round(x, digits): x * 10^digits rounded to the nearest integer, ties to even, then
  divided back, all in double precision. PostgreSQL's round(double precision) is rint(), so a
  share like 0.03125 becomes 0.0312 here as in the Python reference (round(numeric) would
  give 0.0313).
#}
{% macro round_like_numpy(x, digits=4) -%}
  (round(({{ x }})::double precision * {{ 10 ** digits }}::double precision) / {{ 10 ** digits }}::double precision)
{%- endmacro %}

{# Running counts (an int array) -> shares rounded like the reference, as a double precision array. #}
{% macro rounded_shares(counts, total, n) -%}
  array[
  {%- for i in range(1, n + 1) -%}
    {{ round_like_numpy(counts ~ '[' ~ i ~ ']::double precision / greatest(' ~ total ~ ', 1)') }}{{ ", " if not loop.last }}
  {%- endfor -%}
  ]::double precision[]
{%- endmacro %}

{# The equal share every slot / category gets in a shop row with no orders. #}
{% macro uniform_shares(n) -%}
  array_fill({{ round_like_numpy('1.0::double precision / ' ~ n) }}, array[{{ n }}])
{%- endmacro %}

{#
  Age segment of the ranker at `reference` (raw_features.segment_of): child <= 12, teen 13-18,
  young_adult 19-24, adult; unknown without a birthday. Whole years, a birthday later in the
  year not yet reached.
#}
{% macro ranking_age_segment(birthday, reference) -%}
  {%- set age = whole_years(birthday, reference) -%}
  (case
     when {{ birthday }} is null then 'unknown'
     when {{ age }} <= 12 then 'child'
     when {{ age }} <= 18 then 'teen'
     when {{ age }} <= 24 then 'young_adult'
     else 'adult'
   end)
{%- endmacro %}

{# Whole years from `born` to `reference` (dates). #}
{% macro whole_years(born, reference) -%}
  (extract(year from {{ reference }})::int - extract(year from {{ born }})::int
   - case when extract(month from {{ born }}) > extract(month from {{ reference }})
               or (extract(month from {{ born }}) = extract(month from {{ reference }})
                   and extract(day from {{ born }}) > extract(day from {{ reference }}))
          then 1 else 0 end)
{%- endmacro %}

{#- int[] of n running counts: element i counts the rows of `window` so far whose `column` = i -#}
{% macro running_counts_by_index(column, n, window) -%}
array[
{%- for i in range(n) -%}
    count(*) filter (where {{ column }} = {{ i }}) over {{ window }}{{ ", " if not loop.last }}
{%- endfor -%}
]::int[]
{%- endmacro %}
