{#- The model has exactly one row (e.g. the typed settings). -#}
{% test single_row(model) %}
    select count(*) as row_count
    from {{ model }}
    having count(*) <> 1
{% endtest %}
