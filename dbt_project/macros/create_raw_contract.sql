{#- The raw contract of docs/contracts.md, executable: on-run-start creates every raw table dbt
    reads that is still missing, empty, with the contract's columns. A warehouse holding only
    imported settlement files (or only NetSuite) then builds, and staging never fails on a missing
    source. Existing tables (loaded by dlt, with more columns) are never touched. -#}
{% macro raw_contract_tables() %}
    {% set money = type_money() %}
    {% set dlt = [('_dlt_load_id', 'varchar'), ('_dlt_id', 'varchar')] %}
    {% set tables = {
        'raw_amazon.orders': [
            ('order_id', 'varchar'), ('marketplace_id', 'varchar'), ('order_status', 'varchar'),
            ('fulfillment_channel', 'varchar'), ('purchased_at', 'timestamptz'),
            ('last_updated_at', 'timestamptz'), ('order_total_amount', money), ('currency', 'varchar'),
            ('sales_channel', 'varchar'), ('ship_country', 'varchar'), ('is_business_order', 'boolean'),
            ('buyer_email', 'varchar'), ('buyer_name', 'varchar')],
        'raw_amazon.order_items': [
            ('order_id', 'varchar'), ('order_item_id', 'varchar'), ('sku', 'varchar'), ('asin', 'varchar'),
            ('quantity_ordered', 'bigint'), ('quantity_shipped', 'bigint'), ('item_price_amount', money),
            ('item_tax_amount', money), ('shipping_price_amount', money), ('shipping_tax_amount', money),
            ('promotion_discount_amount', money), ('currency', 'varchar'), ('last_updated_at', 'timestamptz')],
        'raw_amazon.inventory_summaries': [
            ('snapshot_date', 'date'), ('marketplace_id', 'varchar'), ('seller_sku', 'varchar'),
            ('fn_sku', 'varchar'), ('asin', 'varchar'), ('fulfillable_quantity', 'bigint'),
            ('inbound_working_quantity', 'bigint'), ('inbound_shipped_quantity', 'bigint'),
            ('inbound_receiving_quantity', 'bigint'), ('reserved_quantity', 'bigint'),
            ('unfulfillable_quantity', 'bigint'), ('total_quantity', 'bigint'),
            ('last_updated_at', 'timestamptz')],
        'raw_amazon.listings_items': [
            ('marketplace_id', 'varchar'), ('seller_sku', 'varchar'), ('asin', 'varchar'),
            ('fulfillment_channel', 'varchar'), ('quantity', 'bigint'), ('price_amount', money),
            ('currency', 'varchar'), ('status', 'varchar'), ('last_updated_at', 'timestamptz')],
        'raw_amazon.settlements': [
            ('settlement_id', 'varchar'), ('marketplace_name', 'varchar'), ('currency', 'varchar'),
            ('period_start_at', 'timestamptz'), ('period_end_at', 'timestamptz'),
            ('deposit_at', 'timestamptz'), ('total_amount', money), ('line_count', 'bigint'),
            ('line_sum', money), ('layout', 'varchar'), ('source', 'varchar'), ('source_name', 'varchar'),
            ('file_sha256', 'varchar'), ('replaced_sha256', 'varchar'), ('loaded_at', 'timestamptz')],
        'raw_amazon.settlement_lines': [
            ('settlement_id', 'varchar'), ('line_number', 'bigint'), ('source_row', 'bigint'),
            ('transaction_type', 'varchar'), ('order_id', 'varchar'), ('merchant_order_id', 'varchar'),
            ('adjustment_id', 'varchar'), ('shipment_id', 'varchar'), ('marketplace_name', 'varchar'),
            ('amount_type', 'varchar'), ('amount_description', 'varchar'), ('amount', money),
            ('fulfillment_id', 'varchar'), ('posted_date', 'date'), ('posted_at', 'timestamptz'),
            ('order_item_code', 'varchar'), ('merchant_order_item_id', 'varchar'),
            ('merchant_adjustment_item_id', 'varchar'), ('sku', 'varchar'), ('quantity_purchased', 'bigint'),
            ('promotion_id', 'varchar'), ('extra', 'varchar'), ('currency', 'varchar')],
        'raw_amazon.settlement_rejections': [
            ('file_name', 'varchar'), ('file_sha256', 'varchar'), ('settlement_id', 'varchar'),
            ('row_number', 'bigint'), ('field', 'varchar'), ('error', 'varchar'),
            ('rejected_at', 'timestamptz')],
        'raw_netsuite.subsidiary': [
            ('id', 'varchar'), ('name', 'varchar'), ('currency', 'varchar'), ('country', 'varchar'),
            ('lastmodifieddate', 'timestamptz')],
        'raw_netsuite.currency': [
            ('id', 'varchar'), ('symbol', 'varchar'), ('name', 'varchar'), ('lastmodifieddate', 'timestamptz')],
        'raw_netsuite.account': [
            ('id', 'varchar'), ('acctnumber', 'varchar'), ('fullname', 'varchar'), ('accttype', 'varchar'),
            ('externalid', 'varchar'), ('lastmodifieddate', 'timestamptz')],
        'raw_netsuite.location': [
            ('id', 'varchar'), ('name', 'varchar'), ('externalid', 'varchar'), ('subsidiary', 'varchar'),
            ('isinactive', 'varchar'), ('lastmodifieddate', 'timestamptz')],
        'raw_netsuite.item': [
            ('id', 'varchar'), ('itemid', 'varchar'), ('displayname', 'varchar'), ('itemtype', 'varchar'),
            ('externalid', 'varchar'), ('isinactive', 'varchar'), ('lastmodifieddate', 'timestamptz')],
        'raw_netsuite.customer': [
            ('id', 'varchar'), ('entityid', 'varchar'), ('companyname', 'varchar'), ('externalid', 'varchar'),
            ('subsidiary', 'varchar'), ('currency', 'varchar'), ('lastmodifieddate', 'timestamptz')],
        'raw_netsuite.transaction': [
            ('id', 'varchar'), ('tranid', 'varchar'), ('type', 'varchar'), ('externalid', 'varchar'),
            ('entity', 'varchar'), ('trandate', 'date'), ('currency', 'varchar'), ('memo', 'varchar'),
            ('foreigntotal', money), ('lastmodifieddate', 'timestamptz')],
        'raw_netsuite.transactionline': [
            ('transaction', 'varchar'), ('id', 'varchar'), ('linesequencenumber', 'bigint'),
            ('item', 'varchar'), ('quantity', 'decimal(18, 4)'), ('location', 'varchar'),
            ('foreignamount', money), ('lastmodifieddate', 'timestamptz')],
        'raw_netsuite.aggregateitemlocation': [
            ('item', 'varchar'), ('location', 'varchar'), ('quantityonhand', 'decimal(18, 4)'),
            ('quantityavailable', 'decimal(18, 4)'), ('lastmodifieddate', 'timestamptz')],
        'raw_netsuite.pricing': [
            ('item', 'varchar'), ('pricelevel', 'varchar'), ('pricelevelname', 'varchar'),
            ('currency', 'varchar'), ('unitprice', money)],
    } %}
    {% set result = {} %}
    {% for name, columns in tables.items() %}
        {% do result.update({name: columns + dlt}) %}
    {% endfor %}
    {{ return(result) }}
{% endmacro %}

{% macro create_raw_contract() %}
    {#- Missing tables are created; missing columns (dlt creates no column whose values were all
        null) are added, so staging always finds every contract column. -#}
    {% if execute %}
        {% set statements = [
            'create schema if not exists raw_amazon',
            'create schema if not exists raw_netsuite',
            'create schema if not exists reverse_etl',
        ] %}
        {% for statement in statements %}
            {% do run_query(statement) %}
        {% endfor %}
        {% set existing = {} %}
        {% set found = run_query(
            "select table_schema || '.' || table_name, lower(column_name) from information_schema.columns "
            ~ "where table_schema in ('raw_amazon', 'raw_netsuite', 'reverse_etl')"
        ) %}
        {% for row in found.rows %}
            {% do existing.setdefault(row[0], []).append(row[1]) %}
        {% endfor %}
        {% set tables = raw_contract_tables() %}
        {#- The reverse-ETL engine owns this table; dbt reads it for failed pushes. -#}
        {% do tables.update({'reverse_etl.sync_records': [
            ('record_type', 'varchar'), ('external_id', 'varchar'), ('fingerprint', 'varchar'),
            ('target_id', 'varchar'), ('status', 'varchar'), ('attempts', 'integer'),
            ('last_error', 'varchar'), ('pushed_at', 'timestamptz')]}) %}
        {% for name, columns in tables.items() %}
            {% if name not in existing %}
                {% set column_sql = [] %}
                {% for column, data_type in columns %}
                    {% do column_sql.append('"' ~ column ~ '" ' ~ data_type) %}
                {% endfor %}
                {% do run_query('create table if not exists ' ~ name ~ ' (' ~ column_sql | join(', ') ~ ')') %}
            {% else %}
                {% for column, data_type in columns %}
                    {% if column not in existing[name] %}
                        {% do run_query('alter table ' ~ name ~ ' add column if not exists "' ~ column ~ '" ' ~ data_type) %}
                    {% endif %}
                {% endfor %}
            {% endif %}
        {% endfor %}
    {% endif %}
    select 1
{% endmacro %}
