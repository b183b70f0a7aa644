"""Settlement files: every format parses to the right value, every bad file is rejected with file,
row and field, and loads are atomic, idempotent and replace older files of the same settlement."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingestion.amazon import settlement_formats as fmt
from ingestion.amazon.settlements import (
    SettlementFileError,
    import_inbox,
    load_settlements,
    parse_settlement_file,
)
from orchestration.cli import main

REPO = Path(__file__).resolve().parents[2]

SUMMARY_AU = {
    "settlement-id": "12395580393",
    "settlement-start-date": "17.07.2026 07:06:34 UTC",
    "settlement-end-date": "31.07.2026 07:06:35 UTC",
    "deposit-date": "02.08.2026 07:06:35 UTC",
    "total-amount": "3.17",
    "currency": "AUD",
}
ORDER = {
    "settlement-id": "12395580393",
    "transaction-type": "Order",
    "order-id": "250-1234567-7654321",
    "shipment-id": "DZ3kL9",
    "marketplace-name": "Amazon.com.au",
    "fulfillment-id": "AFN",
    "posted-date": "17.07.2026",
    "posted-date-time": "17.07.2026 07:26:32 UTC",
    "order-item-code": "58312097654321",
    "sku": "LB-MUG-01",
    "quantity-purchased": "1",
}
AU_LINES = [
    {**ORDER, "amount-type": "ItemPrice", "amount-description": "Principal", "amount": "19.67"},
    {**ORDER, "amount-type": "ItemPrice", "amount-description": "Tax", "amount": "1.79"},
    {**ORDER, "amount-type": "ItemFees", "amount-description": "Commission", "amount": "-2.95"},
    {**ORDER, "amount-type": "ItemFees", "amount-description": "FBAPerUnitFulfillmentFee", "amount": "-5.10"},
    {
        **ORDER,
        "transaction-type": "Refund",
        "adjustment-id": "amzn1:crow:GbFNO/rNSjucO4UPmpeEWA",
        "merchant-adjustment-item-id": "a1",
        "quantity-purchased": "",
        "posted-date": "20.07.2026",
        "posted-date-time": "20.07.2026 23:59:59 UTC",
        "amount-type": "ItemPrice",
        "amount-description": "Principal",
        "amount": "-7.03",
    },
    {
        "settlement-id": "12395580393",
        "transaction-type": "other-transaction",
        "amount-type": "other-transaction",
        "amount-description": "Storage Fee",
        "amount": "-3.21",
        "posted-date": "30.07.2026",
        "posted-date-time": "30.07.2026 02:00:00 UTC",
    },
]  # sums to 3.17


def write_tsv(path: Path, header, rows, *, encoding="utf-8", newline="\n", bom=False) -> Path:
    lines = ["\t".join(header)] + ["\t".join(str(row.get(h, "")) for h in header) for row in rows]
    data = (newline.join(lines) + newline).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def v2(path: Path, summary=None, lines=None, header=fmt.V2_COLUMNS, **kw) -> Path:
    return write_tsv(path, header, [summary or SUMMARY_AU, *(AU_LINES if lines is None else lines)], **kw)


def warehouse_rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def line_multiset(parsed) -> Counter:
    return Counter(
        (r["amount_type"], r["amount_description"], r["amount"])
        for r in parsed.lines.select(["amount_type", "amount_description", "amount"]).to_pylist()
    )


# --- parsing ---------------------------------------------------------------------------------------


def test_v2_file_carries_summary_to_every_line_and_keeps_exact_amounts(tmp_path):
    parsed = parse_settlement_file(v2(tmp_path / "au.txt"))

    assert (parsed.settlement_id, parsed.layout, parsed.currency) == ("12395580393", "v2", "AUD")
    assert parsed.marketplace_name == "Amazon.com.au"
    assert parsed.period_start_at == datetime(2026, 7, 17, 7, 6, 34, tzinfo=UTC)
    assert parsed.period_end_at == datetime(2026, 7, 31, 7, 6, 35, tzinfo=UTC)
    assert parsed.deposit_at == datetime(2026, 8, 2, 7, 6, 35, tzinfo=UTC)
    assert (parsed.total_amount, parsed.line_sum, parsed.variance) == (Decimal("3.17"), Decimal("3.17"), 0)
    rows = parsed.lines.to_pylist()
    assert [r["line_number"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r["source_row"] for r in rows] == [3, 4, 5, 6, 7, 8]  # header = 1, summary = 2
    assert {r["currency"] for r in rows} == {"AUD"}
    assert {r["settlement_id"] for r in rows} == {"12395580393"}
    refund = rows[4]
    assert refund["adjustment_id"] == "amzn1:crow:GbFNO/rNSjucO4UPmpeEWA"
    assert refund["quantity_purchased"] is None
    assert refund["posted_date"] == date(2026, 7, 20)
    assert refund["posted_at"] == datetime(2026, 7, 20, 23, 59, 59, tzinfo=UTC)
    assert [r["amount"] for r in rows] == [
        Decimal(a) for a in ("19.67", "1.79", "-2.95", "-5.10", "-7.03", "-3.21")
    ]


@pytest.mark.parametrize(
    ("written", "mark_example", "expected"),
    [
        ("1.234,56", "95,00", "1234.56"),  # DE
        ("-1.234.567,89", "95,00", "-1234567.89"),
        ("95,5", "95,00", "95.50"),
        ("1,234.56", "19.67", "1234.56"),  # UK
        ("-133756.51", "19.67", "-133756.51"),  # US / AU
        ("1,234", "19.67", "1234.00"),
        ("1.234", "95,00", "1234.00"),
        ("7", "19.67", "7.00"),
        ("+0.1", "19.67", "0.10"),
    ],
)
def test_amount_formats_parse_to_exact_decimals(tmp_path, written, mark_example, expected):
    lines = [
        {**AU_LINES[0], "amount": written},
        {**AU_LINES[1], "amount": mark_example},
    ]
    total = Decimal(expected) + Decimal(mark_example.replace(",", "."))
    summary = {**SUMMARY_AU, "total-amount": str(total).replace(".", "," if "," in mark_example else ".")}
    parsed = parse_settlement_file(v2(tmp_path / "f.txt", summary, lines))
    assert parsed.lines.column("amount").to_pylist()[0] == Decimal(expected)
    assert parsed.total_amount == total
    assert parsed.variance == 0


@pytest.mark.parametrize(
    ("period", "posted_date", "posted_date_time", "want_date", "want_at"),
    [
        (  # CA legacy-style ISO 8601 with offset; converted to UTC, the date stays as written
            ("2025-08-01T00:00:00+00:00", "2025-08-15T00:00:00+00:00"),
            "2025-08-14T22:07:18-07:00",
            "",
            date(2025, 8, 14),
            datetime(2025, 8, 15, 5, 7, 18, tzinfo=UTC),
        ),
        (  # US
            ("2026-07-01 00:00:00 UTC", "2026-07-15 00:00:00 UTC"),
            "07/08/26",
            "2026-07-08 05:23:19 UTC",
            date(2026, 7, 8),
            datetime(2026, 7, 8, 5, 23, 19, tzinfo=UTC),
        ),
        (  # DD/MM/YY decided by posted-date-time (seen in a real US file)
            ("2025-06-01 00:00:00 UTC", "2025-06-30 00:00:00 UTC"),
            "09/06/25",
            "2025-06-09 05:23:19 UTC",
            date(2025, 6, 9),
            datetime(2025, 6, 9, 5, 23, 19, tzinfo=UTC),
        ),
        (  # no posted-date-time: the settlement period decides MM/DD/YY (Jul 8, not Aug 7)
            ("2026-07-01 00:00:00 UTC", "2026-07-14 00:00:00 UTC"),
            "07/08/26",
            "",
            date(2026, 7, 8),
            None,
        ),
        (  # ... and DD/MM/YY (Aug 7, not Jul 8)
            ("2026-08-01 00:00:00 UTC", "2026-08-14 00:00:00 UTC"),
            "07/08/26",
            "",
            date(2026, 8, 7),
            None,
        ),
        (  # no posted-date: the day of posted-date-time
            ("2026-07-01 00:00:00 UTC", "2026-07-15 00:00:00 UTC"),
            "",
            "2026-07-08 23:23:19 UTC",
            date(2026, 7, 8),
            datetime(2026, 7, 8, 23, 23, 19, tzinfo=UTC),
        ),
        (  # DE/UK/AU
            ("17.07.2026 07:06:34 UTC", "31.07.2026 07:06:35 UTC"),
            "18.07.2026",
            "18.07.2026 23:10:00 UTC",
            date(2026, 7, 18),
            datetime(2026, 7, 18, 23, 10, tzinfo=UTC),
        ),
    ],
)
def test_date_formats_parse_to_the_right_day(
    tmp_path, period, posted_date, posted_date_time, want_date, want_at
):
    summary = {**SUMMARY_AU, "settlement-start-date": period[0], "settlement-end-date": period[1]}
    line = {**AU_LINES[0], "amount": "3.17", "posted-date": posted_date, "posted-date-time": posted_date_time}
    parsed = parse_settlement_file(v2(tmp_path / "f.txt", summary, [line]))
    row = parsed.lines.to_pylist()[0]
    assert (row["posted_date"], row["posted_at"]) == (want_date, want_at)


def test_summary_dates_in_every_style(tmp_path):
    summary = {
        **SUMMARY_AU,
        "settlement-start-date": "2025-08-01T00:00:00+02:00",
        "settlement-end-date": "2025-08-15 10:00:00 UTC",
        "deposit-date": "17.08.2025",
    }
    parsed = parse_settlement_file(v2(tmp_path / "f.txt", summary))
    assert parsed.period_start_at == datetime(2025, 7, 31, 22, tzinfo=UTC)
    assert parsed.period_end_at == datetime(2025, 8, 15, 10, tzinfo=UTC)
    assert parsed.deposit_at == datetime(2025, 8, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("encoding", "newline", "bom"),
    [("utf-8", "\n", False), ("utf-8", "\r\n", True), ("latin-1", "\r\n", False), ("latin-1", "\n", False)],
)
def test_encodings_and_line_endings(tmp_path, encoding, newline, bom):
    lines = [{**AU_LINES[0], "amount": "3.17", "amount-description": "Rückerstattung für Gebühr"}]
    parsed = parse_settlement_file(
        v2(tmp_path / "f.txt", lines=lines, encoding=encoding, newline=newline, bom=bom)
    )
    row = parsed.lines.to_pylist()[0]
    assert row["amount_description"] == "Rückerstattung für Gebühr"
    assert row["quantity_purchased"] == 1  # the last column is clean: no stray \r
    assert parsed.total_amount == Decimal("3.17")


@pytest.mark.parametrize(
    ("posted_date", "posted_date_time", "want_date"),
    [
        (" 17.07.2026 ", " 17.07.2026 07:26:32 UTC ", date(2026, 7, 17)),
        (" 07/17/26 ", "2026-07-17 07:26:32 UTC  ", date(2026, 7, 17)),  # two-digit year, padded
    ],
)
def test_values_padded_with_spaces_read_as_without(tmp_path, posted_date, posted_date_time, want_date):
    line = {
        **AU_LINES[0],
        "settlement-id": " 12395580393",
        "amount": " 3.17 ",
        "quantity-purchased": " 2 ",
        "posted-date": posted_date,
        "posted-date-time": posted_date_time,
    }
    parsed = parse_settlement_file(v2(tmp_path / "f.txt", {**SUMMARY_AU, "currency": "AUD "}, [line]))
    row = parsed.lines.to_pylist()[0]
    assert (row["amount"], row["quantity_purchased"], row["settlement_id"]) == (
        Decimal("3.17"),
        2,
        "12395580393",
    )
    assert (row["posted_date"], row["posted_at"]) == (want_date, datetime(2026, 7, 17, 7, 26, 32, tzinfo=UTC))
    assert parsed.variance == 0


def test_bytes_input_is_parsed_like_a_file(tmp_path):
    data = v2(tmp_path / "f.txt").read_bytes()
    parsed = parse_settlement_file(data, name="report-5501")
    assert parsed.name == "report-5501"
    assert parsed.line_count == 6


def test_columns_by_name_unknown_columns_kept_promotion_id_optional(tmp_path):
    header = [c for c in reversed(fmt.V2_COLUMNS) if c != "promotion-id"] + ["buyer-note"]
    lines = [{**line, "buyer-note": "gift"} if i == 0 else line for i, line in enumerate(AU_LINES)]
    parsed = parse_settlement_file(v2(tmp_path / "f.txt", lines=lines, header=header))
    rows = parsed.lines.to_pylist()
    assert [r["amount"] for r in rows][:2] == [Decimal("19.67"), Decimal("1.79")]
    assert json.loads(rows[0]["extra"]) == {"buyer-note": "gift"}
    assert rows[1]["extra"] is None
    assert rows[0]["promotion_id"] is None


LEGACY_SUMMARY = {
    "settlement-id": "50034020328",
    "settlement-start-date": "2025-08-01T22:07:18+00:00",
    "settlement-end-date": "2025-08-15T22:07:18+00:00",
    "deposit-date": "2025-08-17T22:07:18+00:00",
    "total-amount": "20.05",
    "currency": "CAD",
}
LEGACY_ORDER = {
    "settlement-id": "50034020328",
    "transaction-type": "Order",
    "order-id": "702-1234567-1234567",
    "marketplace-name": "Amazon.ca",
    "fulfillment-id": "AFN",
    "posted-date": "2025-08-14T22:07:18+00:00",
    "sku": "LB-MUG-01",
    "quantity-purchased": "1",
}
LEGACY_ROWS = [
    {
        **LEGACY_ORDER,
        "price-type": "Principal",
        "price-amount": "30.00",
        "item-related-fee-type": "Commission",
        "item-related-fee-amount": "-4.50",
        "promotion-type": "Shipping",
        "promotion-amount": "-1.00",
    },
    {**LEGACY_ORDER, "other-fee-reason-description": "TaxAmount", "other-fee-amount": "0.55"},
    {"settlement-id": "50034020328", "transaction-type": "Storage Fee", "other-amount": "-5.00"},
]
# The same settlement as a V2 file: one row per amount.
V2_EQUIVALENT = [
    {"amount-type": "ItemPrice", "amount-description": "Principal", "amount": "30.00"},
    {"amount-type": "ItemFees", "amount-description": "Commission", "amount": "-4.50"},
    {"amount-type": "Promotion", "amount-description": "Shipping", "amount": "-1.00"},
    {"amount-type": "other-transaction", "amount-description": "TaxAmount", "amount": "0.55"},
    {"amount-type": "other-transaction", "amount-description": "Storage Fee", "amount": "-5.00"},
]


def test_legacy_layout_becomes_one_line_per_amount(tmp_path):
    parsed = parse_settlement_file(
        write_tsv(tmp_path / "ca.txt", fmt.LEGACY_COLUMNS, [LEGACY_SUMMARY, *LEGACY_ROWS])
    )
    rows = parsed.lines.to_pylist()
    assert parsed.layout == "legacy"
    assert [(r["line_number"], r["source_row"], r["amount_type"], r["amount_description"]) for r in rows] == [
        (1, 3, "ItemPrice", "Principal"),
        (2, 3, "ItemFees", "Commission"),
        (3, 3, "Promotion", "Shipping"),
        (4, 4, "other-transaction", "TaxAmount"),
        (5, 5, "other-transaction", "Storage Fee"),
    ]
    assert rows[0]["posted_at"] == datetime(2025, 8, 14, 22, 7, 18, tzinfo=UTC)
    assert parsed.line_sum == parsed.total_amount == Decimal("20.05")

    v2_rows = [{"settlement-id": "50034020328", "transaction-type": "Order", **r} for r in V2_EQUIVALENT]
    as_v2 = parse_settlement_file(
        write_tsv(tmp_path / "ca-v2.txt", fmt.V2_COLUMNS, [LEGACY_SUMMARY, *v2_rows])
    )
    assert line_multiset(as_v2) == line_multiset(parsed)


def test_generator_v2_and_legacy_files_of_one_settlement_agree(tmp_path):
    """The sandbox writes each marketplace's formats; both layouts must give the same amounts."""
    from sandbox.generator import generate_seller
    from sandbox.generator.files import legacy_amount_key, write_settlement_legacy, write_settlement_v2

    firsts = {}
    for settlement in generate_seller(seed=7, scale="tiny").settlements:
        firsts.setdefault(settlement["marketplace_code"], settlement)
    assert sorted(firsts) == ["AU", "CA", "DE", "UK", "US"]
    for code, settlement in firsts.items():
        write_settlement_v2(settlement, tmp_path / f"{code}.v2.txt")
        write_settlement_legacy(settlement, tmp_path / f"{code}.legacy.txt")
        a = parse_settlement_file(tmp_path / f"{code}.v2.txt")
        b = parse_settlement_file(tmp_path / f"{code}.legacy.txt")
        lines = settlement["lines"]
        assert (a.layout, b.layout) == ("v2", "legacy")
        assert a.settlement_id == b.settlement_id == settlement["settlement_id"]
        assert a.total_amount == b.total_amount == settlement["total_amount"], code
        assert line_multiset(a) == Counter(
            (x["amount_type"], x["amount_description"], x["amount"]) for x in lines
        )
        assert line_multiset(b) == Counter((*legacy_amount_key(x), x["amount"]) for x in lines)
        posted = sorted(x["posted_at"].replace(microsecond=0) for x in lines)  # files carry seconds
        assert sorted(a.lines.column("posted_at").to_pylist()) == posted, code
        assert sorted(b.lines.column("posted_at").to_pylist()) == posted, code
        assert (
            (a.period_start_at, a.period_end_at)
            == (b.period_start_at, b.period_end_at)
            == (
                settlement["start_at"].replace(microsecond=0),
                settlement["end_at"].replace(microsecond=0),
            )
        )


