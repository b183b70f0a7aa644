{#- The model's required columns are not null: one test node per model, not one `not_null` per
    column (dbt spends ~20 ms on each node, the query a few). One row per column that has nulls:
    its name and how many rows, so a failure names the column(s) (`--store-failures`, or the
    compiled SQL dbt points to).

    One scan even over a view; on a table DuckDB answers `is null` from column statistics. Not
    scoped to the units a build wrote (macros/scoped_tests.sql does not know it): it reads every
    row, at that price. -#}
{% test not_null_columns(model, column_names) %}
    {%- if column_names is string or column_names | length == 0 -%}
        {{ exceptions.raise_compiler_error("not_null_columns: column_names must be a list of columns") }}
    {%- endif %}
    with

    null_counts as materialized (
        select
            {%- for column in column_names %}
            count(*) filter (where {{ column }} is null) as null_rows_{{ loop.index }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
        where
            {%- for column in column_names %}
            {{ "or " if not loop.first }}{{ column }} is null
            {%- endfor %}
    )

    {% for column in column_names -%}
    select '{{ column }}' as column_name, null_rows_{{ loop.index }} as null_rows
    from null_counts
    where null_rows_{{ loop.index }} > 0
    {{ "union all" if not loop.last }}
    {% endfor %}
{% endtest %}
