-- Every Amazon order with what LedgerBridge will make of it in NetSuite: the customer (per the
-- customer strategy), the location, the record type (sales order, or in `order` mode a cash
-- sale for FBA), whether that record already exists, and whether the order is ready to push.
with

orders as (
    select * from {{ ref('stg_amazon__orders') }}
),

lines as (
    select * from {{ ref('int_order_lines__mapped') }}
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
    select * from {{ ref('stg_amazon__settlement_lines') }}
    where transaction_type = 'Order'
        and order_id is not null
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
