{#- A short, stable hash for external ids (e.g. one NetSuite customer per buyer). -#}
{% macro short_hash(expression, length=12) -%}
    {{ return(adapter.dispatch('short_hash', 'ledgerbridge')(expression, length)) }}
{%- endmacro %}

{% macro default__short_hash(expression, length) -%}
    left(md5(cast({{ expression }} as varchar)), {{ length }})
{%- endmacro %}
