-- Desired NetSuite inventory adjustments: Amazon is master for FBA stock, so every FBA drift is
-- adjusted at the marketplace's FBA virtual location (at most N lines per record, setting
-- inventory_adjustment_max_lines, NetSuite's limit being 1,000).
with

-- Only marketplaces Amazon reported stock for: a SKU missing from the latest snapshot is adjusted
-- to zero at that snapshot's date, but a marketplace that was not ingested (AMAZON_MARKETPLACES)
-- has no Amazon figure at all, and zeroing NetSuite's stock there would be a guess.
fba_pools as (
    select
        *,
        max(snapshot_date) over (partition by marketplace_code) as marketplace_snapshot_date
    from {{ ref('fct_inventory_pools') }}
    where pool = 'FBA'
),

pools as (
    select * from fba_pools
    where is_mapped
        and drift <> 0
        and marketplace_snapshot_date is not null
),

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

netsuite_references as (
    select * from {{ ref('int_netsuite__references') }}
),

numbered as (
    select
        pools.*,
        settings.inventory_adjustment_account,
        cast(floor(
            (row_number() over (partition by pools.marketplace_code order by pools.sku) - 1)
            / settings.inventory_adjustment_max_lines
        ) as integer) + 1 as chunk_number,
        cast(floor(
            (count(*) over (partition by pools.marketplace_code) - 1) / settings.inventory_adjustment_max_lines
        ) as integer) + 1 as chunk_count
    from pools
    cross join settings
),

adjustments as (
    select
        'amz-ia-' || marketplace_code || '-' || cast(max(marketplace_snapshot_date) as varchar)
        || case when max(chunk_count) > 1 then '-' || cast(chunk_number as varchar) else '' end as external_id,
        marketplace_code,
        location_external_id,
        chunk_number,
        max(marketplace_snapshot_date) as snapshot_date,
        max(inventory_adjustment_account) as adjustment_account,
        count(*) as line_count,
        sum(drift) as net_adjustment,
        {{ json_array_agg(
            json_object_of([
                ('item', "json_object('id', netsuite_item_id)"),
                ('location', ns_ref('location_external_id')),
                ('adjustQtyBy', 'drift'),
                ('memo', "'Amazon FBA ' || sku || ': Amazon ' || amazon_quantity || ', NetSuite ' || coalesce(netsuite_quantity, 0)"),
            ]),
            'sku'
        ) }} as lines
    from numbered
    group by marketplace_code, location_external_id, chunk_number
),

final as (
    select
        adjustments.external_id,
        'inventoryAdjustment' as record_type,
        {{ json_text(json_object_of([
            ('subsidiary', ns_id_or_name('netsuite_references.subsidiary_id', 'netsuite_references.subsidiary_name')),
            ('account', ns_ref('adjustments.adjustment_account')),
            ('adjLocation', ns_ref('adjustments.location_external_id')),
            ('tranDate', 'cast(adjustments.snapshot_date as varchar)'),
            ('memo', "'Amazon FBA inventory ' || adjustments.marketplace_code || ' on ' || cast(adjustments.snapshot_date as varchar)"),
            ('inventory', "json_object('items', adjustments.lines)"),
        ])) }} as payload,
        cast(null as varchar) as depends_on,
        adjustments.marketplace_code,
        adjustments.location_external_id,
        adjustments.snapshot_date,
        adjustments.line_count,
        adjustments.net_adjustment
    from adjustments
    inner join netsuite_references
        on adjustments.marketplace_code = netsuite_references.marketplace_code
)

select * from final
