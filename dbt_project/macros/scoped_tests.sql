{#- Data tests scoped to what builds wrote (dbt_project/README.md, "Tests").

    A generic test on an incremental model configured `where: __written_units__` reads only the
    units (values of the model's unique_key: a settlement, an order) that builds replaced since
    the test last passed, as dbt logged them in audit.replaced_units (macros/publish_log.sql).
    That is the whole table's verdict: the incremental strategies write whole units and nothing
    else changes a unit's rows, so a row outside those units is a row the test passed on, unchanged.
    - unique on the unique_key itself, unique_key_of_units, not_null, accepted_values: the rows
      of those units (two equal keys are in one unit: unique_key_of_units checks the key names
      its unit, on the same rows);
    - relationships: the child rows of those units and those pointing at a replaced parent unit
      (a removed order would leave orphans), when the parent's unique_key is the `field`.
    The whole table is read when `--full-refresh` or `--vars '{full_tests: true}'` is given, when
    the test has no watermark (never passed, or the rows it covers changed in a run where it did
    not pass), when a build rebuilt the table whole (the log's kind 'table'), when more than
    `max_units` units were replaced, without the log, and for any other test.

    audit.dbt_test_watermarks (on-run-end, record_test_watermarks): per scoped test, the last
    log_id of its relations when it last passed. -#}

{#- dbt's macro, overridden: the test's `where`, with `__written_units__` resolved at run time
    (a `where` is rendered when the project is parsed, without the project's macros). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__written_units__' in where -%}
        {%- if where | trim != '__written_units__' -%}
            {{ exceptions.raise_compiler_error("where: __written_units__ cannot be combined with other conditions") }}
        {%- endif -%}
        {%- set where = written_units_filter() -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The scoped test's filter on its model's rows, or none to read every row (see above). -#}
{% macro written_units_filter(max_units=50000, max_listed=20) %}
    {%- if not execute or flags.FULL_REFRESH or var('full_tests', false) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set test = model.test_metadata -%}
    {%- set kwargs = test.kwargs -%}
    {%- set child = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- if child is none or child.config.materialized != 'incremental' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set key = child.config.unique_key -%}
    {%- if key is not string or ',' in key -%}
        {{ return(none) }}
    {%- endif -%}
    {#- which units of which relation scope the rows: (relation node, column of the child's rows) -#}
    {%- set scopes = [(child, key)] -%}
    {%- if test.name == 'relationships' -%}
        {%- set parents = [] -%}
        {%- for uid in model.depends_on.nodes if uid != model.attached_node -%}
            {%- do parents.append(graph.nodes[uid]) -%}
        {%- endfor -%}
        {%- if parents | length != 1 or parents[0].config.materialized != 'incremental'
              or parents[0].config.unique_key != kwargs.field -%}
            {{ return(none) }}
        {%- endif -%}
        {%- do scopes.append((parents[0], kwargs.column_name)) -%}
    {%- elif test.name == 'unique' -%}
        {%- if kwargs.column_name != key -%}
            {{ return(none) }}
        {%- endif -%}
    {%- elif test.name == 'unique_key_of_units' -%}
        {%- if kwargs.unit_column != key -%}
            {{ return(none) }}
        {%- endif -%}
    {%- elif test.name not in ('not_null', 'accepted_values') -%}
        {{ return(none) }}
    {%- endif -%}

    {%- set found = run_query(
        "select count(*) filter (where table_name = 'replaced_units'), "
        ~ "count(*) filter (where table_name = 'dbt_test_watermarks') "
        ~ "from duckdb_tables() where schema_name = 'audit' and database_name = current_database()"
    ) -%}
    {%- if found.rows[0][0] == 0 or found.rows[0][1] == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set mark = run_query(
        "select log_id from audit.dbt_test_watermarks where test_id = '" ~ model.unique_id ~ "'"
    ) -%}
    {%- if mark.rows | length == 0 or mark.rows[0][0] is none -%}
        {{ return(none) }}
    {%- endif -%}

    {%- set conditions = [] -%}
    {%- for node, column in scopes -%}
        {%- set logged -%}
            from audit.replaced_units
            where log_id > {{ mark.rows[0][0] }}
                and relation_schema = '{{ node.schema }}'
                and relation_name = '{{ node.alias }}'
        {%- endset -%}
        {%- set units = "select unit_key " ~ logged ~ " and kind = 'unit' and unit_key is not null" -%}
        {%- set counted = run_query(
            "select count(*) filter (where kind = 'table' or (kind = 'unit' and unit_key is null)), "
            ~ "count(distinct unit_key) filter (where kind = 'unit') " ~ logged
        ) -%}
        {%- if counted.rows[0][0] > 0 or counted.rows[0][1] > max_units -%}
            {{ return(none) }}  {#- rebuilt whole, or too many units for a filter to help -#}
        {%- endif -%}
        {%- if counted.rows[0][1] == 0 -%}
            {#- nothing replaced -#}
        {%- elif counted.rows[0][1] <= max_listed -%}
            {#- a short literal list: DuckDB filters the scan itself and reads the other columns of
                the matching rows only -#}
            {%- set literals = [] -%}
            {%- for unit in run_query(units ~ " group by unit_key order by unit_key").columns[0].values() -%}
                {%- do literals.append("'" ~ unit | replace("'", "''") ~ "'") -%}
            {%- endfor -%}
            {%- do conditions.append(column ~ " in (" ~ literals | join(', ') ~ ")") -%}
        {%- else -%}
            {%- do conditions.append(column ~ " in (" ~ units ~ ")") -%}
        {%- endif -%}
    {%- endfor -%}
    {#- rows without a unit are never replaced by unit: always read (the key's not_null test fails on them) -#}
    {%- do conditions.append(key ~ " is null") -%}
    {{ return('(' ~ conditions | join(' or ') ~ ')') }}
{% endmacro %}

{#- on-run-end: the watermark of every scoped test that passed (the newest log_id of the relations
    it reads: every unit written before it is now tested); a scoped test that did not pass (failed,
    skipped, not selected) loses its watermark when its relations changed since, so it next reads
    the whole table; watermarks of tests no longer in the project go. -#}
{% macro record_test_watermarks(results) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set scoped = {} -%}
    {%- for node in graph.nodes.values()
          if node.resource_type == 'test' and (node.config.where or '') | trim == '__written_units__' -%}
        {%- set relations = [] -%}
        {%- for uid in node.depends_on.nodes if uid in graph.nodes -%}
            {%- do relations.append(graph.nodes[uid].schema ~ '.' ~ graph.nodes[uid].alias) -%}
        {%- endfor -%}
        {%- do scoped.update({node.unique_id: relations}) -%}
    {%- endfor -%}
    {%- set found = run_query(
        "select count(*) from duckdb_tables() where schema_name = 'audit' and table_name = 'replaced_units' "
        ~ "and database_name = current_database()"
    ) -%}
    {%- if not scoped or found.rows[0][0] == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set newest = {} -%}
    {%- for row in run_query(
        "select relation_schema || '.' || relation_name, max(log_id) from audit.replaced_units group by all"
    ).rows -%}
        {%- do newest.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- set passed = [] -%}
    {%- for result in results if result.node.unique_id in scoped and result.status == 'pass' -%}
        {%- do passed.append(result.node.unique_id) -%}
    {%- endfor -%}
    {%- set rows = [] -%}
    {%- for test_id, relations in scoped.items() -%}
        {%- set tops = [0] -%}
        {%- for relation in relations if newest.get(relation) is not none -%}
            {%- do tops.append(newest[relation]) -%}
        {%- endfor -%}
        {%- do rows.append("('" ~ test_id ~ "', " ~ (tops | max) ~ ", " ~ (test_id in passed) ~ ")") -%}
    {%- endfor -%}
    {% do run_query("create schema if not exists audit") %}
    {% do run_query(
        "create table if not exists audit.dbt_test_watermarks ("
        ~ "test_id varchar, log_id bigint, passed_at timestamptz)"
    ) %}
    {% set tests %}(values {{ rows | join(', ') }}) as tests(test_id, newest, passed){% endset %}
    {% do run_query(
        "delete from audit.dbt_test_watermarks where test_id not in (select test_id from " ~ tests ~ ")"
    ) %}
    {% do run_query(
        "delete from audit.dbt_test_watermarks as marks using " ~ tests
        ~ " where marks.test_id = tests.test_id and (tests.passed or tests.newest > marks.log_id)"
    ) %}
    {% do run_query(
        "insert into audit.dbt_test_watermarks select test_id, newest, now() from " ~ tests ~ " where passed"
    ) %}
    {{ return('') }}
{% endmacro %}
