{#- JSON building for reverse-ETL payloads. DuckDB-only functions live behind adapter.dispatch. -#}

{#- A JSON object from alternating key / SQL-expression arguments: json_object_of('a', 'x.col', ...) -#}
{% macro json_object_of(pairs) -%}
    {{ return(adapter.dispatch('json_object_of', 'ledgerbridge')(pairs)) }}
{%- endmacro %}

{% macro default__json_object_of(pairs) -%}
    json_object(
    {%- for key, expression in pairs %}
        '{{ key }}', {{ expression }}{{ "," if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}

{#- A JSON array aggregating one JSON value per row, in a stable order. -#}
{% macro json_array_agg(expression, order_by) -%}
    {{ return(adapter.dispatch('json_array_agg', 'ledgerbridge')(expression, order_by)) }}
{%- endmacro %}

{% macro default__json_array_agg(expression, order_by) -%}
    coalesce(to_json(list({{ expression }} order by {{ order_by }})), '[]'::json)
{%- endmacro %}

{#- A NetSuite reference by external id: {"externalId": "..."} -#}
{% macro ns_ref(expression) -%}
    json_object('externalId', {{ expression }})
{%- endmacro %}

{#- A money value as a JSON number with exactly two decimals (no float round trip). -#}
{% macro json_money(expression) -%}
    {{ return(adapter.dispatch('json_money', 'ledgerbridge')(expression)) }}
{%- endmacro %}

{% macro default__json_money(expression) -%}
    cast({{ expression }} as {{ type_money() }})
{%- endmacro %}

{#- A NetSuite reference by internal id when known, else by name (refName). -#}
{% macro ns_id_or_name(id_expression, name_expression) -%}
    case
        when {{ id_expression }} is not null then json_object('id', {{ id_expression }})
        else json_object('refName', {{ name_expression }})
    end
{%- endmacro %}

{#- A payload as JSON text. -#}
{% macro json_text(expression) -%}
    cast({{ expression }} as varchar)
{%- endmacro %}
