{#
  Validity rules of the live tables: the chat-side logs the service keeps writing while the batch
  reads them. The schema's NOT NULL, CHECK and type constraints refuse most bad values at write
  time; these rules catch what it cannot, so that one odd row is set aside instead of failing
  every 5-minute batch from then on:

  * a second row with the id or the event_id of an earlier one (the partitioned tables' keys are
    (id, timestamp) and (event_id, timestamp), so a row re-inserted or replayed under another
    timestamp passes them; the earliest row is kept, the later ones are quarantined);
  * a required text that is empty (NOT NULL lets '' through; every empty-session turn of every
    user would become one chat session);
  * a JSON document of the wrong shape, or an id in it that is not an integer (the models would
    fail on it, or silently drop it);
  * a negative duration (the service clamps its own at 0).

  live_quarantine finds the failing rows of the whole tables, with every reason. A staging model
  keeps a row when it fails no row-level rule (checked inline, so a row written after the last
  quarantine build is checked too) and is not in live_quarantine (the key rules: they compare a
  row with every other one, which live_quarantine does set-wise once per batch; probing the
  keys per row in the view cost about 12 s per million rows on a full read). So a duplicate key
  written in the seconds between a batch's quarantine build and its staging reads reaches that
  batch; the event log never writes one (its replays repeat the (event_id, timestamp) pair).
#}

{# The live tables the rules cover: every chat-side log a batch model reads. #}
{% macro live_tables() -%}
  {{ return(['conversations', 'user_interactions', 'recommendations_log', 'performance_logs']) }}
{%- endmacro %}

{# The keys no two rows of a live table may share: [reason, column]. A NULL event_id (a row not
   written by the event log) shares nothing. #}
{% macro live_keys() -%}
  {{ return([['an earlier row has the same id', 'id'], ['an earlier row has the same event_id', 'event_id']]) }}
{%- endmacro %}

{# The row-level rules of one live table: [reason, condition on the source row aliased `s`]. #}
{% macro live_rules(table) -%}
  {%- set rules = [] -%}
  {%- if table in ('conversations', 'user_interactions', 'recommendations_log') -%}
    {%- do rules.append(['user_id is empty', "btrim(s.user_id) = ''"]) -%}
  {%- endif -%}
  {%- if table == 'conversations' -%}
    {%- do rules.append(['session_id is empty', "btrim(s.session_id) = ''"]) -%}
    {%- do rules.append(['response_time_ms is negative', 's.response_time_ms < 0']) -%}
  {%- elif table == 'user_interactions' -%}
    {%- do rules.append(['user_selection is not a JSON object',
                         "jsonb_typeof(s.user_selection) not in ('object', 'null')"]) -%}
    {%- do rules.append(['user_selection.shop_id is not an integer id',
                         "jsonb_typeof(s.user_selection->'shop_id') <> 'null' and "
                         ~ json_int("s.user_selection->>'shop_id'") ~ " is null"]) -%}
  {%- elif table == 'recommendations_log' -%}
    {%- do rules.append(['recommendations is not a JSON array', "jsonb_typeof(s.recommendations) <> 'array'"]) -%}
    {%- do rules.append(['user_viewed_details is not a JSON array',
                         "jsonb_typeof(s.user_viewed_details) not in ('array', 'null')"]) -%}
    {%- do rules.append(['time_to_decision_ms is negative', 's.time_to_decision_ms < 0']) -%}
  {%- elif table == 'performance_logs' -%}
    {%- do rules.append(['total_time_ms is negative', 'coalesce(s.total_time_ms, s.processing_time_ms) < 0']) -%}
  {%- endif -%}
  {{ return(rules) }}
{%- endmacro %}

{# True when the row `s` fails a row-level rule (a NULL condition counts as passed, not as unknown). #}
{% macro live_row_fails(table) -%}
  ({% for reason, condition in live_rules(table) %}coalesce({{ condition }}, false){% if not loop.last %}
   or {% endif %}{% endfor %})
{%- endmacro %}

{# The filter of a live table's staging model: the row `s` fails no rule. #}
{% macro live_row_is_valid(table) -%}
  not {{ live_row_fails(table) }}
  and not exists (
      select 1 from {{ ref('live_quarantine') }} as q
      where q.source_table = '{{ table }}' and q.row_id = s.id and q.occurred_at = s."timestamp"
  )
{%- endmacro %}
