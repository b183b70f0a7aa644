"""The NetSuite sandbox, driven by the clients LedgerBridge really uses (requests, requests-oauthlib,
PyJWT): it must refuse what NetSuite refuses and answer in NetSuite's shapes, or the ingestion and
reverse-ETL code tested against it would pass here and fail against a real account."""

from __future__ import annotations

import os
import threading
import time
from decimal import Decimal

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests_oauthlib import OAuth1

from sandbox import credentials
from sandbox.generator import generate_seller
from sandbox.http import Faults, RunningServer
from sandbox.netsuite import NetSuiteSandbox, generate_oauth2_keypair

ACCOUNT = credentials.NETSUITE_ACCOUNT_ID
SUITEQL = "/services/rest/query/v1/suiteql"
RECORD = "/services/rest/record/v1"


def tba(**overrides: object) -> OAuth1:
    settings = {
        "client_key": credentials.CONSUMER_KEY,
        "client_secret": credentials.CONSUMER_SECRET,
        "resource_owner_key": credentials.TOKEN_ID,
        "resource_owner_secret": credentials.TOKEN_SECRET,
        "signature_method": "HMAC-SHA256",
        "realm": ACCOUNT,
        **overrides,
    }
    return OAuth1(**settings)


@pytest.fixture(scope="module")
def seller():
    return generate_seller(seed=7, scale="tiny")


@pytest.fixture
def app(seller):
    return NetSuiteSandbox(seller)


@pytest.fixture
def server(app):
    with RunningServer(app) as running:
        yield running


class Client:
    """requests + TBA against one running sandbox."""

    def __init__(self, server: RunningServer) -> None:
        self.base = server.url
        self.session = requests.Session()
        self.session.auth = tba()

    def suiteql(self, q: str, limit: int | None = None, offset: int | None = None) -> requests.Response:
        params = {k: v for k, v in {"limit": limit, "offset": offset}.items() if v is not None}
        return self.session.post(
            self.base + SUITEQL, params=params, json={"q": q}, headers={"Prefer": "transient"}, timeout=30
        )

    def rows(self, q: str) -> list[dict]:
        response = self.suiteql(q)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def send(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        return self.session.request(method, self.base + RECORD + path, json=body, timeout=30)


@pytest.fixture
def client(server):
    return Client(server)


def error_code(response: requests.Response) -> str:
    body = response.json()
    assert set(body) >= {"type", "title", "status", "o:errorDetails"}
    assert body["status"] == response.status_code
    return body["o:errorDetails"][0]["o:errorCode"]


def make_customer(client: Client, code: str = "US") -> str:
    response = client.send(
        "PUT",
        f"/customer/eid:amz-cust-{code}",
        {"companyName": f"Amazon {code}", "subsidiary": {"id": "1"}, "currency": {"id": "1"}},
    )
    assert response.status_code == 204, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def on_hand(client: Client, item: str, location_eid: str) -> int:
    rows = client.rows(
        "SELECT a.quantityonhand FROM aggregateitemlocation a JOIN location l ON l.id = a.location "
        f"WHERE a.item = {item} AND l.externalid = '{location_eid}'"
    )
    return int(rows[0]["quantityonhand"])


SALES_ORDER = {
    "entity": {"externalId": "amz-cust-US"},
    "tranDate": "2026-11-20",
    "memo": "Amazon order 111-0000001-0000001",
    "item": {
        "items": [
            {"item": {"id": "1001"}, "quantity": 3, "rate": 14.99, "location": {"externalId": "fba-US"}},
            {"item": {"id": "1002"}, "quantity": 1, "rate": "20.10", "location": {"externalId": "fba-US"}},
        ]
    },
}


# -- authentication ---------------------------------------------------------------------------------
def test_tba_request_signed_by_requests_oauthlib_is_accepted(client):
    response = client.suiteql("SELECT id, symbol FROM currency ORDER BY id", limit=5, offset=0)
    assert response.status_code == 200, response.text
    assert response.json()["items"][0] == {"id": "1", "symbol": "USD", "links": []}


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_secret": "wrong-consumer-secret"},
        {"resource_owner_secret": "wrong-token-secret"},
        {"realm": ACCOUNT.lower()},  # sandbox realms must be upper-case (1234567_SB1)
        {"signature_method": "HMAC-SHA1"},  # NetSuite dropped HMAC-SHA1 in 2023.1
        {"timestamp": str(int(time.time()) - 900)},  # outside the ±5 min window
    ],
    ids=["consumer-secret", "token-secret", "realm-case", "sha1", "old-timestamp"],
)
def test_bad_tba_credentials_get_401_invalid_login(server, overrides):
    response = requests.post(
        server.url + SUITEQL, json={"q": "SELECT id FROM currency"}, auth=tba(**overrides)
    )
    assert response.status_code == 401
    assert error_code(response) == "INVALID_LOGIN"
    assert "Invalid login attempt" in response.json()["o:errorDetails"][0]["detail"]


