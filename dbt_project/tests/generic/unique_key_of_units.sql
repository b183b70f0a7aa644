{#- `column_name` is unique, and names its unit: `unit_of_key` (an expression of the column alone)
    gives `unit_column` (the incremental model's unique_key) on every row. Fails on a duplicate
    and on a row whose key does not name its unit.

    The second check is what lets the test be scoped to the units a build replaced (`where:
    __written_units__`, macros/scoped_tests.sql): two rows with equal keys then have equal units, so
    a duplicate lies within one unit, and a unit is only ever replaced whole. -#}
{% test unique_key_of_units(model, column_name, unit_column, unit_of_key) %}
    with

    keyed as materialized (
        -- read once for both checks
        select
            {{ column_name }},
            {{ unit_column }}
        from {{ model }}
        where {{ column_name }} is not null
    )

    select
        {{ column_name }} as key_value,
        'duplicate' as failure
    from keyed
    group by {{ column_name }}
    having count(*) > 1

    union all

    select
        {{ column_name }} as key_value,
        'does not name its unit ' || coalesce(cast({{ unit_column }} as varchar), 'null') as failure
    from keyed
    where ({{ unit_of_key }}) is distinct from cast({{ unit_column }} as varchar)
{% endtest %}
