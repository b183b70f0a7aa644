-- Every order line maps to a NetSuite item, or its SKU is an open unmapped_sku exception.
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

exceptions as (
    select * from {{ ref('rpt_exceptions') }}
    where exception_type = 'unmapped_sku'
),

final as (
    select
        order_lines.order_line_id,
        order_lines.sku
    from order_lines
    left join exceptions
        on order_lines.sku = exceptions.sku
    where order_lines.netsuite_item_id is null
        and exceptions.sku is null
)

select * from final