def _bad(name, mutate):
    return pytest.param(mutate, id=name)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\t-3.21")])  # cut inside the last row


BAD_FILES = [
    ("empty", lambda p: p.write_bytes(b""), 1, None, "empty file"),
    (
        "no header",
        lambda p: p.write_bytes(p.read_bytes().split(b"\n", 1)[1]),
        1,
        "settlement-id",
        "no settlement header",
    ),
    ("truncated", _truncate, 8, "amount", "truncated"),
    (
        "missing column",
        lambda p: v2(p, header=[c for c in fmt.V2_COLUMNS if c != "currency"]),
        1,
        "currency",
        "missing required column",
    ),
    (
        "non-numeric amount",
        lambda p: v2(p, lines=[*AU_LINES[:2], {**AU_LINES[2], "amount": "-2.95x"}, *AU_LINES[3:]]),
        5,
        "amount",
        "not an amount: '-2.95x'",
    ),
    (
        "too many decimals",
        lambda p: v2(p, lines=[{**AU_LINES[0], "amount": "3.175"}]),
        3,
        "amount",
        "not an amount",
    ),
    (
        "two currencies",
        lambda p: v2(p, lines=[*AU_LINES[:3], {**AU_LINES[3], "currency": "USD"}, *AU_LINES[4:]]),
        6,
        "currency",
        "two currencies in one settlement: AUD and USD",
    ),
    (
        "settlement id missing on a row",
        lambda p: v2(p, lines=[*AU_LINES[:4], {**AU_LINES[4], "settlement-id": ""}, AU_LINES[5]]),
        7,
        "settlement-id",
        "settlement id missing",
    ),
    (
        "two settlement ids",
        lambda p: v2(p, lines=[*AU_LINES[:5], {**AU_LINES[5], "settlement-id": "999"}]),
        8,
        "settlement-id",
        "second settlement id 999",
    ),
    (
        "no summary row",
        lambda p: v2(p, summary={"settlement-id": "12395580393"}),
        2,
        "total-amount",
        "no summary row",
    ),
    (
        "bad date",
        lambda p: v2(p, lines=[*AU_LINES[:1], {**AU_LINES[1], "posted-date": "31.02.2026"}]),
        4,
        "posted-date",
        "not a date",
    ),
    (
        "ambiguous two-digit date",
        lambda p: (
            v2(
                p,
                summary={**SUMMARY_AU, "settlement-start-date": "2026-07-01 00:00:00 UTC"},
                lines=[{**AU_LINES[0], "posted-date": "07/08/26", "posted-date-time": "", "amount": "3.17"}],
                header=fmt.V2_COLUMNS,
            )
            and _widen_period(p)
        ),
        3,
        "posted-date",
        "ambiguous two-digit date '07/08/26'",
    ),
    (
        "non-numeric quantity",
        lambda p: v2(p, lines=[{**AU_LINES[0], "quantity-purchased": "one", "amount": "3.17"}]),
        3,
        "quantity-purchased",
        "not a whole number",
    ),
]


