-- Desired NetSuite credit memos (`order` mode): each refund in a settlement, per order and
-- adjustment, for the order's invoice (MFN) or cash sale (FBA) it reverses. A standalone credit
-- memo (entity + item lines, as NetSuite allows): the refund is usually booked settlements after
-- the order was paid, so there is no open invoice to transform or apply it to; the memo and
-- otherRefNum name the order. The external id (amz-cm-<settlement>-<order>-<hash of the adjustment
-- id>) comes from int_settlement_lines__classified: Amazon adjustment ids carry `:`, `/` and `+`,
-- which NetSuite external ids do not allow.
with

settlement_lines as (
    select * from {{ ref('fct_settlement_lines') }}
    where posting_route = 'credit_memo'
),

settlements as (
    select * from {{ ref('fct_settlements') }}
    where status = 'balanced'
),

orders as (
    select * from {{ ref('fct_orders') }}
    where is_ready_for_netsuite
),

items as (
    select * from {{ ref('stg_netsuite__items') }}
),

netsuite_references as (
    select * from {{ ref('int_netsuite__references') }}
),

refunded_items as (
    select
        settlement_lines.entry_external_id,
        settlement_lines.settlement_id,
        settlement_lines.order_id,
        settlement_lines.adjustment_id,
        settlement_lines.original_settlement_id,
        settlement_lines.sku,
        max(settlement_lines.posting_date) as posting_date,
        {{ to_money('-sum(settlement_lines.amount)') }} as amount
    from settlement_lines
    inner join settlements
        on settlement_lines.settlement_id = settlements.settlement_id
    group by 1, 2, 3, 4, 5, 6
),

memos as (
    select
        refunded_items.entry_external_id,
        refunded_items.settlement_id,
        refunded_items.order_id,
        refunded_items.adjustment_id,
        max(refunded_items.original_settlement_id) as original_settlement_id,
        max(refunded_items.posting_date) as posting_date,
        {{ to_money('sum(refunded_items.amount)') }} as amount,
        {{ json_array_agg(
            json_object_of([
                ('item', "json_object('id', items.item_id)"),
                ('amount', json_money('refunded_items.amount')),
            ]),
            'refunded_items.sku'
        ) }} as items,
        min(case when items.item_id is null then 0 else 1 end) = 1 as is_mapped
    from refunded_items
    left join items
        on refunded_items.sku = items.sku
    group by 1, 2, 3, 4
),

final as (
    select
        memos.entry_external_id as external_id,
        'creditMemo' as record_type,
        {{ json_text(json_object_of([
            ('entity', ns_ref('orders.customer_external_id')),
            ('subsidiary', ns_id_or_name('netsuite_references.subsidiary_id', 'netsuite_references.subsidiary_name')),
            ('currency', ns_id_or_name('netsuite_references.currency_id', 'netsuite_references.currency')),
            ('tranDate', 'cast(memos.posting_date as varchar)'),
            ('otherRefNum', 'memos.order_id'),
            ('memo', "'Amazon refund ' || memos.adjustment_id || ' of order ' || memos.order_id || ' in settlement ' || memos.settlement_id"),
            ('item', "json_object('items', memos.items)"),
        ])) }} as payload,
        case
            when orders.netsuite_record_type = 'cashSale' then orders.netsuite_external_id
            else 'amz-inv-' || memos.order_id
        end as depends_on,
        memos.settlement_id,
        memos.original_settlement_id,
        memos.order_id,
        memos.adjustment_id,
        orders.marketplace_code,
        memos.amount,
        memos.posting_date
    from memos
    inner join orders
        on memos.order_id = orders.order_id
    inner join netsuite_references
        on orders.marketplace_code = netsuite_references.marketplace_code
    where memos.is_mapped
)

select * from final
