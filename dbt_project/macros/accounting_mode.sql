{#- The accounting mode as a SQL literal: `--vars '{accounting_mode: order}'` wins, else the
    settings seed decides (see int_ledgerbridge__settings). -#}
{% macro accounting_mode_override() -%}
    {%- set mode = var('accounting_mode', none) -%}
    {%- if mode is none or mode == '' -%}
        cast(null as varchar)
    {%- elif mode in ('summary', 'order') -%}
        '{{ mode }}'
    {%- else -%}
        {{ exceptions.raise_compiler_error("accounting_mode must be 'summary' or 'order', not '" ~ mode ~ "'") }}
    {%- endif -%}
{%- endmacro %}
