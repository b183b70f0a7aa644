-- One SKU x pool (FBA / FBM) x location x marketplace, latest snapshot, with both systems'
-- quantities and the drift = master minus mirror (what the mirror must be adjusted by).
with

fba as (
    select * from {{ ref('int_inventory__fba_pool') }}
),

fbm as (
    select * from {{ ref('int_inventory__fbm_pool') }}
),

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

unioned as (
    select
        pool, marketplace_code, location_external_id, sku, master_system, snapshot_date,
        amazon_quantity, netsuite_quantity, netsuite_item_id, amazon_updated_at, netsuite_updated_at,
        cast(null as {{ type_money() }}) as listed_price,
        cast(null as {{ type_money() }}) as netsuite_price
    from fba
    union all
    select
        pool, marketplace_code, location_external_id, sku, master_system, snapshot_date,
        amazon_quantity, netsuite_quantity, netsuite_item_id, amazon_updated_at, netsuite_updated_at,
        listed_price,
        netsuite_price
    from fbm
),

final as (
    select
        unioned.pool || '-' || unioned.location_external_id || '-' || unioned.marketplace_code
        || '-' || unioned.sku as inventory_pool_id,
        unioned.pool,
        unioned.marketplace_code,
        unioned.location_external_id,
        unioned.sku,
        unioned.netsuite_item_id,
        unioned.netsuite_item_id is not null as is_mapped,
        unioned.master_system,
        unioned.snapshot_date,
        unioned.amazon_quantity,
        unioned.netsuite_quantity,
        case
            when unioned.netsuite_item_id is null then null
            when unioned.master_system = 'amazon'
                then unioned.amazon_quantity - coalesce(unioned.netsuite_quantity, 0)
            else coalesce(unioned.netsuite_quantity, 0) - unioned.amazon_quantity
        end as drift,
        unioned.listed_price,
        unioned.netsuite_price,
        settings.inventory_drift_threshold,
        coalesce(
            unioned.netsuite_item_id is not null
            and abs(
                case
                    when unioned.master_system = 'amazon'
                        then unioned.amazon_quantity - coalesce(unioned.netsuite_quantity, 0)
                    else coalesce(unioned.netsuite_quantity, 0) - unioned.amazon_quantity
                end
            ) > settings.inventory_drift_threshold,
            false
        ) as is_drift_exception,
        unioned.amazon_updated_at,
        unioned.netsuite_updated_at
    from unioned
    cross join settings
)

select * from final
