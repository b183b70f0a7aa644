{#- Every settlement amount row with its GL account and category (the most specific row of the
    GL mapping seed wins; `*` matches anything), the document that posts it (journal entry,
    or in `order` mode the cash sale / customer payment / credit memo), its posting date and
    period (month-end split), and for refunds the order and settlement they reverse. -#}
{#- The SQL is the macro classify_settlement_lines (macros/settlement_classification.sql), shared
    with the incremental fct_settlement_lines, which runs it on the new and changed settlements. -#}
{{ classify_settlement_lines() }}
