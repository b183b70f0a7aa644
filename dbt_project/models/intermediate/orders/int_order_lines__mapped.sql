-- Every order item with the NetSuite item its SKU maps to (item name/number = seller SKU) and
-- the NetSuite location that ships it: the marketplace's FBA virtual location or the warehouse.
-- The SQL is the macro order_lines_mapped (macros/order_facts.sql), shared with the incremental
-- fct_order_lines, which runs it on the candidate orders alone.
{{ order_lines_mapped() }}
