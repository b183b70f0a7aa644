-- One Amazon order item with its NetSuite item (null when the SKU is unmapped: see
-- rpt_exceptions, type unmapped_sku).
with

lines as (
    select * from {{ ref('int_order_lines__mapped') }}
),

final as (
    select * from lines
)

select * from final
