{#- The order facts: int_order_lines__mapped / int_orders__matched_to_netsuite (views, every
    order) and the incremental fct_order_lines / fct_orders, which run the same SQL on the
    candidate orders alone. `scope`: none = every order; else a CTE or relation with the order_id
    column, pushed into every scan of a per-order table (a filter on the views would reach only
    some of them: the per-order sums and the settlement lookup would still read every order). -#}

{#- Every order item with the NetSuite item its SKU maps to (item name/number = seller SKU) and
    the NetSuite location that ships it: the marketplace's FBA virtual location or the warehouse. -#}
{#- `orders`: the name of a CTE already holding the (scoped) orders, read instead of staging. -#}
{% macro order_lines_mapped(scope=none, orders=none) %}
with

order_items as (
    select * from {{ ref('stg_amazon__order_items') }}
    {%- if scope %}
    where order_id in (select order_id from {{ scope }})
    {%- endif %}
),
{%- if not orders %}

orders as (
    select * from {{ ref('stg_amazon__orders') }}
    {%- if scope %}
    where order_id in (select order_id from {{ scope }})
    {%- endif %}
),
{%- endif %}

items as (
    select * from {{ ref('stg_netsuite__items') }}
    where not is_inactive
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

final as (
    select
        order_items.order_line_id,
        order_items.order_id,
        order_items.order_item_id,
        orders.marketplace_code,
        orders.fulfillment_channel,
        order_items.sku,
        order_items.asin,
        items.item_id as netsuite_item_id,
        items.item_external_id as netsuite_item_external_id,
        items.item_id is not null as is_mapped,
        case
            when orders.fulfillment_channel = 'AFN' then marketplaces.fba_location
            else settings.warehouse_location
        end as location_external_id,
        order_items.quantity_ordered,
        order_items.quantity_shipped,
        order_items.item_price,
        order_items.item_tax,
        order_items.shipping_price,
        order_items.shipping_tax,
        order_items.promotion_discount,
        {{ to_money(
            'order_items.item_price + order_items.item_tax + order_items.shipping_price'
            ~ ' + order_items.shipping_tax - order_items.promotion_discount'
        ) }} as line_total,
        coalesce(order_items.currency, orders.currency) as currency,
        order_items.last_updated_at
    from order_items
    inner join {{ orders or 'orders' }} as orders
        on order_items.order_id = orders.order_id
    cross join settings
    left join items
        on order_items.sku = items.sku
    left join marketplaces
        on orders.marketplace_code = marketplaces.marketplace_code
)

select * from final
{% endmacro %}

{#- Every Amazon order with what LedgerBridge will make of it in NetSuite: the customer (per the
    customer strategy), the location, the record type (sales order, or in `order` mode a cash
    sale for FBA), whether that record already exists, and whether the order is ready to push. -#}
{% macro orders_matched_to_netsuite(scope=none) %}
with

orders as (
    select * from {{ ref('stg_amazon__orders') }}
    {%- if scope %}
    where order_id in (select order_id from {{ scope }})
    {%- endif %}
),

lines as (
    {%- if scope %}
    {{ order_lines_mapped(scope, orders='orders') }}
    {%- else %}
    select * from {{ ref('int_order_lines__mapped') }}
    {%- endif %}
),

transactions as (
    select * from {{ ref('stg_netsuite__transactions') }}
    where transaction_external_id is not null
),

customers as (
    select * from {{ ref('stg_netsuite__customers') }}
    where customer_external_id is not null
),

settlement_orders as (
    {%- if scope %}
    -- the raw column: staging's nullif(order_id, '') would hide it from the join filter, and every
    -- settlement line would be read (the same rows: a scoped order id is never empty)
    select settlement_id, order_id from {{ source('raw_amazon', 'settlement_lines') }}
    where transaction_type = 'Order'
        and order_id in (select order_id from {{ scope }})
    {%- else %}
    select * from {{ ref('stg_amazon__settlement_lines') }}
    where transaction_type = 'Order'
        and order_id is not null
    {%- endif %}
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

line_summary as (
    select
        order_id,
        count(*) as line_count,
        sum(case when is_mapped then 0 else 1 end) as unmapped_line_count,
        sum(quantity_ordered) as quantity_ordered,
        sum(quantity_shipped) as quantity_shipped
    from lines
    group by order_id
),

paid_by as (
    select
        order_id,
        min(settlement_id) as settlement_id
    from settlement_orders
    group by order_id
),

decided as (
    select
        orders.*,
        coalesce(line_summary.line_count, 0) as line_count,
        coalesce(line_summary.unmapped_line_count, 0) as unmapped_line_count,
        coalesce(line_summary.quantity_ordered, 0) as quantity_ordered,
        coalesce(line_summary.quantity_shipped, 0) as quantity_shipped,
        paid_by.settlement_id,
        settings.accounting_mode,
        settings.customer_strategy,
        case
            when settings.customer_strategy = 'per_buyer' and orders.buyer_email is not null
                then 'amz-cust-' || {{ short_hash('lower(orders.buyer_email)') }}
            else 'amz-cust-' || orders.marketplace_code
        end as customer_external_id,
        case
            when orders.fulfillment_channel = 'AFN' then marketplaces.fba_location
            else settings.warehouse_location
        end as location_external_id,
        case
            when settings.accounting_mode = 'order' and orders.fulfillment_channel = 'AFN' then 'cashSale'
            else 'salesOrder'
        end as netsuite_record_type
    from orders
    cross join settings
    left join line_summary
        on orders.order_id = line_summary.order_id
    left join paid_by
        on orders.order_id = paid_by.order_id
    left join marketplaces
        on orders.marketplace_code = marketplaces.marketplace_code
),

final as (
    select
        decided.order_id,
        decided.marketplace_id,
        decided.marketplace_code,
        decided.order_status,
        decided.fulfillment_channel,
        decided.fulfillment_channel = 'AFN' as is_fba,
        decided.sales_channel,
        decided.is_business_order,
        decided.order_total,
        decided.currency,
        decided.line_count,
        decided.unmapped_line_count,
        decided.unmapped_line_count > 0 as has_unmapped_sku,
        decided.quantity_ordered,
        decided.quantity_shipped,
        decided.customer_external_id,
        customers.customer_id as netsuite_customer_id,
        decided.location_external_id,
        decided.netsuite_record_type,
        case decided.netsuite_record_type
            when 'cashSale' then 'amz-cs-' || decided.order_id
            else 'amz-so-' || decided.order_id
        end as netsuite_external_id,
        transactions.transaction_id as netsuite_transaction_id,
        transactions.transaction_type as netsuite_transaction_type,
        transactions.transaction_id is not null as exists_in_netsuite,
        decided.settlement_id,
        decided.settlement_id is not null as is_settled,
        decided.marketplace_code is not null
        and decided.line_count > 0
        and decided.unmapped_line_count = 0
        and (
            decided.order_status = 'Shipped'
            or (decided.fulfillment_channel = 'MFN' and decided.order_status in ('Unshipped', 'PartiallyShipped'))
        ) as is_ready_for_netsuite,
        decided.accounting_mode,
        decided.customer_strategy,
        decided.purchased_at,
        decided.last_updated_at
    from decided
    left join transactions
        on transactions.transaction_external_id = case decided.netsuite_record_type
            when 'cashSale' then 'amz-cs-' || decided.order_id
            else 'amz-so-' || decided.order_id
        end
    left join customers
        on decided.customer_external_id = customers.customer_external_id
)

select * from final
{% endmacro %}

{#- The lookups of the order facts with no load marker worth trusting, as (lookup_key, fingerprint)
    per key: compared with the copy kept from the last build (NetSuite sends items again unchanged
    on every load, within its look-back; settlement files are imported, not loaded by dlt). -#}
{% macro order_fact_lookup(lookup) %}
    {%- if lookup == 'items' -%}
    select
        sku as lookup_key,
        cast({{ checksum_agg(row_checksum(['item_id', 'item_external_id'])) }} as {{ dbt.type_string() }})
        || '/' || cast(count(*) as {{ dbt.type_string() }}) as fingerprint
    from {{ ref('stg_netsuite__items') }}
    where not is_inactive
    group by sku
    {%- elif lookup == 'settlements' -%}
    select
        settlement_id as lookup_key,
        coalesce(cast(max(loaded_at) as {{ dbt.type_string() }}), '')
        || '/' || cast(count(*) as {{ dbt.type_string() }}) as fingerprint
    from {{ ref('stg_amazon__settlements') }}
    group by settlement_id
    {%- else -%}
    {{ exceptions.raise_compiler_error("order_fact_lookup: unknown lookup " ~ lookup) }}
    {%- endif -%}
{% endmacro %}

{#- fct_orders / fct_order_lines, incremental build: true when every order must be compared (the
    model's full SQL is run, as in a first build, and compared with the whole table): nothing was
    recorded of the last build, or the seeds or the accounting mode changed (config_version).
    `state`: the model's markers (read_incremental_state). -#}
{% macro order_facts_need_everything(state) %}
    {%- set model = this.identifier -%}
    {%- if not state -%}
        {{ log(model ~ ": no record of the last build: comparing every order", info=true) }}
        {{ return(true) }}
    {%- endif -%}
    {%- set found = run_query('select config_version from ' ~ ref('int_ledgerbridge__settings')) -%}
    {%- if found.columns[0].values()[0] != state.get('config_version') -%}
        {{ log(model ~ ": the seeds or the accounting mode changed: comparing every order", info=true) }}
        {{ return(true) }}
    {%- endif -%}
    {{ return(false) }}
{% endmacro %}

{#- fct_orders / fct_order_lines, incremental build: SQL selecting the order_id of the candidate
    orders, the only ones recomputed and compared with the table (`this`), from what the last
    build recorded (incremental_state):
    - orders whose raw `orders` or `order_items` rows dlt loaded since (updated at Amazon, new, or
      sent again within the look-back);
    - `items`: orders with a line of a SKU whose active NetSuite item changed;
    - `settlements`: orders with `Order` rows in a new, re-imported or removed settlement (now, or
      as paid by in the table);
    - `transactions`: orders whose NetSuite record (by external id, or as matched in the table)
      was loaded since;
    - `customers`: orders whose NetSuite customer (by external id, or as matched in the table) was
      loaded since and no longer matches as it did.
    Everything else an order's row is made of is a seed or the accounting mode (config_version:
    order_facts_need_everything). -#}
{% macro order_fact_candidates(lookups, state) %}
    {%- set model = this.identifier -%}
    with

    loaded_orders as (
        select order_id from {{ source('raw_amazon', 'orders') }}
        where {{ loaded_since(state.get('load:raw_amazon.orders')) }}
        union
        select order_id from {{ source('raw_amazon', 'order_items') }}
        where {{ loaded_since(state.get('load:raw_amazon.order_items')) }}
    ),

    changed_skus as (
        {{ lookup_changes(model, 'items', order_fact_lookup('items')) }}
    ),

    sku_orders as (
        select order_id from {{ ref('stg_amazon__order_items') }}
        where sku in (select lookup_key from changed_skus)
    ),
    {%- if 'settlements' in lookups %}

    changed_settlements as (
        {{ lookup_changes(model, 'settlements', order_fact_lookup('settlements')) }}
    ),

    settlement_orders as (
        select order_id from {{ ref('stg_amazon__settlement_lines') }}
        where settlement_id in (select lookup_key from changed_settlements)
            and transaction_type = 'Order'
        union
        select order_id from {{ this }}
        where settlement_id in (select lookup_key from changed_settlements)
    ),
    {%- endif %}
    {%- if 'transactions' in lookups %}

    loaded_transactions as (
        select cast(id as {{ dbt.type_string() }}) as transaction_id, externalid as transaction_external_id
        from {{ source('raw_netsuite', 'transaction') }}
        where {{ loaded_since(state.get('load:raw_netsuite.transaction')) }}
    ),

    transaction_orders as (
        select order_id from {{ this }}
        where netsuite_external_id in (select transaction_external_id from loaded_transactions)
        union
        select order_id from {{ this }}
        where netsuite_transaction_id in (select transaction_id from loaded_transactions)
    ),
    {%- endif %}
    {%- if 'customers' in lookups %}

    loaded_customers as (
        select cast(id as {{ dbt.type_string() }}) as customer_id, externalid as customer_external_id
        from {{ source('raw_netsuite', 'customer') }}
        where {{ loaded_since(state.get('load:raw_netsuite.customer')) }}
    ),

    customer_references as (
        select order_id, customer_external_id, netsuite_customer_id from {{ this }}
        where customer_external_id in (select customer_external_id from loaded_customers)
        union
        select order_id, customer_external_id, netsuite_customer_id from {{ this }}
        where netsuite_customer_id in (select customer_id from loaded_customers)
    ),

    customer_matches as (
        select customer_external_id, count(*) as matches, min(customer_id) as customer_id
        from {{ ref('stg_netsuite__customers') }}
        where customer_external_id in (select customer_external_id from customer_references)
        group by customer_external_id
    ),

    customer_orders as (
        -- only the orders whose match differs: NetSuite sends a per-marketplace customer again
        -- unchanged within its look-back, which would otherwise touch every order of a marketplace
        select customer_references.order_id
        from customer_references
        left join customer_matches
            on customer_references.customer_external_id = customer_matches.customer_external_id
        where coalesce(customer_matches.matches, 0) > 1
            or customer_references.netsuite_customer_id is distinct from customer_matches.customer_id
    ),
    {%- endif %}

    candidates as (
        select order_id from loaded_orders
        union
        select order_id from sku_orders
        {%- for lookup in lookups if lookup != 'items' %}
        union
        select order_id from {{ {'settlements': 'settlement_orders', 'transactions': 'transaction_orders',
            'customers': 'customer_orders'}[lookup] }}
        {%- endfor %}
    )

    select order_id from candidates
    where order_id is not null
{% endmacro %}

{#- fct_orders / fct_order_lines, post-hook: what the next build compares with (the config_version,
    the load markers of the raw tables read, the lookups as read now). -#}
{% macro record_order_fact_build(lookups) %}
    {%- set markers = {
        'config_version': 'select config_version from ' ~ ref('int_ledgerbridge__settings'),
        'load:raw_amazon.orders': load_marker(source('raw_amazon', 'orders')),
        'load:raw_amazon.order_items': load_marker(source('raw_amazon', 'order_items')),
    } -%}
    {%- if 'transactions' in lookups -%}
        {%- do markers.update({'load:raw_netsuite.transaction': load_marker(source('raw_netsuite', 'transaction'))}) -%}
    {%- endif -%}
    {%- if 'customers' in lookups -%}
        {%- do markers.update({'load:raw_netsuite.customer': load_marker(source('raw_netsuite', 'customer'))}) -%}
    {%- endif -%}
    {%- set saved = {} -%}
    {%- for lookup in lookups if lookup in ('items', 'settlements') -%}
        {%- do saved.update({lookup: order_fact_lookup(lookup)}) -%}
    {%- endfor -%}
    {{ return(record_incremental_build(markers=markers, lookups=saved)) }}
{% endmacro %}
