-- Desired NetSuite customer payments (`order` mode): what a settlement paid for each
-- merchant-fulfilled order, deposited to the clearing account and applied to the order's invoice.
with

journal_lines as (
    select * from {{ ref('fct_settlement_journal_lines') }}
    where entry_type = 'customer_payment'
        and category = 'receivable'
),

settlement_lines as (
    select distinct
        entry_external_id,
        order_id
    from {{ ref('fct_settlement_lines') }}
    where posting_route = 'customer_payment'
),

orders as (
    select * from {{ ref('fct_orders') }}
    where is_ready_for_netsuite
),

settlements as (
    select * from {{ ref('fct_settlements') }}
),

netsuite_references as (
    select * from {{ ref('int_netsuite__references') }}
),

payments as (
    select
        journal_lines.entry_external_id,
        journal_lines.settlement_id,
        settlement_lines.order_id,
        max(journal_lines.posting_date) as posting_date,
        {{ to_money('sum(journal_lines.credit - journal_lines.debit)') }} as amount
    from journal_lines
    inner join settlement_lines
        on journal_lines.entry_external_id = settlement_lines.entry_external_id
    group by 1, 2, 3
),

final as (
    select
        payments.entry_external_id as external_id,
        'customerPayment' as record_type,
        {{ json_text(json_object_of([
            ('customer', ns_ref('orders.customer_external_id')),
            ('subsidiary', ns_id_or_name('netsuite_references.subsidiary_id', 'netsuite_references.subsidiary_name')),
            ('currency', ns_id_or_name('netsuite_references.currency_id', 'netsuite_references.currency')),
            ('tranDate', 'cast(payments.posting_date as varchar)'),
            ('undepFunds', 'false'),
            ('account', ns_ref('settlements.clearing_account')),
            ('payment', json_money('payments.amount')),
            ('memo', "'Amazon settlement ' || payments.settlement_id || ', order ' || payments.order_id"),
            ('apply', "json_object('items', json_array(json_object('doc', json_object('externalId', 'amz-inv-' || payments.order_id), 'apply', true, 'amount', payments.amount)))"),
        ])) }} as payload,
        'amz-inv-' || payments.order_id as depends_on,
        payments.settlement_id,
        payments.order_id,
        orders.marketplace_code,
        payments.amount,
        payments.posting_date
    from payments
    inner join orders
        on payments.order_id = orders.order_id
    inner join settlements
        on payments.settlement_id = settlements.settlement_id
    inner join netsuite_references
        on orders.marketplace_code = netsuite_references.marketplace_code
    where payments.amount > 0
)

select * from final
