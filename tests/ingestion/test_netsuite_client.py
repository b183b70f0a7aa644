"""The NetSuite client: auth against the sandbox, retries that converge, a concurrency cap that holds.

Retry mechanics are pinned with a tiny scripted http.server (exact responses, exact timing); the
end-to-end behaviour runs against the NetSuite sandbox over real HTTP.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingestion.netsuite.client import NetSuiteClient, NetSuiteError, OAuth2Auth, TBAAuth
from sandbox import credentials as demo


def _tba() -> TBAAuth:
    return TBAAuth(
        demo.NETSUITE_ACCOUNT_ID, demo.CONSUMER_KEY, demo.CONSUMER_SECRET, demo.TOKEN_ID, demo.TOKEN_SECRET
    )


# -- scripted server ------------------------------------------------------------------------------


class Scripted:
    """Serves the queued (status, headers, body, truncate) answers in order; then 200 {"ok": true}."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], bytes, bool]] = []
        self.seen: list[tuple[str, float, str | None]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_anything(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with outer.lock:
                    outer.seen.append((self.command, time.monotonic(), self.headers.get("Authorization")))
                    step = outer.script.pop(0) if outer.script else (200, {}, b'{"ok": true}', False)
                status, headers, body, truncate = step
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if truncate:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_anything

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    server = Scripted()
    yield server
    server.stop()


def _client(url: str, **kw) -> NetSuiteClient:
    settings = {"backoff_base": 0.01, "backoff_cap": 0.05, "timeout": 5}
    settings.update(kw)
    return NetSuiteClient(url, demo.NETSUITE_ACCOUNT_ID, _tba(), **settings)


def test_retry_after_is_honoured(scripted):
    scripted.script.append((429, {"Retry-After": "1"}, b'{"title": "Too Many Requests"}', False))
    with _client(scripted.url) as client:
        assert client.request("GET", "/record/v1/customer/1").json() == {"ok": True}
    (_, first, _), (_, second, _) = scripted.seen
    assert second - first >= 0.95, "the retry came before Retry-After allowed"


def test_truncated_body_and_5xx_are_retried(scripted):
    body = json.dumps({"items": [{"id": str(i)} for i in range(50)], "hasMore": False}).encode()
    scripted.script += [(200, {}, body, True), (503, {}, b"{}", False), (200, {}, body, False)]
    with _client(scripted.url) as client:
        page = client.suiteql("SELECT id FROM item")
    assert len(page["items"]) == 50
    assert len(scripted.seen) == 3


def test_permanent_4xx_raises_named_error_without_retrying(scripted):
    error = {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
        "title": "Bad Request",
        "status": 400,
        "o:errorDetails": [
            {"detail": "Please enter a value for [entity]", "o:errorCode": "FIELD_PARAM_REQD"}
        ],
    }
    scripted.script.append((400, {}, json.dumps(error).encode(), False))
    with _client(scripted.url) as client, pytest.raises(NetSuiteError) as info:
        client.upsert("salesOrder", "amz-so-1", {"memo": "x"})
    assert info.value.status == 400 and info.value.code == "FIELD_PARAM_REQD"
    assert "entity" in str(info.value) and "eid:amz-so-1" in str(info.value)
    assert len(scripted.seen) == 1


def test_retries_are_bounded(scripted):
    scripted.script += [(503, {}, b'{"title": "Service Unavailable"}', False)] * 10
    with _client(scripted.url, max_retries=3) as client, pytest.raises(NetSuiteError) as info:
        client.request("GET", "/record/v1/customer/1")
    assert info.value.status == 503
    assert len(scripted.seen) == 4


def test_tba_header_is_hmac_sha256_with_realm_and_repr_hides_secrets(scripted):
    with _client(scripted.url) as client:
        client.request("GET", "/record/v1/customer/1")
        text = repr(client)
    header = scripted.seen[0][2]
    assert header.startswith("OAuth ") and 'realm="1234567_SB1"' in header
    assert 'oauth_signature_method="HMAC-SHA256"' in header
    for secret in (demo.CONSUMER_SECRET, demo.TOKEN_SECRET):
        assert secret not in text and secret not in header


# -- against the NetSuite sandbox -----------------------------------------------------------------


@pytest.fixture(scope="module")
def seller():
    from sandbox.generator import generate_seller

    return generate_seller(3, "tiny")


@pytest.fixture(scope="module")
def keypair(tmp_path_factory):
    from sandbox.netsuite import generate_oauth2_keypair

    return generate_oauth2_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def sandbox(seller, keypair):
    from sandbox.http import RunningServer
    from sandbox.netsuite import NetSuiteSandbox

    app = NetSuiteSandbox(seller=seller, concurrency_limit=3)
    key_file, public_pem = keypair
    app.register_oauth2_certificate(demo.OAUTH2_CERTIFICATE_ID, public_pem)
    server = RunningServer(app).start()
    server.key_file = key_file
    yield server
    server.stop()


def _env(sandbox, **extra) -> dict[str, str]:
    return {"NETSUITE_URL": sandbox.url, "NETSUITE_CONCURRENCY": "3", **extra}


def _writes(app) -> list[dict]:
    return [r for r in app.requests if r["method"] in {"POST", "PUT", "PATCH"} and "/record/" in r["path"]]


def test_tba_and_oauth2_both_authenticate(sandbox, seller):
    expected = sorted(row["itemid"] for row in seller.netsuite["item"])
    tba = NetSuiteClient.from_env(_env(sandbox))
    oauth2 = NetSuiteClient.from_env(
        _env(sandbox, NETSUITE_AUTH="oauth2", NETSUITE_PRIVATE_KEY_FILE=str(sandbox.key_file))
    )
    assert isinstance(oauth2.auth, OAuth2Auth)
    for client in (tba, oauth2):
        page = client.suiteql("SELECT id, itemid FROM item ORDER BY id")
        assert sorted(row["itemid"] for row in page["items"]) == expected
    for _ in range(3):  # the bearer token is cached, not fetched per request
        oauth2.get("inventoryItem", "eid:" + seller.netsuite["item"][0]["externalid"])
    token_posts = [r for r in sandbox.app.requests if r["path"].endswith("/auth/oauth2/v1/token")]
    assert len(token_posts) == 1
    assert sandbox.app.counters()["auth_failures"] == 0
    private = sandbox.key_file.read_text()
    assert private not in repr(oauth2) and "BEGIN" not in repr(oauth2)


def test_wrong_secret_is_a_named_login_error(sandbox):
    client = NetSuiteClient.from_env(_env(sandbox, NETSUITE_TOKEN_SECRET="wrong"))
    with pytest.raises(NetSuiteError) as info:
        client.suiteql("SELECT id FROM item")
    assert info.value.status == 401 and info.value.code == "INVALID_LOGIN"


def test_upserts_converge_under_injected_faults(sandbox):
    sandbox.app.faults.configure(rate_429=0.2, rate_5xx=0.1, rate_reset=0.05, seed=3)
    client = NetSuiteClient.from_env(_env(sandbox), backoff_base=0.02, backoff_cap=0.2, max_retries=10)
    body = {"companyName": "Amazon {}", "subsidiary": {"id": "1"}}

    def upsert(n: int) -> str:
        return client.upsert("customer", f"amz-cust-T{n}", {**body, "companyName": f"Amazon {n}"})

    with ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(upsert, range(24)))
    faults = [r for r in sandbox.app.requests if r["fault"]]
    assert {r["fault"] for r in faults} >= {"429", "5xx", "reset"}, "the faults were not exercised"
    customers = sandbox.app.records()["customer"]["items"]
    assert sorted(c["externalId"] for c in customers) == sorted(f"amz-cust-T{n}" for n in range(24))
    assert len(set(ids)) == 24
    assert client.stats.retries >= len(faults)


def test_retry_after_from_the_sandbox_is_honoured(sandbox):
    sandbox.app.faults.configure(rate_429=1.0)
    client = NetSuiteClient.from_env(_env(sandbox), backoff_base=0.0, max_retries=1)
    threading.Timer(0.3, lambda: sandbox.app.faults.configure(rate_429=0.0)).start()
    started = time.monotonic()
    client.suiteql("SELECT id FROM item")
    assert time.monotonic() - started >= 0.95  # the sandbox says Retry-After: 1


def test_concurrency_never_exceeds_the_cap(sandbox, seller):
    sandbox.app.faults.configure(latency_ms=30)
    client = NetSuiteClient.from_env(_env(sandbox))
    eid = "eid:" + seller.netsuite["item"][0]["externalid"]
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda _: client.get("inventoryItem", eid), range(36)))
    assert client.stats.max_in_flight == 3
    assert sandbox.app.counters()["concurrency_rejections"] == 0


