{# Every non-NULL array of the column has min_length..max_length elements, none NULL, none repeated. #}
{% test distinct_list(model, column_name, min_length=0, max_length=none) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (
    coalesce(array_length({{ column_name }}, 1), 0) < {{ min_length }}
    {% if max_length is not none %} or coalesce(array_length({{ column_name }}, 1), 0) > {{ max_length }} {% endif %}
    or exists (select 1 from unnest({{ column_name }}) as x where x is null)
    or (select count(distinct x) from unnest({{ column_name }}) as x) <> coalesce(array_length({{ column_name }}, 1), 0)
  )
{% endtest %}
