{#- Posting-period labels. DuckDB's strftime behind adapter.dispatch. -#}
{% macro period_label(date_expression) -%}
    {{ return(adapter.dispatch('period_label', 'ledgerbridge')(date_expression)) }}
{%- endmacro %}

{% macro default__period_label(date_expression) -%}
    strftime(cast({{ date_expression }} as date), '%Y-%m')
{%- endmacro %}

{% macro period_suffix(date_expression) -%}
    {{ return(adapter.dispatch('period_suffix', 'ledgerbridge')(date_expression)) }}
{%- endmacro %}

{% macro default__period_suffix(date_expression) -%}
    strftime(cast({{ date_expression }} as date), '%Y%m')
{%- endmacro %}

{#- The UTC calendar date of a timestamp (the dbt profile pins the session to UTC). -#}
{% macro utc_date(timestamp_expression) -%}
    cast({{ timestamp_expression }} as date)
{%- endmacro %}
