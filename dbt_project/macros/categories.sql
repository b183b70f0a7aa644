{#- Settlement categories that are order revenue (price, tax, shipping, promotions). In `order`
    mode the invoice / cash sale / credit memo carries them; in `summary` mode the journal does.
    One list, used by the routing model and by the revenue-counted-once test. -#}
{% macro order_revenue_categories() -%}
    ('principal', 'tax', 'shipping', 'promotion')
{%- endmacro %}

{#- Transaction types whose revenue rows belong to an order (not chargebacks or fees). -#}
{% macro order_transaction_types() -%}
    ('Order', 'Refund')
{%- endmacro %}