def test_query_string_changed_after_signing_is_refused(server):
    session = requests.Session()
    signed = session.prepare_request(
        requests.Request(
            "POST", server.url + SUITEQL + "?limit=5&offset=0", json={"q": "SELECT id FROM item"}, auth=tba()
        )
    )
    assert session.send(signed).status_code == 200
    tampered = session.prepare_request(
        requests.Request(
            "POST", server.url + SUITEQL + "?limit=5&offset=0", json={"q": "SELECT id FROM item"}, auth=tba()
        )
    )
    tampered.url = tampered.url.replace("limit=5", "limit=6")
    response = session.send(tampered)
    assert response.status_code == 401
    assert response.headers["X-Sandbox-Auth-Error"] == "signature mismatch"


def test_replayed_nonce_is_refused(server):
    session = requests.Session()
    signed = session.prepare_request(
        requests.Request("POST", server.url + SUITEQL, json={"q": "SELECT id FROM item"}, auth=tba())
    )
    assert session.send(signed).status_code == 200
    replay = session.send(signed)
    assert replay.status_code == 401
    assert replay.headers["X-Sandbox-Auth-Error"] == "nonce already used"


def test_request_without_credentials_is_refused(server):
    response = requests.get(server.url + RECORD + "/customer/1")
    assert response.status_code == 401
    assert error_code(response) == "INVALID_LOGIN"


