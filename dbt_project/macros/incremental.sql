{#- Helpers of the incremental marts (see dbt_project/README.md, "Materialisation").

    Every incremental mart reprocesses whole units (a settlement, an order): its unique_key is the
    unit's id, so delete+insert replaces every row of a reprocessed unit, and a unit that lost rows
    (a settlement re-imported with fewer lines, an order with fewer items) keeps none of the old.
    What a unit's rows depend on beyond its own raw rows is either a seed (then `config_version`
    changes and everything is reprocessed) or a lookup compared by content on every build. See
    dbt_project/README.md, "Materialisation". -#}

{#- All rows of a small relation (a seed) as one text, in a stable order: its fingerprint input. -#}
{% macro seed_text(relation, columns) -%}
    {%- set row_text -%}
        {%- for column in columns -%}
            coalesce(cast({{ column }} as varchar), '') {{- " || '|' || " if not loop.last -}}
        {%- endfor -%}
    {%- endset -%}
    coalesce((
        select {{ dbt.listagg(row_text, "';'", "order by " ~ columns | join(', ')) }}
        from {{ relation }}
    ), '')
{%- endmacro %}

{#- A SQL list of string literals, e.g. for `settlement_id in (...)`. -#}
{% macro sql_string_list(values) -%}
    {%- for value in values -%}
        '{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- fct_settlement_lines: the settlement ids to (re)classify in an incremental build, or none when
    every settlement must be (the seeds or the accounting mode changed, or too many changed for a
    list to help). Reads the model's own rows ({{ this }}) as the record of what was classified. -#}
{% macro settlements_to_reclassify(max_listed=5000) %}
    {% set query %}
        with

        headers as (
            select settlement_id, loaded_at from {{ ref('stg_amazon__settlements') }}
        ),

        lines as (
            select settlement_id, transaction_type, order_id from {{ ref('stg_amazon__settlement_lines') }}
        ),

        settings as (
            select config_version from {{ ref('int_ledgerbridge__settings') }}
        ),

        processed as (
            select
                settlement_id,
                max(loaded_at) as loaded_at,
                max(classification_version) as classification_version
            from {{ this }}
            group by settlement_id
        ),

        changed as (
            select headers.settlement_id
            from headers
            cross join settings
            left join processed
                on headers.settlement_id = processed.settlement_id
            where processed.settlement_id is null
                or processed.loaded_at is distinct from headers.loaded_at
                or processed.classification_version is distinct from settings.config_version
        ),

        moved_orders as (
            -- orders whose `Order` rows are in a changed settlement, now or before
            select lines.order_id
            from lines
            inner join changed
                on lines.settlement_id = changed.settlement_id
            where lines.transaction_type = 'Order'
            union
            select processed_lines.order_id
            from {{ this }} as processed_lines
            inner join changed
                on processed_lines.settlement_id = changed.settlement_id
            where processed_lines.transaction_type = 'Order'
        ),

        relinked as (
            select distinct lines.settlement_id
            from lines
            inner join moved_orders
                on lines.order_id = moved_orders.order_id
            where lines.transaction_type <> 'Order'
        ),

        reprocess as (
            select settlement_id from changed
            union
            select settlement_id from relinked
        )

        select
            reprocess.settlement_id,
            exists (
                select 1 from processed cross join settings
                where processed.classification_version is distinct from settings.config_version
            ) as config_changed
        from reprocess
        order by reprocess.settlement_id
    {% endset %}
    {% if columns_changed(classify_settlement_lines([])) %}
        {{ log("fct_settlement_lines: new columns: reclassifying every settlement", info=true) }}
        {{ return(none) }}
    {% endif %}
    {% set found = run_query(query) %}
    {% set ids = found.columns[0].values() | list %}
    {% if ids and found.rows[0][1] %}
        {{ log("fct_settlement_lines: the seeds or the accounting mode changed: reclassifying every settlement", info=true) }}
        {{ return(none) }}
    {% elif ids | length > max_listed %}
        {{ return(none) }}
    {% endif %}
    {{ log("fct_settlement_lines: classifying " ~ ids | length ~ " new or changed settlement(s)", info=true) }}
    {{ return(ids) }}
{% endmacro %}

{#- True when the model's SQL has other columns than the table built before (a LedgerBridge
    upgrade): an incremental build then reprocesses every unit, as rows kept from before would
    lack the new columns' values. -#}
{% macro columns_changed(model_sql) %}
    {% set built = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list %}
    {% set wanted = get_columns_in_query(model_sql) | map('lower') | list %}
    {{ return(built | sort != wanted | sort) }}
{% endmacro %}

{#- SQL selecting the `key` of every unit whose rows in `current` (a CTE or relation holding the
    model's rows as a full build would make them) differ from the rows already in the table: new,
    changed and removed units. Compares one checksum per unit (the rows' hashes added up), so it
    reads both sides once and writes only what changed. Every unit when the columns of
    `model_sql` (the model's SELECT) differ from the table's (an upgrade). -#}
{% macro changed_units(current, key, model_sql) %}
    {%- if columns_changed(model_sql) -%}
    select {{ key }} from {{ current }}
    union
    select {{ key }} from {{ this }}
    {%- else -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- set quoted = [] -%}
    {%- for column in columns -%}{%- do quoted.append(adapter.quote(column)) -%}{%- endfor -%}
    select coalesce(now_units.unit_key, built_units.unit_key) as {{ key }}
    from (
        select {{ key }} as unit_key, {{ checksum_agg(row_checksum(quoted)) }} as checksum, count(*) as row_count
        from {{ current }}
        group by {{ key }}
    ) as now_units
    full outer join (
        select {{ key }} as unit_key, {{ checksum_agg(row_checksum(quoted)) }} as checksum, count(*) as row_count
        from {{ this }}
        group by {{ key }}
    ) as built_units
        on now_units.unit_key = built_units.unit_key
    where now_units.unit_key is null
        or built_units.unit_key is null
        or now_units.checksum <> built_units.checksum
        or now_units.row_count <> built_units.row_count
    {%- endif %}
{% endmacro %}

{#- A hash of one row's values (dispatched: DuckDB's fast hash(), else md5 of the values as text).
    The order sync models keep it (source_checksum): should a DuckDB upgrade change hash(), their
    next build rebuilds every document once, which is correct, only slower. -#}
{% macro row_checksum(expressions) -%}
    {{ return(adapter.dispatch('row_checksum', 'ledgerbridge')(expressions)) }}
{%- endmacro %}

{% macro default__row_checksum(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- do parts.append("coalesce(cast(" ~ expression ~ " as varchar), '~')") -%}
    {%- endfor -%}
    {{ dbt.hash(parts | join(" || '|' || ")) }}
{%- endmacro %}

{% macro duckdb__row_checksum(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}

{#- The rows' checksums of a unit combined, in any row order. -#}
{% macro checksum_agg(expression) -%}
    {{ return(adapter.dispatch('checksum_agg', 'ledgerbridge')(expression)) }}
{%- endmacro %}

{% macro default__checksum_agg(expression) -%}
    {{ dbt.hash(dbt.listagg(expression, "','", "order by " ~ expression)) }}
{%- endmacro %}

{% macro duckdb__checksum_agg(expression) -%}
    sum({{ expression }})
{%- endmacro %}

{#- Incremental strategy `replace_units`: every unit (unique_key) in the new batch is deleted from
    the table, then the batch's rows are inserted except the placeholder rows, whose
    `unit_row_column` (config) is null. A model emits one placeholder for a unit that has no rows
    any more (an order no longer ready to push, a settlement no longer balanced), so its old rows
    go; with delete+insert they would stay. -#}
{% macro get_incremental_replace_units_sql(arg_dict) %}
    {{ return(adapter.dispatch('replace_units_sql', 'ledgerbridge')(arg_dict)) }}
{% endmacro %}

{% macro default__replace_units_sql(arg_dict) %}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set row_column = config.get('unit_row_column') -%}
    {%- if not row_column -%}
        {{ exceptions.raise_compiler_error("incremental_strategy 'replace_units' needs the config unit_row_column") }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}
    where {{ key }} in (select {{ key }} from {{ arg_dict['temp_relation'] }});
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict['temp_relation'] }}
    where {{ row_column }} is not null
{% endmacro %}
