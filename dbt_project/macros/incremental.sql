{#- Helpers of the incremental marts (see dbt_project/README.md, "Materialisation").

    Every incremental mart reprocesses whole units (a settlement, an order): its unique_key is the
    unit's id, so delete+insert replaces every row of a reprocessed unit, and a unit that lost rows
    (a settlement re-imported with fewer lines, an order with fewer items) keeps none of the old.
    A build recomputes only the candidate units: those whose own raw rows were loaded since the
    last build, or that a changed lookup touches (found from what the model kept of its last
    build, in the schema `incremental_state`), or every unit when a seed, the accounting mode or
    the model's columns changed. See dbt_project/README.md, "Materialisation". -#}

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

{#- A SQL string literal, or null. -#}
{% macro sql_literal(value) -%}
    {%- if value is none -%}null{%- else -%}'{{ value | string | replace("'", "''") }}'{%- endif -%}
{%- endmacro %}

{#- What each incremental model kept of its last build, read by its next one. Schema
    `incremental_state` (not published, not a dbt model):
    - markers (model, name, value): `build_seq` (the build's number), `horizon` (see unit_changes),
      `config_version`, the load markers it read up to (`load:<raw table>`: the highest dlt load id),
      and what a model reads of another (`position:<model>`, `refs`);
    - lookup_keys (model, lookup, lookup_key, fingerprint): a small lookup as the model last read
      it, one fingerprint per key (NetSuite items per SKU, settlements' loaded_at), so the next
      build finds the keys that changed;
    - unit_changes (model, build_seq, unit_key): the units an order fact build replaced, which the
      order sync models read instead of comparing every order. Kept until every reader read it, for
      100 builds at most: a reader that fell further behind than `horizon` (or a `--full-refresh`
      of the writer) takes every unit. -#}
{% macro incremental_state(name) -%}
    {{- return(api.Relation.create(database=this.database, schema='incremental_state', identifier=name, type='table')) -}}
{%- endmacro %}

{% macro incremental_state_ddl() -%}
    create schema if not exists {{ incremental_state('markers').without_identifier() }};
    create table if not exists {{ incremental_state('markers') }} (
        model {{ dbt.type_string() }}, name {{ dbt.type_string() }}, value {{ dbt.type_string() }});
    create table if not exists {{ incremental_state('lookup_keys') }} (
        model {{ dbt.type_string() }}, lookup {{ dbt.type_string() }}, lookup_key {{ dbt.type_string() }},
        fingerprint {{ dbt.type_string() }});
    create table if not exists {{ incremental_state('unit_changes') }} (
        model {{ dbt.type_string() }}, build_seq {{ dbt.type_bigint() }}, unit_key {{ dbt.type_string() }})
{%- endmacro %}

{#- {model: {name: value}} of the models' markers; a model without any has no entry (it was never
    built since the state exists: its next build takes every unit). Read-only: {} at parse time or
    when the schema does not exist yet. -#}
{% macro read_incremental_state(models) %}
    {%- set found = {} -%}
    {%- if execute -%}
        {%- set markers = incremental_state('markers') -%}
        {#- information_schema, not adapter.get_relation: dbt does not cache this schema and would
            list its relations again on every call -#}
        {%- set exists = run_query(
            "select count(*) from information_schema.tables where table_schema = '" ~ markers.schema
            ~ "' and table_name = '" ~ markers.identifier ~ "'"
        ) -%}
        {%- if exists.rows[0][0] > 0 -%}
            {%- set rows = run_query(
                "select model, name, value from " ~ markers ~ " where model in (" ~ sql_string_list(models) ~ ")"
            ) -%}
            {%- for row in rows.rows -%}
                {%- do found.setdefault(row[0], {}).update({row[1]: row[2]}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}

{#- A filter: the row was written by a dlt load after the one `marker` records (dlt stamps every
    row it writes with its load id, a merge rewrites a changed row with the new one), or it has no
    load id (written some other way: always looked at). `marker` none: every row. -#}
{% macro loaded_since(marker, column='_dlt_load_id') -%}
    {%- if marker is none -%}
    (1 = 1)
    {%- else -%}
    ({{ column }} is null
        or {{ load_id_number(column) }} > cast({{ sql_literal(marker) }} as decimal(38, 10)))
    {%- endif -%}
{%- endmacro %}

{#- A dlt load id (text: the load's unix time) as a number. DuckDB's try_cast reads a column's
    few distinct ids once each (cast converts every row: 50 times slower on a million rows). -#}
{% macro load_id_number(column) -%}
    {{ return(adapter.dispatch('load_id_number', 'ledgerbridge')(column)) }}
{%- endmacro %}

{% macro default__load_id_number(column) -%}
    cast({{ column }} as decimal(38, 10))
{%- endmacro %}

{% macro duckdb__load_id_number(column) -%}
    try_cast({{ column }} as decimal(38, 10))
{%- endmacro %}

{#- SQL of the highest load id in `relation`: the marker loaded_since compares with next build. -#}
{% macro load_marker(relation, column='_dlt_load_id') -%}
    select cast(max({{ load_id_number(column) }}) as {{ dbt.type_string() }}) from {{ relation }}
{%- endmacro %}

{#- SQL selecting `lookup_key` of the keys of a lookup that changed since the model's last build:
    `current_sql` selects (lookup_key, fingerprint) now; keys new, gone or with another
    fingerprint. -#}
{% macro lookup_changes(model, lookup, current_sql) -%}
    select coalesce(current_keys.lookup_key, saved.lookup_key) as lookup_key
    from ({{ current_sql }}) as current_keys
    full outer join (
        select lookup_key, fingerprint from {{ incremental_state('lookup_keys') }}
        where model = '{{ model }}'
            and lookup = '{{ lookup }}'
    ) as saved
        on current_keys.lookup_key = saved.lookup_key
    where current_keys.lookup_key is null
        or saved.lookup_key is null
        or current_keys.fingerprint is distinct from saved.fingerprint
{%- endmacro %}

{#- post-hook of an incremental model: replaces its markers and lookups in incremental_state,
    inside the build's transaction (a failed build keeps the old record). `markers`: name -> SQL
    selecting one value; `lookups`: name -> SQL selecting (lookup_key, fingerprint). A first build
    or `--full-refresh` moves `horizon` to this build: the units it replaced are not logged, so a
    reader that has not read it yet takes every unit. -#}
{% macro record_incremental_build(markers={}, lookups={}, keep_builds=100) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set model = this.identifier -%}
    {%- set state = read_incremental_state([model]).get(model, {}) -%}
    {%- set seq = (state.get('build_seq') or 0) | int + 1 -%}
    {%- if is_incremental() and state -%}
        {%- set horizon = [(state.get('horizon') or 0) | int, seq - keep_builds] | max -%}
    {%- else -%}
        {%- set horizon = seq -%}
    {%- endif -%}
    {%- set sql -%}
    {{ incremental_state_ddl() }};
    delete from {{ incremental_state('unit_changes') }}
    where model = '{{ model }}'
        and (
            build_seq <= {{ horizon }}
            -- read by every model that reads this one
            or build_seq <= (
                select coalesce(min(cast(value as {{ dbt.type_bigint() }})), 0)
                from {{ incremental_state('markers') }}
                where name = 'position:{{ model }}'
            )
        );
    delete from {{ incremental_state('markers') }} where model = '{{ model }}';
    insert into {{ incremental_state('markers') }} (model, name, value)
    select '{{ model }}', 'build_seq', '{{ seq }}'
    union all
    select '{{ model }}', 'horizon', '{{ horizon }}'
    {%- for name, query in markers.items() %}
    union all
    select '{{ model }}', '{{ name }}', cast(({{ query }}) as {{ dbt.type_string() }})
    {%- endfor %};
    delete from {{ incremental_state('lookup_keys') }} where model = '{{ model }}'
    {%- for lookup, query in lookups.items() %};
    insert into {{ incremental_state('lookup_keys') }} (model, lookup, lookup_key, fingerprint)
    select '{{ model }}', '{{ lookup }}', current_keys.lookup_key, current_keys.fingerprint
    from ({{ query }}) as current_keys
    {%- endfor %}
    {%- endset -%}
    {{ return(sql) }}
{% endmacro %}

{#- Strategy replace_units with the config `log_unit_changes`: logs the batch's units (replaced or
    removed) in incremental_state.unit_changes under the build's number, for the models reading
    this one incrementally. -#}
{% macro log_unit_changes(arg_dict) -%}
    {%- set model = arg_dict['target_relation'].identifier -%}
    {{ incremental_state_ddl() }};
    insert into {{ incremental_state('unit_changes') }} (model, build_seq, unit_key)
    select distinct
        '{{ model }}',
        (
            select coalesce(max(cast(value as {{ dbt.type_bigint() }})), 0) + 1
            from {{ incremental_state('markers') }}
            where model = '{{ model }}'
                and name = 'build_seq'
        ),
        cast({{ arg_dict['unique_key'] }} as {{ dbt.type_string() }})
    from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#- fct_settlement_lines: the settlement ids to (re)classify in an incremental build, or none when
    every settlement must be (the seeds or the accounting mode changed, or too many changed for a
    list to help). What the last build classified is its record in incremental_state (each
    settlement's loaded_at, and the config_version), or, before there is one, the model's own rows. -#}
{% macro settlements_to_reclassify(max_listed=5000) %}
    {% set state = read_incremental_state([this.identifier]).get(this.identifier) %}
    {% set query %}
        with

        headers as (
            select settlement_id, loaded_at from {{ ref('stg_amazon__settlements') }}
        ),

        settings as (
            select config_version from {{ ref('int_ledgerbridge__settings') }}
        ),

        processed as (
            {%- if state %}
            select
                lookup_key as settlement_id,
                fingerprint as loaded_at,
                {{ sql_literal(state.get('config_version')) }} as classification_version
            from {{ incremental_state('lookup_keys') }}
            where model = '{{ this.identifier }}'
                and lookup = 'settlements'
            {%- else %}
            -- no record of the last build yet (the first build since this record exists)
            select
                settlement_id,
                cast(max(loaded_at) as {{ dbt.type_string() }}) as loaded_at,
                max(classification_version) as classification_version
            from {{ this }}
            group by settlement_id
            {%- endif %}
        ),

        changed as (
            select headers.settlement_id
            from headers
            cross join settings
            left join processed
                on headers.settlement_id = processed.settlement_id
            where processed.settlement_id is null
                or processed.loaded_at is distinct from cast(headers.loaded_at as {{ dbt.type_string() }})
                or processed.classification_version is distinct from settings.config_version
        ),

        -- the settlement lines are read where used, not in a shared CTE: one referenced twice is
        -- materialized, all of its millions of rows
        moved_orders as (
            -- orders whose `Order` rows are in a changed settlement, now or before
            select lines.order_id
            from {{ ref('stg_amazon__settlement_lines') }} as lines
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
            from {{ ref('stg_amazon__settlement_lines') }} as lines
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

{#- fct_settlement_lines, post-hook: the record of what this build classified (every settlement in
    raw, with its loaded_at, and the config_version), read by the next build. -#}
{% macro record_settlement_classification() %}
    {{ return(record_incremental_build(
        markers={'config_version': 'select config_version from ' ~ ref('int_ledgerbridge__settings')},
        lookups={'settlements': 'select settlement_id as lookup_key, cast(max(loaded_at) as '
            ~ dbt.type_string() ~ ') as fingerprint from ' ~ ref('stg_amazon__settlements')
            ~ ' group by settlement_id'},
    )) }}
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
    reads both sides once and writes only what changed. `scope` (a CTE or relation with the `key`
    column): only these units are compared (`current` holds their rows alone). `rebuild`
    (`columns_changed` of the model): every unit of `current` and the scope is taken, as the
    table's rows lack the new columns. -#}
{% macro changed_units(current, key, scope=none, rebuild=false) %}
    {%- if rebuild -%}
    select {{ key }} from {{ current }}
    union
    select {{ key }} from {{ scope if scope else this }}
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
        {%- if scope %}
        where {{ key }} in (select {{ key }} from {{ scope }})
        {%- endif %}
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
    go; with delete+insert they would stay. With the config `log_unit_changes`, the batch's units
    are also logged for the models that read this one (log_unit_changes). -#}
{% macro get_incremental_replace_units_sql(arg_dict) %}
    {%- set sql = adapter.dispatch('replace_units_sql', 'ledgerbridge')(arg_dict) | trim -%}
    {%- if config.get('log_unit_changes') -%}
        {%- set sql = sql.rstrip(';') ~ ';\n' ~ log_unit_changes(arg_dict) -%}
    {%- endif -%}
    {{ return(sql) }}
{% endmacro %}

{% macro default__replace_units_sql(arg_dict) %}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set row_column = config.get('unit_row_column') -%}
    {%- if not row_column -%}
        {{ exceptions.raise_compiler_error("incremental_strategy 'replace_units' needs the config unit_row_column") }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {{ log_replaced_units(arg_dict) }}
    delete from {{ arg_dict['target_relation'] }}
    where {{ key }} in (select {{ key }} from {{ arg_dict['temp_relation'] }});
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict['temp_relation'] }}
    where {{ row_column }} is not null
{% endmacro %}
