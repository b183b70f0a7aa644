-- Every Amazon order with what LedgerBridge will make of it in NetSuite: the customer (per the
-- customer strategy), the location, the record type (sales order, or in `order` mode a cash
-- sale for FBA), whether that record already exists, and whether the order is ready to push.
-- The SQL is the macro orders_matched_to_netsuite (macros/order_facts.sql), shared with the
-- incremental fct_orders, which runs it on the candidate orders alone.
{{ orders_matched_to_netsuite() }}