def _assertion(key, server, **claims) -> str:
    now = int(time.time())
    payload = {
        "iss": credentials.OAUTH2_CLIENT_ID,
        "scope": ["restlets", "rest_webservices"],
        "aud": server.url + "/services/rest/auth/oauth2/v1/token",
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    algorithm = claims.pop("alg", None) or "PS256"
    payload.pop("alg", None)
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": credentials.OAUTH2_CERTIFICATE_ID})


def _token(server, assertion: str) -> requests.Response:
    return requests.post(
        server.url + "/services/rest/auth/oauth2/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )


def test_oauth2_client_credentials_with_jwt_assertion(app, server, tmp_path):
    key_path, public_pem = generate_oauth2_keypair(tmp_path)
    assert os.stat(key_path).st_mode & 0o777 == 0o600
    assert generate_oauth2_keypair(tmp_path) == (key_path, public_pem)  # reused across restarts
    app.register_oauth2_certificate(credentials.OAUTH2_CERTIFICATE_ID, public_pem)
    private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)

    response = _token(server, _assertion(private_key, server))
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["expires_in"] == 3600 and token["token_type"] == "bearer"
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    ok = requests.post(server.url + SUITEQL, json={"q": "SELECT id FROM subsidiary"}, headers=bearer)
    assert ok.status_code == 200 and ok.json()["count"] == 5

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _token(server, _assertion(stranger, server)).status_code == 401  # signature does not verify
    assert (
        _token(server, _assertion(private_key, server, alg="RS256")).status_code == 401
    )  # NetSuite refuses RS256
    too_long = _assertion(private_key, server, exp=int(time.time()) + 7200)
    assert _token(server, too_long).status_code == 400
    wrong_aud = _assertion(private_key, server, aud="https://elsewhere.example/token")
    assert _token(server, wrong_aud).status_code == 401
    forged = requests.post(
        server.url + SUITEQL,
        json={"q": "SELECT id FROM subsidiary"},
        headers={"Authorization": "Bearer nope"},
    )
    assert forged.status_code == 401


# -- records ----------------------------------------------------------------------------------------
def test_create_returns_204_with_location_and_record_reads_back(client):
    response = client.send(
        "POST",
        "/customer",
        {"companyName": "Amazon CA", "externalId": "amz-cust-CA", "subsidiary": {"id": "2"}},
    )
    assert response.status_code == 204 and response.content == b""
    location = response.headers["Location"]
    assert location.startswith(client.base + RECORD + "/customer/")
    by_id = client.session.get(location).json()
    by_eid = client.send("GET", "/customer/eid:amz-cust-CA").json()
    assert by_id["id"] == by_eid["id"] == location.rsplit("/", 1)[1]
    assert by_eid["companyName"] == "Amazon CA" and by_eid["subsidiary"] == {"id": "2"}
    assert by_eid["links"][0]["href"] == location
    rows = client.rows(
        "SELECT id, entityid, externalid, subsidiary FROM customer WHERE externalid = 'amz-cust-CA'"
    )
    assert rows == [
        {
            "id": by_id["id"],
            "entityid": "Amazon CA",
            "externalid": "amz-cust-CA",
            "subsidiary": "2",
            "links": [],
        }
    ]


def test_upsert_twice_keeps_one_record_and_updates_it(client, app):
    first = make_customer(client)
    second = client.send(
        "PUT", "/customer/eid:amz-cust-US", {"companyName": "Amazon.com US", "subsidiary": {"id": "1"}}
    )
    assert second.status_code == 204 and second.headers["Location"].endswith(f"/customer/{first}")
    rows = client.rows("SELECT id, companyname FROM customer WHERE externalid = 'amz-cust-US'")
    assert rows == [{"id": first, "companyname": "Amazon.com US", "links": []}]
    assert app.records()["customer"]["count"] == 1


def test_suiteql_sees_a_burst_of_writes_once_each_with_the_latest_values(client, app):
    # REST writes reach the SuiteQL tables in batches; a query must still see every one of them.
    for code in ("A", "B", "C"):
        make_customer(client, code)
    renamed = client.send("PUT", "/customer/eid:amz-cust-A", {"companyName": "Renamed A"})
    assert renamed.status_code == 204
    app.bulk_insert(
        "customer", [{"id": "900", "companyname": "Seeded", "externalid": "seeded", "subsidiary": "1"}]
    )
    seeded = client.send("PUT", "/customer/eid:seeded", {"companyName": "Seeded, updated"})
    assert seeded.headers["Location"].endswith("/customer/900")  # the seeded row, not a new record
    assert client.send("DELETE", "/customer/eid:amz-cust-B").status_code == 204
    rows = client.rows("SELECT externalid, companyname, subsidiary FROM customer ORDER BY externalid")
    assert [(r["externalid"], r["companyname"], r["subsidiary"]) for r in rows] == [
        ("amz-cust-A", "Renamed A", "1"),
        ("amz-cust-C", "Amazon C", "1"),
        ("seeded", "Seeded, updated", "1"),
    ]


def test_a_seeded_record_given_a_new_external_id_is_no_longer_found_by_the_old_one(client):
    assert client.send("PATCH", "/inventoryItem/1001", {"externalId": "item-mug-renamed"}).status_code == 204
    assert client.send("GET", "/inventoryItem/eid:item-LB-MUG-001").status_code == 404
    assert client.send("GET", "/inventoryItem/eid:item-mug-renamed").json()["id"] == "1001"
    make_customer(client)
    order = {**SALES_ORDER, "item": {"items": [{"item": {"externalId": "item-LB-MUG-001"}, "quantity": 1}]}}
    refused = client.send("PUT", "/salesOrder/eid:amz-so-old-item", order)
    assert refused.status_code == 400 and error_code(refused) == "INVALID_KEY_OR_REF"
    assert client.rows("SELECT id, externalid FROM item WHERE id = 1001") == [
        {"id": "1001", "externalid": "item-mug-renamed", "links": []}
    ]


def test_patch_updates_fields_and_addresses_lines(client):
    make_customer(client)
    created = client.send("PUT", "/salesOrder/eid:amz-so-1", SALES_ORDER)
    so = created.headers["Location"].rsplit("/", 1)[1]
    patch = {
        "memo": "edited",
        "item": {"items": [{"line": 2, "quantity": 4}, {"item": {"id": "1003"}, "quantity": 1, "rate": 5}]},
    }
    assert client.send("PATCH", f"/salesOrder/{so}", patch).status_code == 204
    record = client.send("GET", f"/salesOrder/{so}").json()
    assert record["memo"] == "edited"
    assert [(x["line"], x["item"]["id"], x["quantity"]) for x in record["item"]["items"]] == [
        (1, "1001", 3),
        (2, "1002", 4),
        (3, "1003", 1),
    ]
    total = client.rows(f"SELECT foreigntotal FROM transaction WHERE id = {so}")[0]["foreigntotal"]
    assert Decimal(total) == Decimal("14.99") * 3 + Decimal("20.10") * 4 + 5


def test_duplicate_external_id_on_post_is_refused(client):
    make_customer(client)
    response = client.send(
        "POST", "/customer", {"companyName": "Again", "externalId": "amz-cust-US", "subsidiary": {"id": "1"}}
    )
    assert response.status_code == 400
    assert error_code(response) == "USER_ERROR"
    assert "already exists" in response.json()["o:errorDetails"][0]["detail"]


def test_missing_fields_bad_references_and_unknown_ids(client):
    no_subsidiary = client.send("POST", "/journalEntry", {"line": {"items": []}})
    assert no_subsidiary.status_code == 400 and error_code(no_subsidiary) == "FIELD_PARAM_REQD"
    assert no_subsidiary.json()["o:errorDetails"][0]["o:errorPath"] == "subsidiary"
    no_lines = client.send("POST", "/journalEntry", {"subsidiary": {"id": "1"}})
    assert no_lines.status_code == 400 and error_code(no_lines) == "USER_ERROR"
    bad_ref = client.send(
        "POST",
        "/journalEntry",
        {
            "subsidiary": {"id": "1"},
            "line": {"items": [{"account": {"externalId": "no-such-account"}, "debit": 1}]},
        },
    )
    assert bad_ref.status_code == 400 and error_code(bad_ref) == "INVALID_KEY_OR_REF"
    assert bad_ref.json()["o:errorDetails"][0]["o:errorPath"] == "line.items[0].account"
    missing = client.send("GET", "/salesOrder/999999")
    assert missing.status_code == 404 and error_code(missing) == "NONEXISTENT_ID"
    assert client.send("GET", "/salesOrder/eid:nope").status_code == 404


def test_journal_entry_must_balance_to_the_cent(client):
    lines = [
        {"account": {"externalId": "amazon-clearing-US"}, "debit": 0.1},
        {"account": {"externalId": "amazon-clearing-US"}, "debit": 0.2},
        {"account": {"externalId": "amazon-sales"}, "credit": "0.30"},
    ]
    balanced = {"subsidiary": {"id": "1"}, "tranDate": "2026-11-15", "line": {"items": lines}}
    response = client.send("PUT", "/journalEntry/eid:amz-je-1", balanced)
    assert response.status_code == 204, response.text  # 0.1 + 0.2 == 0.30 exactly, no float drift
    je = response.headers["Location"].rsplit("/", 1)[1]
    stored = client.rows(f"SELECT type, foreigntotal, currency FROM transaction WHERE id = {je}")
    assert stored == [{"type": "Journal", "foreigntotal": "0.30", "currency": "1", "links": []}]
    amounts = client.rows(f"SELECT foreignamount FROM transactionline WHERE transaction = {je} ORDER BY id")
    assert [r["foreignamount"] for r in amounts] == ["0.10", "0.20", "-0.30"]

    lines[2]["credit"] = "0.29"
    unbalanced = client.send("PUT", "/journalEntry/eid:amz-je-2", balanced)
    assert unbalanced.status_code == 400 and error_code(unbalanced) == "USER_ERROR"
    assert client.rows("SELECT id FROM transaction WHERE externalid = 'amz-je-2'") == []


def test_transform_sales_order_to_fulfillment_and_cash_sale(client):
    make_customer(client)
    before = on_hand(client, "1001", "fba-US"), on_hand(client, "1002", "fba-US")
    so = client.send("PUT", "/salesOrder/eid:amz-so-2", SALES_ORDER).headers["Location"].rsplit("/", 1)[1]
    shipped = client.send("POST", f"/salesOrder/{so}/!transform/itemFulfillment", {"externalId": "amz-if-2"})
    assert shipped.status_code == 204, shipped.text
    assert "/itemFulfillment/" in shipped.headers["Location"]
    assert (on_hand(client, "1001", "fba-US"), on_hand(client, "1002", "fba-US")) == (
        before[0] - 3,
        before[1] - 1,
    )
    fulfillment = client.send("GET", "/itemFulfillment/eid:amz-if-2").json()
    assert fulfillment["createdFrom"] == {"id": so}
    again = client.send("POST", f"/salesOrder/{so}/!transform/itemFulfillment", {})
    assert again.status_code == 400 and error_code(again) == "USER_ERROR"  # nothing left to fulfil

    billed = client.send("POST", f"/salesOrder/{so}/!transform/cashSale", {"externalId": "amz-cs-2"})
    assert billed.status_code == 204
    rows = client.rows(
        "SELECT type, foreigntotal FROM transaction WHERE externalid LIKE 'amz-%-2' ORDER BY id"
    )
    assert [(r["type"], r.get("foreigntotal")) for r in rows] == [
        ("SalesOrd", "65.07"),
        ("ItemShip", None),  # null columns are left out, as NetSuite does
        ("CashSale", "65.07"),
    ]


def test_inventory_adjustment_moves_stock_and_caps_lines(client):
    before = on_hand(client, "1001", "wh-main")
    body = {
        "subsidiary": {"id": "1"},
        "account": {"externalId": "amazon-other"},
        "adjLocation": {"externalId": "wh-main"},
        "inventory": {"items": [{"item": {"id": "1001"}, "adjustQtyBy": -2}]},
    }
    assert client.send("PUT", "/inventoryAdjustment/eid:amz-ia-US-2026-11-22", body).status_code == 204
    assert on_hand(client, "1001", "wh-main") == before - 2
    body["inventory"]["items"][0]["adjustQtyBy"] = 5  # replacing the adjustment replaces its effect
    assert client.send("PUT", "/inventoryAdjustment/eid:amz-ia-US-2026-11-22", body).status_code == 204
    assert on_hand(client, "1001", "wh-main") == before + 5
    assert client.send("DELETE", "/inventoryAdjustment/eid:amz-ia-US-2026-11-22").status_code == 204
    assert on_hand(client, "1001", "wh-main") == before  # deleting reverses the adjustment
    assert client.send("GET", "/inventoryAdjustment/eid:amz-ia-US-2026-11-22").status_code == 404
    body["inventory"]["items"] = [{"item": {"id": "1001"}, "adjustQtyBy": 1}] * 10_001
    too_many = client.send("POST", "/inventoryAdjustment", body)
    assert (
        too_many.status_code == 400
        and "at most 10000 lines" in too_many.json()["o:errorDetails"][0]["detail"]
    )


def test_second_identical_push_is_visible_in_write_counter_and_request_log(client, app, server):
    make_customer(client)
    assert app.write_requests() == 1
    log = requests.get(server.url + "/_sandbox/requests").json()["requests"]
    assert [(r["method"], r["status"]) for r in log] == [("PUT", 204)]
    client.rows("SELECT id FROM customer")
    assert app.write_requests() == 1  # SuiteQL reads are not writes
    records = requests.get(server.url + "/_sandbox/records").json()
    assert (
        records["customer"]["count"] == 1 and records["customer"]["items"][0]["externalId"] == "amz-cust-US"
    )
    assert requests.get(server.url + "/_sandbox/records/customer").json()["count"] == 1


def test_records_survive_a_restart_with_state_dir(seller, tmp_path):
    first = NetSuiteSandbox(seller, state_dir=tmp_path)
    with RunningServer(first) as running:
        client = Client(running)
        make_customer(client)
        so = client.send("PUT", "/salesOrder/eid:amz-so-3", SALES_ORDER).headers["Location"].rsplit("/", 1)[1]
        client.send("POST", f"/salesOrder/{so}/!transform/itemFulfillment", {"externalId": "amz-if-3"})
        stock = on_hand(client, "1001", "fba-US")
    second = NetSuiteSandbox(seller, state_dir=tmp_path)
    with RunningServer(second) as running:
        client = Client(running)
        assert client.send("GET", "/salesOrder/eid:amz-so-3").json()["id"] == so
        assert on_hand(client, "1001", "fba-US") == stock
        new = client.send("POST", "/customer", {"companyName": "Amazon UK", "subsidiary": {"id": "3"}})
        assert int(new.headers["Location"].rsplit("/", 1)[1]) > 1  # ids continue, never reused


# -- SuiteQL ----------------------------------------------------------------------------------------
def test_suiteql_pages_with_links_and_rejects_bad_paging(client, app):
    app.bulk_insert(
        "customer", [{"id": str(100 + i), "entityid": f"C{i}", "subsidiary": "1"} for i in range(2500)]
    )
    query = "SELECT id FROM customer ORDER BY id"
    pages = [client.suiteql(query, limit=1000, offset=at).json() for at in (0, 1000, 2000)]
    assert [(p["count"], p["hasMore"], p["offset"], p["totalResults"]) for p in pages] == [
        (1000, True, 0, 2500),
        (1000, True, 1000, 2500),
        (500, False, 2000, 2500),
    ]
    rels = {link["rel"]: link["href"] for link in pages[1]["links"]}
    assert rels["next"].endswith("?limit=1000&offset=2000") and rels["last"].endswith("offset=2000")
    assert "next" not in {link["rel"] for link in pages[2]["links"]}
    ids = [int(row["id"]) for page in pages for row in page["items"]]
    assert ids == list(range(100, 2600))
    assert client.suiteql(query).json()["count"] == 1000  # default limit
    for limit, offset in ((1000, 500), (1001, 0), (0, 0)):
        bad = client.suiteql(query, limit=limit, offset=offset)
        assert bad.status_code == 400 and error_code(bad) == "INVALID_PARAMETER"


def test_suiteql_returns_at_most_100k_results_and_keyset_paging_gets_the_rest(client, app):
    rows = [
        {"id": str(10_000 + i), "type": "CashSale", "trandate": "2026-11-01", "foreigntotal": "1.00"}
        for i in range(100_500)
    ]
    app.bulk_insert("transaction", rows)
    query = "SELECT id FROM transaction WHERE type = 'CashSale' ORDER BY id"
    last_page = client.suiteql(query, limit=1000, offset=99_000).json()
    assert (last_page["count"], last_page["hasMore"], last_page["totalResults"]) == (1000, False, 100_000)
    assert last_page["items"][-1]["id"] == str(10_000 + 99_999)
    beyond = client.suiteql(query, limit=1000, offset=100_000)
    assert beyond.status_code == 400
    rest = client.suiteql(
        f"SELECT id FROM transaction WHERE type = 'CashSale' AND id > {10_000 + 99_999} ORDER BY id"
    ).json()
    assert rest["totalResults"] == 500 and rest["items"][0]["id"] == str(110_000)


def test_suiteql_dialect_and_invalid_queries(client):
    make_customer(client)
    rows = client.rows(
        "SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD') AS day FROM customer "
        "WHERE lastmodifieddate >= TO_TIMESTAMP('2026-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') AND ROWNUM <= 1"
    )
    assert len(rows) == 1 and rows[0]["day"] == time.strftime("%Y-%m-%d", time.gmtime())
    for bad in ("SELEC id FROM customer", "SELECT nosuchcolumn FROM customer", "DELETE FROM customer", ""):
        response = client.suiteql(bad)
        assert response.status_code == 400 and error_code(response) == "INVALID_PARAMETER"
        assert "Invalid search query" in response.json()["o:errorDetails"][0]["detail"]


# -- governance and faults --------------------------------------------------------------------------
def test_more_requests_in_flight_than_the_limit_get_429(seller):
    app = NetSuiteSandbox(seller, faults=Faults(latency_ms=400), concurrency_limit=2)
    with RunningServer(app) as running:
        statuses: list[requests.Response] = []

        def call() -> None:
            statuses.append(Client(running).suiteql("SELECT id FROM currency"))

        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(r.status_code for r in statuses)
        assert codes.count(200) == 2 and codes.count(429) == 4
        rejected = next(r for r in statuses if r.status_code == 429)
        assert error_code(rejected) == "CONCURRENCY_LIMIT_EXCEEDED" and rejected.headers["Retry-After"] == "1"
        assert Client(running).suiteql("SELECT id FROM currency").status_code == 200  # slots freed


@pytest.mark.parametrize("fault", ["rate_429", "rate_5xx", "rate_reset", "rate_truncate"])
def test_injected_faults_are_seen_by_requests(client, server, fault):
    requests.post(server.url + "/_sandbox/faults", json={fault: 1.0})
    if fault in {"rate_reset", "rate_truncate"}:
        with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            client.suiteql("SELECT id FROM currency").json()
    else:
        response = client.suiteql("SELECT id FROM currency")
        expected = {"rate_429": {429}, "rate_5xx": {500, 503}}[fault]
        assert response.status_code in expected and response.json()["o:errorDetails"]
        if fault == "rate_429":
            assert response.headers["Retry-After"] == "1"
    requests.post(server.url + "/_sandbox/faults", json={fault: 0.0})
    assert client.suiteql("SELECT id FROM currency").status_code == 200
