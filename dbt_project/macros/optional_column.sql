{#- A raw column that only exists sometimes (buyer_email is loaded only when
    AMAZON_STORE_BUYER_PII=true): the column when the table has it, else a typed null. -#}
{% macro optional_column(relation, column_name, data_type='varchar', alias=none) -%}
    {%- set present = false -%}
    {%- if execute -%}
        {%- set present = column_name in (adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list) -%}
    {%- endif -%}
    {%- if present -%}
        cast({{ column_name }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif %} as {{ alias or column_name }}
{%- endmacro %}
