{#- Custom schemas are used verbatim (staging, intermediate, marts, reverse_etl, seeds), so finance
    and the reverse-ETL engine find `marts.fct_settlements`, not `main_marts.fct_settlements`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