def test_permanent_4xx_surfaces_the_netsuite_code(sandbox):
    client = NetSuiteClient.from_env(_env(sandbox))
    unbalanced = {
        "subsidiary": {"id": "1"},
        "tranDate": "2026-07-31",
        "line": {
            "items": [
                {"account": {"externalId": "amazon-clearing-US"}, "debit": "10.00"},
                {"account": {"externalId": "amazon-fees"}, "credit": "9.99"},
            ]
        },
    }
    with pytest.raises(NetSuiteError) as info:
        client.upsert("journalEntry", "amz-je-bad", unbalanced)
    assert info.value.status == 400 and info.value.code == "USER_ERROR"
    assert "out of balance" in info.value.detail
    assert len(_writes(sandbox.app)) == 1  # not retried


def test_a_transform_whose_response_was_lost_is_not_repeated(sandbox, seller):
    """The connection drops after NetSuite committed the fulfillment: the retry finds it by externalId."""
    import requests as http

    client = NetSuiteClient.from_env(_env(sandbox), backoff_base=0.01)
    client.upsert("customer", "amz-cust-US", {"companyName": "Amazon US", "subsidiary": {"id": "1"}})
    order = client.upsert(
        "salesOrder",
        "amz-so-1",
        {
            "entity": {"externalId": "amz-cust-US"},
            "location": {"externalId": "wh-main"},
            "item": {
                "items": [{"item": {"externalId": seller.netsuite["item"][0]["externalid"]}, "quantity": 1}]
            },
        },
    )
    real = client._session.request
    dropped = []

    def drop_first_transform(method, url, **kw):
        response = real(method, url, **kw)
        if "!transform" in url and not dropped:
            dropped.append(url)
            raise http.exceptions.ConnectionError("connection reset after the server answered")
        return response

    client._session.request = drop_first_transform
    created = client.transform("salesOrder", order, "itemFulfillment", {"externalId": "amz-if-1"})
    fulfillments = sandbox.app.records()["itemFulfillment"]["items"]
    assert dropped and len(fulfillments) == 1
    assert created == client.find_by_external_id("itemFulfillment", "amz-if-1")


def test_nothing_listening_fails_fast_with_a_clear_message():
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = NetSuiteClient.from_env({"NETSUITE_URL": f"http://127.0.0.1:{port}"}, backoff_base=0.01)
    started = time.monotonic()
    with pytest.raises(NetSuiteError) as info:
        client.suiteql("SELECT id FROM item")
    assert info.value.code == "UNREACHABLE" and "NETSUITE_URL" in str(info.value)
    assert time.monotonic() - started < 5
