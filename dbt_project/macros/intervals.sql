{# 95 % Wald interval of the proportion x / n, clipped to [0, 1]: side = 'low' or 'high'. #}
{% macro wald_bound(x, n, side) -%}
  round({{ 'greatest(0' if side == 'low' else 'least(1' }}, {{ x }}::numeric / nullif({{ n }}, 0)
      {{ '-' if side == 'low' else '+' }} 1.96 * sqrt(({{ x }}::numeric / nullif({{ n }}, 0))
          * (1 - {{ x }}::numeric / nullif({{ n }}, 0)) / nullif({{ n }}, 0))), 5)
{%- endmacro %}

{# 95 % normal interval of a mean from its summary statistics: side = 'low' or 'high'. #}
{% macro mean_bound(mean, sd, n, side) -%}
  round(({{ mean }} {{ '-' if side == 'low' else '+' }} 1.96 * {{ sd }} / sqrt(nullif({{ n }}, 0)))::numeric, 4)
{%- endmacro %}