def _widen_period(path: Path) -> None:
    """Make the settlement period span both readings of 07/08/26 (Jul 8 and Aug 7)."""
    path.write_bytes(path.read_bytes().replace(b"31.07.2026 07:06:35 UTC", b"2026-08-31 00:00:00 UTC"))


@pytest.mark.parametrize(
    ("case", "mutate", "row", "field", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_bad_files_are_rejected_naming_file_row_and_field(tmp_path, case, mutate, row, field, message):
    path = v2(tmp_path / "bad.txt")
    mutate(path)
    with pytest.raises(SettlementFileError) as caught:
        parse_settlement_file(path)
    error = caught.value
    assert (error.row, error.field) == (row, field), str(error)
    assert message in error.message
    assert str(error).startswith(f"{path}: row {row}, field {field or '-'}: ")


# --- loading ---------------------------------------------------------------------------------------


def test_load_is_exact_and_a_second_import_is_a_no_op(warehouse, tmp_path):
    cents = ["0.10", "0.20"] * 500  # float would drift: 0.1 + 0.2 != 0.3
    lines = [{**AU_LINES[0], "amount": a} for a in cents]
    path = v2(tmp_path / "cents.txt", {**SUMMARY_AU, "total-amount": "150.00"}, lines)

    first = load_settlements([(path.name, path)])
    assert [o.status for o in first.outcomes] == ["loaded"]
    loaded_at = warehouse_rows(warehouse, "SELECT loaded_at FROM raw_amazon.settlements")
    second = load_settlements([(path.name, path)])
    assert [o.status for o in second.outcomes] == ["unchanged"]

    assert warehouse_rows(warehouse, "SELECT loaded_at FROM raw_amazon.settlements") == loaded_at
    assert warehouse_rows(warehouse, "SELECT count(*), sum(amount) FROM raw_amazon.settlement_lines") == [
        (1000, Decimal("150.00"))
    ]
    types = dict(
        warehouse_rows(
            warehouse,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_amazon' AND table_name IN ('settlements', 'settlement_lines') "
            "AND column_name IN ('amount', 'total_amount', 'line_sum')",
        )
    )
    assert set(types.values()) == {"DECIMAL(18,2)"}
    assert warehouse_rows(
        warehouse,
        "SELECT settlement_id, line_count, line_sum, total_amount, layout, source, source_name, replaced_sha256 "
        "FROM raw_amazon.settlements",
    ) == [("12395580393", 1000, Decimal("150.00"), Decimal("150.00"), "v2", "file", "cents.txt", None)]


def test_variance_is_loaded_and_visible_never_fixed(warehouse, tmp_path):
    path = v2(tmp_path / "short.txt", {**SUMMARY_AU, "total-amount": "5.00"})  # lines sum to 3.17
    result = load_settlements([(path.name, path)])
    assert "VARIANCE" in result.loaded[0].describe()
    assert warehouse_rows(
        warehouse, "SELECT total_amount, line_sum, line_count FROM raw_amazon.settlements"
    ) == [(Decimal("5.00"), Decimal("3.17"), 6)]


def test_a_different_file_of_the_same_settlement_replaces_it_without_stale_lines(warehouse, tmp_path):
    old = v2(tmp_path / "old.txt")
    load_settlements([(old.name, old)])
    new = v2(tmp_path / "new.txt", {**SUMMARY_AU, "total-amount": "21.46"}, AU_LINES[:2])

    result = load_settlements([(new.name, new)])

    assert [o.status for o in result.outcomes] == ["replaced"]
    assert "replaced" in result.replaced[0].describe()
    assert warehouse_rows(
        warehouse, "SELECT line_number, amount FROM raw_amazon.settlement_lines ORDER BY 1"
    ) == [
        (1, Decimal("19.67")),
        (2, Decimal("1.79")),
    ]
    assert warehouse_rows(
        warehouse, "SELECT source_name, file_sha256, replaced_sha256 FROM raw_amazon.settlements"
    ) == [("new.txt", result.replaced[0].sha256, parse_settlement_file(old).sha256)]


CRASH_MID_LOAD = """
import os, sys
from pathlib import Path
from ingestion.amazon import settlements

def die(client, row):  # the lines are inserted, the settlements row is next: the process dies
    os._exit(3)

settlements._record_settlement = die
path = Path(sys.argv[1])
settlements.load_settlements([(path.name, path)])
"""


def test_a_crash_inside_the_load_leaves_the_previous_version_intact(warehouse, tmp_path):
    old = v2(tmp_path / "old.txt")
    load_settlements([(old.name, old)])
    new = v2(tmp_path / "new.txt", {**SUMMARY_AU, "total-amount": "19.67"}, AU_LINES[:1])

    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_MID_LOAD, str(new)], cwd=REPO, capture_output=True, text=True
    )

    assert crashed.returncode == 3, crashed.stderr
    assert warehouse_rows(warehouse, "SELECT count(*), sum(amount) FROM raw_amazon.settlement_lines") == [
        (6, Decimal("3.17"))
    ]
    assert warehouse_rows(warehouse, "SELECT source_name FROM raw_amazon.settlements") == [("old.txt",)]
    assert [o.status for o in load_settlements([(new.name, new)]).outcomes] == ["replaced"]
    assert warehouse_rows(warehouse, "SELECT count(*) FROM raw_amazon.settlement_lines") == [(1,)]


