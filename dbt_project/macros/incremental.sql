{#
  Lower bound of the rows an incremental model re-reads: its own high-water mark minus the
  late-arrival window. On a full refresh (or the first run) it is -infinity.
#}
{% macro incremental_since(column) -%}
  {%- if is_incremental() -%}
    (select coalesce(max({{ column }}), '-infinity'::timestamptz) - interval '{{ var("late_arrival_window") }}' from {{ this }})
  {%- else -%}
    '-infinity'::timestamptz
  {%- endif -%}
{%- endmacro %}
