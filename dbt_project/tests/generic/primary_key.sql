{#- `column_name` identifies the rows: no duplicates and no nulls (dbt's `unique` and `not_null` in
    one query and one test node). One row per failing key value (null for the rows without a key)
    with its number of rows. Not scoped to the units a build wrote (macros/scoped_tests.sql does
    not know it): for tables rebuilt whole and views, not for incremental models' unit keys. -#}
{% test primary_key(model, column_name) %}
    select
        {{ column_name }} as key_value,
        count(*) as row_count
    from {{ model }}
    group by {{ column_name }}
    having count(*) > 1 or {{ column_name }} is null
{% endtest %}
