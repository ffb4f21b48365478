{# The combination of `columns` is unique (a dbt_utils.unique_combination_of_columns without the package). #}
{% test unique_combination_of_columns(model, columns) %}
select {{ columns | join(', ') }}
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
