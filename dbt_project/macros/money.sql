{#- Money is DECIMAL(18,2) end to end, never floating point. Dispatched so a distributed
    warehouse adapter can override the type name. -#}
{% macro type_money() -%}
    {{ return(adapter.dispatch('type_money', 'ledgerbridge')()) }}
{%- endmacro %}

{% macro default__type_money() -%}
    decimal(18, 2)
{%- endmacro %}

{% macro to_money(expression) -%}
    cast({{ expression }} as {{ type_money() }})
{%- endmacro %}
