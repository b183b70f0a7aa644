{#- NetSuite order documents (sales orders, cash sales, invoices, item fulfillments): the parts
    every document shares (customer, subsidiary, currency, location, item lines as JSON), built
    once per ready order. `scope`: none = every ready order; else a CTE or relation with the
    order_id column, so an incremental sync model builds the JSON of changed orders alone.
    `orders` / `lines`: CTEs already holding the (scoped) rows of fct_orders / fct_order_lines,
    read instead of the tables. -#}
{% macro netsuite_order_documents(scope=none, orders=none, lines=none) %}
with

orders as (
    select * from {{ orders or ref('fct_orders') }}
    where is_ready_for_netsuite
    {%- if scope %}
        and order_id in (select order_id from {{ scope }})
    {%- endif %}
),

order_lines as (
    select * from {{ lines or ref('fct_order_lines') }}
    {%- if scope %}
    where order_id in (select order_id from {{ scope }})
    {%- endif %}
),

netsuite_references as (
    select * from {{ ref('int_netsuite__references') }}
),

item_lines as (
    select
        order_id,
        {{ json_array_agg(
            json_object_of([
                ('item', "json_object('id', netsuite_item_id)"),
                ('quantity', 'quantity_ordered'),
                ('amount', json_money('item_price - promotion_discount')),
                ('location', ns_ref('location_external_id')),
            ]),
            'order_item_id'
        ) }} as items,
        {{ json_array_agg(
            json_object_of([
                ('item', "json_object('id', netsuite_item_id)"),
                ('quantity', 'quantity_shipped'),
                ('location', ns_ref('location_external_id')),
                ('itemReceive', 'true'),
            ]),
            'order_item_id'
        ) }} as fulfillment_items,
        sum(item_price - promotion_discount) as item_amount,
        sum(shipping_price) as shipping_amount,
        sum(item_tax + shipping_tax) as tax_amount
    from order_lines
    where is_mapped
    group by order_id
),

final as (
    select
        orders.order_id,
        orders.marketplace_code,
        orders.fulfillment_channel,
        orders.order_status,
        orders.netsuite_record_type,
        orders.netsuite_external_id,
        orders.customer_external_id,
        orders.location_external_id,
        orders.currency,
        orders.quantity_shipped,
        {{ utc_date('orders.purchased_at') }} as order_date,
        {{ utc_date('orders.last_updated_at') }} as last_updated_date,
        netsuite_references.clearing_account,
        {{ ns_id_or_name('netsuite_references.subsidiary_id', 'netsuite_references.subsidiary_name') }}
            as subsidiary_ref,
        {{ ns_id_or_name('netsuite_references.currency_id', 'netsuite_references.currency') }} as currency_ref,
        item_lines.items,
        item_lines.fulfillment_items,
        {{ to_money('item_lines.item_amount') }} as item_amount,
        {{ to_money('item_lines.shipping_amount') }} as shipping_amount,
        {{ to_money('item_lines.tax_amount') }} as tax_amount,
        'Amazon ' || orders.marketplace_code || ' order ' || orders.order_id
        || case when orders.fulfillment_channel = 'AFN' then ' (FBA)' else ' (merchant fulfilled)' end as memo
    from orders
    inner join item_lines
        on orders.order_id = item_lines.order_id
    inner join netsuite_references
        on orders.marketplace_code = netsuite_references.marketplace_code
)

select * from final
{% endmacro %}

{#- Per ready order matching `condition` (SQL on fct_orders columns): a checksum of everything its
    NetSuite document is made of (its fct_orders row, its order lines, its marketplace's NetSuite
    references, the settings). Kept in each order sync model as source_checksum: an incremental
    build rebuilds the documents whose checksum changed and drops those of orders that no longer
    match. `orders` / `lines`: as in netsuite_order_documents (the candidates of an incremental
    build). -#}
{% macro order_document_inputs(condition='true', orders=none, lines=none) %}
    {%- set parts = {'orders': [], 'lines': [], 'refs': [], 'settings': []} -%}
    {%- if execute -%}
        {%- for alias, model in [('orders', 'fct_orders'), ('lines', 'fct_order_lines'),
                ('refs', 'int_netsuite__references'), ('settings', 'int_ledgerbridge__settings')] -%}
            {%- for column in adapter.get_columns_in_relation(ref(model)) -%}
                {%- do parts[alias].append(alias ~ '.' ~ adapter.quote(column.name)) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- else -%}
        {%- do parts.update({'orders': ['orders.order_id'], 'lines': ['lines.order_id'],
            'refs': ['refs.marketplace_code'], 'settings': ['settings.accounting_mode']}) -%}
    {%- endif -%}
    select
        orders.order_id,
        {{ row_checksum(parts['orders'] + ['order_lines.checksum'] + parts['refs'] + parts['settings']) }}
            as source_checksum
    from {{ orders or ref('fct_orders') }} as orders
    cross join {{ ref('int_ledgerbridge__settings') }} as settings
    left join (
        select lines.order_id, {{ checksum_agg(row_checksum(parts['lines'])) }} as checksum
        from {{ lines or ref('fct_order_lines') }} as lines
        group by lines.order_id
    ) as order_lines
        on orders.order_id = order_lines.order_id
    left join {{ ref('int_netsuite__references') }} as refs
        on orders.marketplace_code = refs.marketplace_code
    where orders.is_ready_for_netsuite
        and ({{ condition }})
{% endmacro %}

{#- The fingerprint of the NetSuite references (int_netsuite__references: a few rows), which
    every document reads: when it changes, every document is compared. -#}
{% macro netsuite_references_fingerprint() -%}
    {%- set columns = ['marketplace_code'] -%}
    {%- if execute -%}
        {%- set columns = adapter.get_columns_in_relation(ref('int_netsuite__references')) | map(attribute='name') | list -%}
    {%- endif -%}
    select {{ dbt.hash(seed_text(ref('int_netsuite__references'), columns)) }}
{%- endmacro %}

{#- An order sync model's incremental build: true when every order's document must be compared
    (with the whole table, as before there was a record): nothing was recorded of the last build,
    the seeds or the accounting mode (config_version) or the NetSuite references changed, or the
    log of fct_orders or fct_order_lines no longer reaches back to the last build (a
    `--full-refresh` of it, or more than 100 builds of it since). `states`: the markers of this
    model and of those it reads (read_incremental_state). -#}
{% macro order_sync_needs_everything(states) %}
    {%- set model = this.identifier -%}
    {%- set own = states.get(model, {}) -%}
    {%- set why = [] -%}
    {%- if not own -%}
        {%- do why.append('no record of the last build') -%}
    {%- else -%}
        {%- set found = run_query('select (select config_version from ' ~ ref('int_ledgerbridge__settings')
            ~ '), (' ~ netsuite_references_fingerprint() ~ ')') -%}
        {%- if found.rows[0][0] != own.get('config_version') -%}
            {%- do why.append('the seeds or the accounting mode changed') -%}
        {%- elif found.rows[0][1] != own.get('refs') -%}
            {%- do why.append('the NetSuite references changed') -%}
        {%- endif -%}
        {%- for source_model in order_sync_sources() -%}
            {%- set state = states.get(source_model, {}) -%}
            {%- set position = own.get('position:' ~ source_model) -%}
            {%- if not state or position is none
                or position | int < (state.get('horizon') or 0) | int
                or position | int > (state.get('build_seq') or 0) | int -%}
                {%- do why.append(source_model ~ "'s log does not reach back to the last build") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if why -%}
        {{ log(model ~ ": " ~ why | join('; ') ~ ": comparing every document", info=true) }}
    {%- endif -%}
    {{ return(why | length > 0) }}
{% endmacro %}

{#- The models an order sync model reads incrementally, through their unit_changes log. -#}
{% macro order_sync_sources() %}
    {{ return(['fct_orders', 'fct_order_lines']) }}
{% endmacro %}

{#- An order sync model's incremental build: SQL selecting the order_id of the candidate orders,
    whose documents are compared with the table: the orders fct_orders and fct_order_lines replaced
    since this model's last build (their log, incremental_state.unit_changes). `own`: this model's
    markers. -#}
{% macro order_sync_candidates(own) %}
    select distinct unit_key as order_id
    from {{ incremental_state('unit_changes') }}
    where
    {%- for source_model in order_sync_sources() %}
        (model = '{{ source_model }}' and build_seq > {{ (own.get('position:' ~ source_model) or 0) | int }})
        {{- ' or' if not loop.last }}
    {%- endfor %}
{% endmacro %}

{#- An order sync model's post-hook: the config_version, the references' fingerprint and how far it
    read the logs of fct_orders and fct_order_lines. -#}
{% macro record_order_sync_build() %}
    {%- set markers = {
        'config_version': 'select config_version from ' ~ ref('int_ledgerbridge__settings'),
        'refs': netsuite_references_fingerprint(),
    } -%}
    {%- for source_model in order_sync_sources() -%}
        {%- do markers.update({'position:' ~ source_model: 'select max(value) from ' ~ incremental_state('markers')
            ~ " where model = '" ~ source_model ~ "' and name = 'build_seq'"}) -%}
    {%- endfor -%}
    {{ return(record_incremental_build(markers=markers)) }}
{% endmacro %}

{#- An order sync model (incremental per order, strategy replace_units), used as a call block
    whose body selects the model's rows from the CTE `documents`:
        {% call order_sync_model("orders.netsuite_record_type = 'salesOrder'") %} select ... from documents {% endcall %}
    A full build makes every document; an incremental build compares the source_checksum of the
    candidate orders (order_sync_candidates; every order when order_sync_needs_everything) with the
    table and makes the documents whose checksum changed, plus one placeholder per order whose
    document went. `condition`: SQL on fct_orders (alias orders) and the settings (alias settings)
    choosing the orders. The model's post-hook is record_order_sync_build. -#}
{% macro order_sync_model(condition) %}
    {%- set body = caller() -%}
    {%- if is_incremental() and execute -%}
        {%- set rebuild = columns_changed(_order_sync_sql(condition, body, incremental=false)) -%}
        {%- set states = read_incremental_state([this.identifier] + order_sync_sources()) -%}
        {{ _order_sync_sql(condition, body, incremental=true, rebuild=rebuild,
            everything=rebuild or order_sync_needs_everything(states), state=states.get(this.identifier, {})) }}
    {%- else -%}
        {{ _order_sync_sql(condition, body, incremental=false) }}
    {%- endif -%}
{% endmacro %}

{% macro _order_sync_sql(condition, body, incremental, rebuild=false, everything=false, state={}) %}
with

{% if incremental %}
{%- if not everything %}
candidates as (
    {{ order_sync_candidates(state) }}
),

-- the candidates this model makes a document of, read once for their checksums and documents
candidate_orders as (
    select orders.*
    from {{ ref('fct_orders') }} as orders
    cross join {{ ref('int_ledgerbridge__settings') }} as settings
    where orders.order_id in (select order_id from candidates)
        and orders.is_ready_for_netsuite
        and ({{ condition }})
),

candidate_lines as (
    select * from {{ ref('fct_order_lines') }}
    where order_id in (select order_id from candidate_orders)
),

inputs as (
    {{ order_document_inputs(condition, orders='candidate_orders', lines='candidate_lines') }}
),
{%- else %}

inputs as (
    {{ order_document_inputs(condition) }}
),
{%- endif %}

changed as (
    {%- if rebuild %}
    select order_id from inputs
    union
    select order_id from {{ this }}
    {%- else %}
    select coalesce(inputs.order_id, built.order_id) as order_id
    from inputs
    full outer join (
        select order_id, source_checksum from {{ this }}
        {%- if not everything %}
        where order_id in (select order_id from candidates)
        {%- endif %}
    ) as built
        on inputs.order_id = built.order_id
    where inputs.order_id is null
        or built.order_id is null
        or inputs.source_checksum <> built.source_checksum
    {%- endif %}
),

all_documents as (
    {%- if everything %}
    {{ netsuite_order_documents('changed') }}
    {%- else %}
    {{ netsuite_order_documents('changed', orders='candidate_orders', lines='candidate_lines') }}
    {%- endif %}
),
{% else %}
inputs as (
    {{ order_document_inputs(condition) }}
),

all_documents as (
    {{ netsuite_order_documents() }}
),
{% endif %}

documents as (
    select all_documents.*
    from all_documents
    inner join inputs
        on all_documents.order_id = inputs.order_id
),

records as (
    {{ body }}
),

final as (
    select
        records.*,
        inputs.source_checksum
    from records
    inner join inputs
        on records.order_id = inputs.order_id
)

{% if incremental %}
select *
from changed
left join final using (order_id)
{% else %}
select * from final
{% endif %}
{% endmacro %}