def test_an_error_inside_the_first_load_leaves_nothing_and_the_file_loads_next_time(
    warehouse, tmp_path, monkeypatch
):
    from ingestion.amazon import settlements

    path = v2(tmp_path / "au.txt")

    def fail(client, row):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(settlements, "_record_settlement", fail)
        with pytest.raises(OSError, match="disk full"):
            load_settlements([(path.name, path)])

    assert warehouse_rows(warehouse, "SELECT count(*) FROM raw_amazon.settlement_lines") == [(0,)]
    assert warehouse_rows(warehouse, "SELECT count(*) FROM raw_amazon.settlements") == [(0,)]
    assert [o.status for o in load_settlements([(path.name, path)]).outcomes] == ["loaded"]
    assert warehouse_rows(warehouse, "SELECT count(*) FROM raw_amazon.settlement_lines") == [(6,)]


def test_tables_dbt_created_first_are_loaded_by_column_name(warehouse, tmp_path):
    """dbt's create_raw_contract may create the tables first (with dlt's _dlt_* columns, no NOT NULL);
    an older table may lack a column the loader writes: it is added."""
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA raw_amazon")
    con.execute(
        "CREATE TABLE raw_amazon.settlement_lines (_dlt_load_id VARCHAR, settlement_id VARCHAR, "
        "line_number BIGINT, amount DECIMAL(18,2), _dlt_id VARCHAR)"
    )
    con.close()
    path = v2(tmp_path / "au.txt")

    assert [o.status for o in load_settlements([(path.name, path)]).outcomes] == ["loaded"]

    assert warehouse_rows(
        warehouse,
        "SELECT count(*), sum(amount), count(_dlt_load_id), count(posted_at), min(currency) "
        "FROM raw_amazon.settlement_lines",
    ) == [(6, Decimal("3.17"), 0, 6, "AUD")]
    assert warehouse_rows(warehouse, "SELECT line_count FROM raw_amazon.settlements") == [(6,)]


