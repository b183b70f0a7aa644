-- Desired NetSuite customers: one per marketplace, or one per buyer (customer_strategy).
with

orders as (
    select * from {{ ref('fct_orders') }}
    where is_ready_for_netsuite
),

netsuite_references as (
    select * from {{ ref('int_netsuite__references') }}
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

per_customer as (
    select
        customer_external_id,
        marketplace_code,
        count(*) over (partition by customer_external_id) as order_count,
        row_number() over (partition by customer_external_id order by purchased_at, order_id) as order_rank
    from orders
),

customers as (
    select
        per_customer.customer_external_id,
        per_customer.marketplace_code,
        per_customer.order_count,
        case
            when per_customer.customer_external_id = 'amz-cust-' || per_customer.marketplace_code
                then 'Amazon ' || marketplaces.marketplace_name || ' customer'
            else 'Amazon buyer ' || replace(per_customer.customer_external_id, 'amz-cust-', '')
        end as company_name,
        netsuite_references.subsidiary_id,
        netsuite_references.subsidiary_name,
        netsuite_references.currency_id,
        netsuite_references.currency
    from per_customer
    inner join marketplaces
        on per_customer.marketplace_code = marketplaces.marketplace_code
    inner join netsuite_references
        on per_customer.marketplace_code = netsuite_references.marketplace_code
    where per_customer.order_rank = 1
),

final as (
    select
        customer_external_id as external_id,
        'customer' as record_type,
        {{ json_text(json_object_of([
            ('companyName', 'company_name'),
            ('isPerson', 'false'),
            ('subsidiary', ns_id_or_name('subsidiary_id', 'subsidiary_name')),
            ('currency', ns_id_or_name('currency_id', 'currency')),
        ])) }} as payload,
        cast(null as varchar) as depends_on,
        marketplace_code,
        company_name,
        order_count
    from customers
)

select * from final
