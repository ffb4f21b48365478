{#
  Every non-NULL array of the column is a share vector: `length` elements in [0, 1] that sum
  to 1 up to rounding (each element rounded to `digits` decimals moves the sum by at most half
  a unit of that decimal).
#}
{% test share_vector(model, column_name, length, digits=4) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (
    coalesce(array_length({{ column_name }}, 1), 0) <> {{ length }}
    or exists (select 1 from unnest({{ column_name }}) as x where x is null or x < 0 or x > 1)
    or abs((select sum(x) from unnest({{ column_name }}) as x) - 1) > {{ length }} * 0.5 * 1e-{{ digits }} + 1e-9
  )
{% endtest %}