def test_api_documents_load_as_bytes(warehouse, tmp_path):
    data = v2(tmp_path / "au.txt").read_bytes()
    result = load_settlements([("amzn1.spdoc.1.4.na.5501", data)], source="api")
    assert [o.status for o in result.outcomes] == ["loaded"]
    assert warehouse_rows(warehouse, "SELECT source, source_name FROM raw_amazon.settlements") == [
        ("api", "amzn1.spdoc.1.4.na.5501")
    ]


def test_cli_loads_good_files_rejects_bad_ones_and_exits_1(warehouse, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "downloads"
    folder.mkdir()
    good = v2(folder / "good-au [1].txt")  # brackets: DuckDB must not read the name as a glob
    legacy = write_tsv(folder / "good-ca.txt", fmt.LEGACY_COLUMNS, [LEGACY_SUMMARY, *LEGACY_ROWS])
    bad = v2(tmp_path / "bad.txt", lines=[{**AU_LINES[0], "amount": "abc"}])
    missing = tmp_path / "missing.txt"
    monkeypatch.setenv("LEDGERBRIDGE_WAREHOUSE", str(warehouse))  # the CLI sets it; monkeypatch restores it

    assert (
        main(["--warehouse", str(warehouse), "import-settlements", str(folder), str(bad), str(missing)]) == 1
    )

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"loaded: {good} (settlement 12395580393, 6 lines, total 3.17 AUD)")
    assert out[1].startswith(f"loaded: {legacy} (settlement 50034020328, 5 lines, total 20.05 CAD)")
    assert out[2] == f"REJECTED: {bad}: row 3, field amount: " + (
        "not an amount: 'abc' (expected e.g. 1234.56, 1,234.56 or 1.234,56 with at most two decimals)"
    )
    assert out[3] == f"REJECTED: {missing}: row -, field -: cannot read the file: No such file or directory"
    assert out[4].startswith("4 file(s): 2 loaded, 0 replaced, 0 unchanged, 2 rejected")
    assert warehouse_rows(warehouse, "SELECT settlement_id FROM raw_amazon.settlements ORDER BY 1") == [
        ("12395580393",),
        ("50034020328",),
    ]
    assert warehouse_rows(
        warehouse,
        "SELECT file_name, row_number, field, settlement_id FROM raw_amazon.settlement_rejections ORDER BY 1",
    ) == [(str(bad), 3, "amount", "12395580393"), (str(missing), None, None, None)]

    assert main(["--warehouse", str(warehouse), "import-settlements", str(good)]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(f"unchanged: {good}")


def test_inbox_moves_processed_and_rejected_files_and_loses_nothing(warehouse, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    v2(inbox / "good.txt")
    v2(inbox / "bad.txt", lines=[{**AU_LINES[0], "currency": "EUR"}])
    messages: list[str] = []

    result = import_inbox(progress=messages.append)

    assert ([o.status for o in result.outcomes]) == ["rejected", "loaded"]  # sorted by name
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == []
    assert (inbox / "processed" / "good.txt").exists()
    assert (inbox / "rejected" / "bad.txt").exists()
    assert "two currencies" in (inbox / "rejected" / "bad.txt.error.txt").read_text()
    assert any(m.startswith("REJECTED:") for m in messages)

    v2(inbox / "again.txt")  # same bytes as good.txt
    assert [o.status for o in import_inbox(progress=messages.append).outcomes] == ["unchanged"]
    assert (inbox / "processed" / "again.txt").exists()


def test_two_files_of_one_settlement_in_one_import_the_later_wins(warehouse, tmp_path):
    first = v2(tmp_path / "first.txt")
    second = v2(tmp_path / "second.txt", {**SUMMARY_AU, "total-amount": "19.67"}, AU_LINES[:1])
    result = load_settlements([(first.name, first), (second.name, second)])
    assert [o.status for o in result.outcomes] == ["loaded", "replaced"]
    assert warehouse_rows(warehouse, "SELECT count(*), sum(amount) FROM raw_amazon.settlement_lines") == [
        (1, Decimal("19.67"))
    ]
    assert warehouse_rows(warehouse, "SELECT source_name, replaced_sha256 FROM raw_amazon.settlements") == [
        ("second.txt", result.loaded[0].sha256)
    ]


IMPORT_AND_LIST_MODULES = """
import sys
from pathlib import Path
from ingestion.amazon.settlements import load_settlements
files = [Path(p) for p in sys.argv[1:]]
result = load_settlements([(p.name, p) for p in files])
print(result.summary())
print("dlt imported" if "dlt" in sys.modules else "no dlt")
"""


def test_a_clean_import_starts_without_dlt_a_rejection_still_gets_recorded(warehouse, tmp_path):
    """The day's settlement import costs what its file costs: dlt (~0.5 s to import) only comes in
    to record a rejected file in raw_amazon.settlement_rejections."""
    good = v2(tmp_path / "good.txt")
    bad = v2(tmp_path / "bad.txt", lines=[{**AU_LINES[0], "amount": "abc"}])

    def run(*files: Path) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_AND_LIST_MODULES, *map(str, files)],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    assert run(good) == ["1 file(s): 1 loaded, 0 replaced, 0 unchanged, 0 rejected", "no dlt"]
    assert warehouse_rows(warehouse, "SELECT count(*), sum(amount) FROM raw_amazon.settlement_lines") == [
        (6, Decimal("3.17"))
    ]
    assert run(bad)[1] == "dlt imported"
    assert warehouse_rows(warehouse, "SELECT file_name, field FROM raw_amazon.settlement_rejections") == [
        ("bad.txt", "amount")
    ]


def test_rejections_a_crashed_run_left_unloaded_are_dropped_not_loaded(warehouse, tmp_path):
    """A run that died between extracting and loading its rejections leaves a dlt package behind;
    the next import drops it (the files are the source of truth) and records its own rejections."""
    import dlt

    from ingestion.amazon.settlements import REJECTION_COLUMNS, settlement_pipeline

    first = v2(tmp_path / "first.txt", lines=[{**AU_LINES[0], "amount": "abc"}])
    assert [o.status for o in load_settlements([(first.name, first)]).outcomes] == ["rejected"]
    stale = {"file_name": "stale.txt", "error": "from the crashed run", "rejected_at": datetime.now(UTC)}
    rejections = dlt.resource(
        [stale], name="settlement_rejections", write_disposition="append", columns=REJECTION_COLUMNS
    )
    settlement_pipeline().extract(rejections)  # ... and the process died before normalize and load
    assert settlement_pipeline().has_pending_data
    bad = v2(tmp_path / "bad.txt", lines=[{**AU_LINES[0], "amount": "abc"}, AU_LINES[1]])

    assert [o.status for o in load_settlements([(bad.name, bad)]).outcomes] == ["rejected"]

    assert warehouse_rows(warehouse, "SELECT file_name FROM raw_amazon.settlement_rejections ORDER BY 1") == [
        ("bad.txt",),
        ("first.txt",),
    ]
    assert not settlement_pipeline().has_pending_data
