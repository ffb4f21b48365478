{#
  Current status of a shop at local minute-of-day `now_min`, from its 'HH:MM' hours.
  Workbook convention: close < open means closing after midnight; open == close means open
  around the clock; a missing open or close hour means UNKNOWN. A break (start == end means no
  break) may itself wrap past midnight. Day-of-week closures are not in the data.
#}
{% macro shop_status(open_hour, close_hour, break_start, break_end, now_min) -%}
  (case
     when {{ open_hour }} is null or {{ close_hour }} is null then 'UNKNOWN'
     when not {{ in_daily_window(now_min, hhmm_to_minutes(open_hour), hhmm_to_minutes(close_hour)) }} then 'CLOSED'
     when {{ break_start }} is not null and {{ break_end }} is not null
          and {{ break_start }} <> {{ break_end }}
          and {{ in_daily_window(now_min, hhmm_to_minutes(break_start), hhmm_to_minutes(break_end)) }} then 'BREAK_TIME'
     else 'OPEN'
   end)
{%- endmacro %}
