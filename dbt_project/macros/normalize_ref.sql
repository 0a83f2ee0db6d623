{#- Backstage entity references `kind:namespace/name`, `kind:name` or `name` -> `name`. -#}
{% macro entity_name(expr) -%}
    regexp_replace({{ expr }}, '^([A-Za-z]+:)?([A-Za-z0-9_.-]+/)?', '')
{%- endmacro %}
