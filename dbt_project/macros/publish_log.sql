{#- The change log publish reads (orchestration/publish.py): which units (unique_key values) of
    which table a build replaced, so the finance copy is brought up to date by replacing just those
    units instead of being copied whole. Every build of a table or incremental model logs, in the
    same transaction as its change, one `kind` of row:
    - 'build': an incremental build with `replace_units` or `delete+insert`, which also logs
    - 'unit': the keys of its batch (the units it deleted and inserted again), one row each;
    - 'table': any other build (a first build, `--full-refresh`, a `table` model, another strategy,
      a composite key): publish copies the table. So does a 'unit' row with a NULL key.
    log_id (a sequence) orders the log; publish records the last log_id it applied in the copy. -#}

{#- on-run-start: the log table, before any model writes to it. -#}
{% macro create_publish_log() %}
    {% if execute %}
        {% do run_query("create schema if not exists audit") %}
        {% do run_query("create sequence if not exists audit.replaced_units_seq") %}
        {% do run_query(
            "create table if not exists audit.replaced_units ("
            ~ "log_id bigint default nextval('audit.replaced_units_seq'), relation_schema varchar, "
            ~ "relation_name varchar, kind varchar, unique_key varchar, unit_key varchar, "
            ~ "logged_at timestamptz default now())"
        ) %}
    {% endif %}
    select 1
{% endmacro %}

{#- Called first in an incremental strategy's SQL: one row per unit of the batch (`temp_relation`). -#}
{% macro log_replaced_units(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    insert into audit.replaced_units (relation_schema, relation_name, kind, unique_key, unit_key)
    {% if key is string and ',' not in key -%}
    select distinct '{{ target.schema }}', '{{ target.identifier }}', 'unit', '{{ key | replace("'", "''") }}',
        cast({{ key }} as varchar)
    from {{ arg_dict['temp_relation'] }};
    {%- else -%}
    values ('{{ target.schema }}', '{{ target.identifier }}', 'table', null, null);
    {%- endif %}
{%- endmacro %}

{#- pre-hook of every model (dbt_project.yml): 'build' when the strategy will log the units it
    replaces, else 'table'. Empty, so not run, for views and ephemeral models. -#}
{% macro log_model_build() %}
    {%- if execute and config.get('materialized') in ('table', 'incremental') -%}
        {%- set strategy = config.get('incremental_strategy') or 'default' -%}
        {%- set logged = is_incremental() and strategy in ('replace_units', 'delete+insert', 'default') -%}
        insert into audit.replaced_units (relation_schema, relation_name, kind)
        values ('{{ this.schema }}', '{{ this.identifier }}', '{{ "build" if logged else "table" }}')
    {%- endif -%}
{% endmacro %}

{#- dbt-duckdb's delete+insert (also its default strategy), logging its batch's units first. -#}
{% macro duckdb__get_incremental_delete_insert_sql(arg_dict) %}
    {{ log_replaced_units(arg_dict) }}
    {{ default__get_incremental_delete_insert_sql(arg_dict) }}
{% endmacro %}
