"""NetSuite sandbox: SuiteTalk REST records, SuiteQL, TBA + OAuth 2.0 auth and concurrency governance.

It answers like NetSuite does where LedgerBridge depends on it (research notes §1-§3): 204 +
`Location` on create/upsert/transform, RFC 7807-style errors with `o:errorDetails`, SuiteQL
paging capped at 100,000 results, 401 `INVALID_LOGIN` for any authentication problem and 429
when more requests are in flight than the account's concurrency limit. Records written through
REST show up in the SuiteQL tables (see netsuite_store) so ingestion reads back what
reverse ETL pushed.

Rules about records live in netsuite_records, the tables in netsuite_store, auth in netsuite_auth.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from sandbox import credentials
from sandbox.http import Faults, Request, Response, SandboxApp, json_response
from sandbox.netsuite_auth import (
    TOKEN_ENDPOINT,
    AuthError,
    ClientCredentials,
    TokenBasedAuth,
    base_url,
    generate_oauth2_keypair,
)
from sandbox.netsuite_records import (
    RECORD_TYPES,
    TRANSACTIONS,
    TRANSFORMS,
    RecordError,
    canonical_type,
    inventory_effects,
    normalize,
    parse_body,
    project,
    table_of,
    transformed,
    validate,
)
from sandbox.netsuite_store import MAX_RESULTS, SuiteQLError, Tables

__all__ = ["NetSuiteSandbox", "generate_oauth2_keypair", "error_body"]

REST = "/services/rest"
RECORD = f"{REST}/record/v1"
TITLES = {
    400: ("Bad Request", "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1"),
    401: ("Unauthorized", "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2"),
    404: ("Not Found", "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5"),
    405: ("Method Not Allowed", "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.6"),
    429: ("Too Many Requests", "https://tools.ietf.org/html/rfc6585#section-4"),
    500: ("Internal Server Error", "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.1"),
    503: ("Service Unavailable", "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.4"),
}
INVALID_LOGIN = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
STATE_FILE = "netsuite-records.jsonl"
# SuiteQL table -> the REST record types whose records it holds
TYPES_OF_TABLE = {table_of(t): [u for u in RECORD_TYPES if table_of(u) == table_of(t)] for t in RECORD_TYPES}


def error_body(status: int, code: str, detail: str, path: str | None = None) -> dict[str, Any]:
    title, kind = TITLES.get(status, ("Error", "about:blank"))
    entry: dict[str, Any] = {"detail": detail, "o:errorCode": code}
    if path:
        entry["o:errorPath"] = path
    return {"type": kind, "title": title, "status": status, "o:errorDetails": [entry]}


def error_response(status: int, code: str, detail: str, path: str | None = None, **headers: str) -> Response:
    return json_response(error_body(status, code, detail, path), status, headers)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)


class NetSuiteSandbox(SandboxApp):
    name = "netsuite"

    def __init__(
        self,
        seller: Any = None,
        faults: Faults | None = None,
        account_id: str = credentials.NETSUITE_ACCOUNT_ID,
        concurrency_limit: int = 5,
        state_dir: str | Path | None = None,
    ) -> None:
        super().__init__(faults)
        self.account_id = account_id
        self.concurrency_limit = concurrency_limit
        self.tba = TokenBasedAuth(
            account_id,
            credentials.CONSUMER_KEY,
            credentials.CONSUMER_SECRET,
            credentials.TOKEN_ID,
            credentials.TOKEN_SECRET,
        )
        self.oauth2 = ClientCredentials(credentials.OAUTH2_CLIENT_ID)
        self.tables = Tables()
        self.store: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in RECORD_TYPES}
        self._eids: dict[str, dict[str, str]] = {t: {} for t in RECORD_TYPES}  # externalId -> id
        self._in_flight = 0
        self._flight_lock = threading.Lock()
        self._counters = {"writes": 0, "concurrency_rejections": 0, "auth_failures": 0, "server_errors": 0}
        seed = getattr(seller, "netsuite", seller) or {}
        for table, rows in seed.items():
            self.tables.bulk_insert(table, rows)
        self._state_file = Path(state_dir) / STATE_FILE if state_dir else None
        if self._state_file and self._state_file.exists():
            self._replay()
        self._next_ids = {t: self._max_id(t) + 1 for t in ("customer", "item", "transaction")}

        self.route("POST", rf"{REST}/auth/oauth2/v1/token", self._token)
        self.route("POST", rf"{REST}/query/v1/suiteql", self._authed(self._suiteql))
        self.route("GET", rf"{REST}/system/v1/governanceLimits", self._authed(self._governance))
        self.route("POST", rf"{RECORD}/(?P<type>\w+)", self._authed(self._create))
        self.route("PUT", rf"{RECORD}/(?P<type>\w+)/eid:(?P<eid>[^/]+)", self._authed(self._upsert))
        key = r"(?P<key>eid:[^/]+|\d+)"
        self.route("GET", rf"{RECORD}/(?P<type>\w+)/{key}", self._authed(self._get))
        self.route("PATCH", rf"{RECORD}/(?P<type>\w+)/{key}", self._authed(self._patch))
        self.route("DELETE", rf"{RECORD}/(?P<type>\w+)/{key}", self._authed(self._delete))
        self.route(
            "POST",
            rf"{RECORD}/(?P<type>\w+)/(?P<id>\d+)/!transform/(?P<to>\w+)",
            self._authed(self._transform),
        )
        self.route("GET", r"/_sandbox/records/(?P<type>\w+)", self._sandbox_records)
        self.route("GET", r"/_sandbox/tables", lambda r: json_response(self.tables.counts()))
        self.route("GET", r"/_sandbox/counters", lambda r: json_response(self.counters()))

    # -- public helpers for tests and the CLI --------------------------------------------------
    def close(self) -> None:
        """Release the DuckDB connection (also done automatically at interpreter exit)."""
        self.tables.close()

    def register_oauth2_certificate(self, certificate_id: str, public_key_pem: str) -> None:
        self.oauth2.register(certificate_id, public_key_pem)

    def bulk_insert(self, table: str, rows: list[dict[str, Any]]) -> int:
        """Append rows straight into a SuiteQL table (seed data, or >100k rows for paging tests)."""
        count = self.tables.bulk_insert(table, rows)
        with self.lock:
            self._next_ids = {t: max(self._next_ids[t], self._max_id(t) + 1) for t in self._next_ids}
        return count

    def write_requests(self) -> int:
        """POST/PUT/PATCH/DELETE requests that reached /record/v1 (any outcome)."""
        return self._counters["writes"]

    def counters(self) -> dict[str, int]:
        return dict(self._counters)

    def records(self) -> dict[str, Any]:
        with self.lock:
            return {
                t: {"count": len(recs), "items": [{"id": k, **v} for k, v in recs.items()]}
                for t, recs in self.store.items()
            }

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run SQL on the SuiteQL tables directly (typed values; for tests and debugging)."""
        return self.tables.fetch(sql)

    # -- error shapes ----------------------------------------------------------------------------
    def throttled_response(self, request: Request) -> Response:
        return self._concurrency_error()

    def server_error_response(self, request: Request) -> Response:
        with self._flight_lock:
            self._counters["server_errors"] += 1
            odd = self._counters["server_errors"] % 2
        if odd:
            return error_response(
                500, "UNEXPECTED_ERROR", "An unexpected error occurred. Error ID: sandbox-injected"
            )
        return error_response(
            503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Try again later."
        )

    def not_found(self, request: Request, status: int) -> Response:
        if status == 405:
            return error_response(
                405, "INVALID_METHOD", f"Method {request.method} is not allowed on {request.path}."
            )
        return error_response(404, "NONEXISTENT_PATH", f"The requested path {request.path} does not exist.")

    def _concurrency_error(self) -> Response:
        return error_response(
            429,
            "CONCURRENCY_LIMIT_EXCEEDED",
            "Concurrent request limit exceeded. Request blocked.",
            **{"Retry-After": "1"},
        )

    # -- governance ------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> tuple[Response, str | None]:
        if not request.path.startswith(f"{REST}/"):
            return super().dispatch(request)
        if request.method in {"POST", "PUT", "PATCH", "DELETE"} and request.path.startswith(f"{RECORD}/"):
            with self._flight_lock:
                self._counters["writes"] += 1
        with self._flight_lock:
            if self._in_flight >= self.concurrency_limit:
                self._counters["concurrency_rejections"] += 1
                return self._concurrency_error(), None
            self._in_flight += 1
        try:
            return super().dispatch(request)
        finally:
            with self._flight_lock:
                self._in_flight -= 1

    def _governance(self, request: Request) -> Response:
        return json_response(
            {
                "accountConcurrencyLimit": self.concurrency_limit,
                "accountUnallocatedConcurrencyLimit": self.concurrency_limit,
                "limitType": "accountLimit",
            }
        )

    # -- authentication --------------------------------------------------------------------------
    def _authed(self, handler: Any) -> Any:
        def wrapper(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            try:
                if header.startswith("OAuth "):
                    self.tba.verify(request, header)
                elif header.startswith("Bearer "):
                    self.oauth2.verify_bearer(header[7:].strip())
                else:
                    raise AuthError("no OAuth or Bearer Authorization header")
            except AuthError as exc:
                with self._flight_lock:
                    self._counters["auth_failures"] += 1
                # NetSuite never says why; the sandbox adds the reason in its own header for debugging.
                return error_response(
                    401, "INVALID_LOGIN", INVALID_LOGIN, **{"X-Sandbox-Auth-Error": str(exc)}
                )
            try:
                return handler(request)
            except RecordError as exc:
                return error_response(exc.status, exc.code, exc.detail, exc.path)

        return wrapper

    def _token(self, request: Request) -> Response:
        form = dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        try:
            return json_response(self.oauth2.issue(form, base_url(request) + TOKEN_ENDPOINT))
        except AuthError as exc:
            code, _, why = str(exc).partition(": ")
            status = 401 if code == "invalid_client" else 400
            return json_response({"error": code, "error_description": why}, status)

    # -- SuiteQL ---------------------------------------------------------------------------------
    def _suiteql(self, request: Request) -> Response:
        try:
            limit = int(request.arg("limit", "1000"))
            offset = int(request.arg("offset", "0"))
        except ValueError:
            return error_response(400, "INVALID_PARAMETER", "limit and offset must be integers.")
        if not 1 <= limit <= 1000:
            return error_response(400, "INVALID_PARAMETER", "The limit must be between 1 and 1000.", "limit")
        if offset < 0 or offset % limit:
            return error_response(
                400,
                "INVALID_PARAMETER",
                "Invalid offset value. The offset must be a multiple of the limit.",
                "offset",
            )
        if offset >= MAX_RESULTS:
            return error_response(
                400,
                "INVALID_PARAMETER",
                f"The offset exceeds the maximum of {MAX_RESULTS} results a SuiteQL query can return.",
                "offset",
            )
        try:
            query = parse_body(request.body).get("q")
            items, total = self.tables.suiteql(query, limit, offset)
        except (SuiteQLError, RecordError) as exc:
            return error_response(400, "INVALID_PARAMETER", str(exc), "q")
        has_more = offset + len(items) < total
        base = f"{base_url(request)}{REST}/query/v1/suiteql"

        def link(rel: str, at: int) -> dict[str, str]:
            return {"rel": rel, "href": f"{base}?limit={limit}&offset={at}"}

        last = max(0, (total - 1) // limit * limit)
        links = [link("first", 0)]
        if offset:
            links.append(link("previous", max(0, offset - limit)))
        if has_more:
            links.append(link("next", offset + limit))
        links += [link("last", last), link("self", offset)]
        return json_response(
            {
                "links": links,
                "count": len(items),
                "hasMore": has_more,
                "items": items,
                "offset": offset,
                "totalResults": total,
            }
        )

    # -- records: lookups --------------------------------------------------------------------------
    def _type(self, request: Request, key: str = "type") -> str:
        record_type = canonical_type(request.params[key])
        if record_type is None:
            raise RecordError(
                400,
                "INVALID_PARAMETER",
                f"Record type '{request.params[key]}' does not exist or is not supported.",
            )
        return record_type

    def _max_id(self, table: str) -> int:
        held = [int(i) for t, recs in self.store.items() if table_of(t) == table for i in recs]
        return max([self.tables.max_id(table), *held])

    def _find(self, record_type: str, key: str) -> str | None:
        """Internal id for `<id>` or `eid:<externalId>`, whether created here or seeded."""
        if key.startswith("eid:"):
            eid = unquote(key[4:])
            if eid in self._eids[record_type]:
                return self._eids[record_type][eid]
            found = self._seeded(table_of(record_type), "externalid", eid, record_type)
        else:
            if key in self.store[record_type]:
                return key
            found = self._seeded(table_of(record_type), "id", int(key), record_type)
        return found[0] if found else None

    def _owned(self, table: str, rid: str) -> bool:
        """Whether a record written through REST holds this id (then the store, not the table, says)."""
        return any(rid in self.store[t] for t in TYPES_OF_TABLE.get(table, ()))

    def _seeded(self, table: str, column: str, value: Any, record_type: str | None = None) -> list[str]:
        """Ids of the rows not written through REST (seeded) whose `column` is `value`."""
        code = TRANSACTIONS[record_type].code if record_type in TRANSACTIONS else None
        return [
            str(row["id"])
            for row in self.tables.lookup(table, column, value)
            if (code is None or row.get("type") == code) and not self._owned(table, str(row["id"]))
        ]

    def _load(self, record_type: str, rid: str) -> dict[str, Any]:
        """The REST view of a record: as stored, or rebuilt from the seeded SuiteQL rows."""
        if rid in self.store[record_type]:
            return self.store[record_type][rid]
        table = table_of(record_type)
        row = self.tables.fetch(f'SELECT * FROM "{table}" WHERE id = ?', [int(rid)])[0]

        def ref(value: Any) -> dict[str, str] | None:
            return None if value is None else {"id": str(value)}

        if record_type == "customer":
            rec = {
                "entityId": row.get("entityid"),
                "companyName": row.get("companyname"),
                "subsidiary": ref(row.get("subsidiary")),
                "currency": ref(row.get("currency")),
            }
        elif record_type == "inventoryItem":
            rec = {
                "itemId": row.get("itemid"),
                "displayName": row.get("displayname"),
                "isInactive": row.get("isinactive") == "T",
            }
        else:
            lines = self.tables.fetch(
                "SELECT * FROM transactionline WHERE transaction = ? ORDER BY linesequencenumber", [int(rid)]
            )
            sublist = TRANSACTIONS[record_type].sublist
            rec = {
                "tranId": row.get("tranid"),
                "entity": ref(row.get("entity")),
                "tranDate": row["trandate"].isoformat() if row.get("trandate") else None,
                "currency": ref(row.get("currency")),
                "memo": row.get("memo"),
                sublist: {
                    "items": [
                        {
                            "line": int(x["id"]),
                            "item": ref(x.get("item")),
                            "quantity": x.get("quantity"),
                            "location": ref(x.get("location")),
                            "amount": None if x.get("foreignamount") is None else str(x["foreignamount"]),
                        }
                        for x in lines
                    ]
                },
            }
        rec["externalId"] = row.get("externalid")
        rec["lastModifiedDate"] = str(row.get("lastmodifieddate"))
        return {k: v for k, v in rec.items() if v is not None}

    def _resolve(self, table: str, value: Any, path: str) -> str:
        if isinstance(value, dict):
            if value.get("id") not in (None, ""):
                key, column = value["id"], "id"
            elif value.get("externalId") not in (None, ""):
                key, column = value["externalId"], "externalid"
            else:
                raise RecordError(
                    400, "INVALID_KEY_OR_REF", f"Reference {path} needs an id or externalId.", path
                )
        else:
            key, column = value, "id"
        found: list[str] = []
        if column == "id":
            try:
                number = int(str(key))
            except ValueError:
                number = None
            if number and self._owned(table, str(number)):
                found = [str(number)]
            elif number:
                found = self._seeded(table, "id", number)
        else:
            held = TYPES_OF_TABLE.get(table, ())
            found = [self._eids[t][str(key)] for t in held if str(key) in self._eids[t]]
            found = found or self._seeded(table, "externalid", str(key))
        if not found:
            field = path.rsplit(".", 1)[-1]
            raise RecordError(400, "INVALID_KEY_OR_REF", f"Invalid {field} reference key {key}.", path)
        return found[0]

    def _location(self, request: Request, record_type: str, rid: str) -> str:
        return f"{base_url(request)}{RECORD}/{record_type}/{rid}"

    # -- records: writes ---------------------------------------------------------------------------
    def _build(self, record_type: str, body: dict[str, Any]) -> dict[str, Any]:
        record = normalize(record_type, body, self._resolve)
        if record_type in TRANSACTIONS:
            self._defaults(record)
        validate(record_type, record)
        return record

    def _defaults(self, record: dict[str, Any]) -> None:
        """Subsidiary and currency default from the customer (and currency from the subsidiary)."""
        entity = record.get("entity") or record.get("customer")
        if entity and (not record.get("subsidiary") or not record.get("currency")):
            customer = self.store["customer"].get(entity["id"])
            if customer is not None:
                row = {f: (customer.get(f) or {}).get("id") for f in ("subsidiary", "currency")}
            else:
                row = next(iter(self.tables.lookup("customer", "id", entity["id"])), {})
            for field in ("subsidiary", "currency"):
                if not record.get(field) and row.get(field) is not None:
                    record[field] = {"id": str(row[field])}
        if record.get("subsidiary") and not record.get("currency"):
            row = next(iter(self.tables.lookup("subsidiary", "id", record["subsidiary"]["id"])), {})
            if row.get("currency") is not None:
                record["currency"] = {"id": str(row["currency"])}

    def _new_id(self, record_type: str) -> str:
        table = table_of(record_type)
        rid = self._next_ids[table]
        self._next_ids[table] = rid + 1
        return str(rid)

    def _save(self, record_type: str, rid: str, record: dict[str, Any], persist: bool = True) -> None:
        """Store a record, re-project it into the SuiteQL tables and move inventory by the difference."""
        stamp = record.get("lastModifiedDate")
        now = dt.datetime.fromisoformat(stamp) if stamp else _now()
        record["lastModifiedDate"] = now.isoformat(sep=" ")
        old = self.store[record_type].get(rid)
        for item, location, delta in inventory_effects(record_type, old or {}):
            self.tables.adjust_inventory(item, location, -delta, now)
        self._forget_eid(record_type, rid, old)
        self.store[record_type][rid] = record
        if record.get("externalId"):
            self._eids[record_type][record["externalId"]] = rid
        for table, rows in project(record_type, rid, record, record["lastModifiedDate"]).items():
            where = {"transaction": rid} if table == "transactionline" else {"id": rid}
            self.tables.replace_rows(table, where, rows)
        for item, location, delta in inventory_effects(record_type, record):
            self.tables.adjust_inventory(item, location, delta, now)
        if persist:
            self._append({"type": record_type, "id": rid, "record": record})

    def _forget_eid(self, record_type: str, rid: str, record: dict[str, Any] | None) -> None:
        eid = (record or {}).get("externalId")
        if eid and self._eids[record_type].get(eid) == rid:
            del self._eids[record_type][eid]

    def _check_unique(self, record_type: str, record: dict[str, Any], rid: str | None) -> None:
        eid = record.get("externalId")
        if eid:
            found = self._find(record_type, f"eid:{eid}")
            if found and found != rid:
                raise RecordError(
                    400, "USER_ERROR", "Error while accessing a resource. This entity already exists."
                )

    def _create(self, request: Request) -> Response:
        record_type = self._type(request)
        body = parse_body(request.body)
        with self.lock:
            if record_type == "itemFulfillment" or (
                record_type in {"cashSale", "invoice"} and body.get("createdFrom")
            ):
                return self._create_from(request, record_type, body)
            record = self._build(record_type, body)
            self._check_unique(record_type, record, None)
            rid = self._new_id(record_type)
            record["createdDate"] = _now().isoformat(sep=" ")
            self._save(record_type, rid, record)
        return Response(204, headers={"Location": self._location(request, record_type, rid)})

    def _create_from(self, request: Request, record_type: str, body: dict[str, Any]) -> Response:
        """Fulfillments (and bills with createdFrom) are made from a sales order, as in NetSuite."""
        source = body.get("createdFrom")
        if not source:
            raise RecordError(
                400,
                "FIELD_PARAM_REQD",
                "Please enter a value for [createdFrom] (a sales order).",
                "createdFrom",
            )
        so_id = self._resolve("transaction", source, "createdFrom")
        request.params = {"type": "salesOrder", "id": so_id, "to": record_type}
        return self._transform(request, {k: v for k, v in body.items() if k != "createdFrom"})

    def _upsert(self, request: Request) -> Response:
        record_type = self._type(request)
        eid = unquote(request.params["eid"])
        body = parse_body(request.body)
        body["externalId"] = eid
        with self.lock:
            rid = self._find(record_type, f"eid:{eid}")
            if rid is None and (record_type == "itemFulfillment" or body.get("createdFrom")):
                return self._create_from(request, record_type, body)
            if rid is not None:
                # An upsert of an existing record updates it: fields sent replace (sublists as a
                # whole), fields not sent stay.
                body = {**self._load(record_type, rid), **body}
                body.pop("lastModifiedDate", None)
            record = self._build(record_type, body)
            if rid is None:
                rid = self._new_id(record_type)
                record["createdDate"] = _now().isoformat(sep=" ")
            self._save(record_type, rid, record)
        return Response(204, headers={"Location": self._location(request, record_type, rid)})

    def _get(self, request: Request) -> Response:
        record_type = self._type(request)
        with self.lock:
            rid = self._existing(record_type, request.params["key"])
            record = self._load(record_type, rid)
        href = self._location(request, record_type, rid)
        return json_response({"links": [{"rel": "self", "href": href}], "id": rid, **record})

    def _existing(self, record_type: str, key: str) -> str:
        rid = self._find(record_type, key)
        if rid is None:
            raise RecordError(
                404,
                "NONEXISTENT_ID",
                f"The record instance does not exist. Provide a valid record instance ID ({key}).",
                "id",
            )
        return rid

    def _patch(self, request: Request) -> Response:
        """Fields replace; sublist lines with `line` update that line, others are added; ?replace=<sublist>
        replaces the whole sublist (NetSuite's PATCH semantics)."""
        record_type = self._type(request)
        body = parse_body(request.body)
        replace = {s.strip() for s in (request.arg("replace") or "").split(",") if s.strip()}
        with self.lock:
            rid = self._existing(record_type, request.params["key"])
            merged = json.loads(json.dumps(self._load(record_type, rid)))
            merged.pop("lastModifiedDate", None)
            for key, value in body.items():
                if isinstance(value, dict) and isinstance(value.get("items"), list) and key not in replace:
                    lines = {
                        int(x["line"]): x for x in (merged.get(key) or {}).get("items", []) if "line" in x
                    }
                    for line in value["items"]:
                        if line.get("line") is not None and int(line["line"]) in lines:
                            lines[int(line["line"])].update(line)
                        else:
                            lines[max(lines, default=0) + 1] = line
                    merged[key] = {"items": list(lines.values())}
                else:
                    merged[key] = value
            record = self._build(record_type, merged)
            self._check_unique(record_type, record, rid)
            self._save(record_type, rid, record)
        return Response(204)

    def _delete(self, request: Request) -> Response:
        record_type = self._type(request)
        with self.lock:
            rid = self._existing(record_type, request.params["key"])
            self._remove(record_type, rid)
            self._append({"type": record_type, "id": rid, "deleted": True})
        return Response(204)

    def _remove(self, record_type: str, rid: str) -> None:
        now = _now()
        old = self.store[record_type].pop(rid, None)
        self._forget_eid(record_type, rid, old)
        for item, location, delta in inventory_effects(record_type, old or {}):
            self.tables.adjust_inventory(item, location, -delta, now)
        self.tables.delete(table_of(record_type), {"id": rid})
        if record_type in TRANSACTIONS:
            self.tables.delete("transactionline", {"transaction": rid})

    def _transform(self, request: Request, body: dict[str, Any] | None = None) -> Response:
        source_type, to_type = self._type(request), canonical_type(request.params["to"])
        if to_type not in TRANSFORMS.get(source_type, set()):
            raise RecordError(
                400,
                "INVALID_PARAMETER",
                f"Transforming {source_type} into {request.params['to']} is not supported.",
            )
        if body is None:
            body = parse_body(request.body)
        with self.lock:
            so_id = self._existing(source_type, request.params["id"])
            source = self._load(source_type, so_id)
            siblings = ("itemFulfillment",) if to_type == "itemFulfillment" else ("cashSale", "invoice")
            done: dict[int, int] = {}
            for sibling in siblings:
                for rec in self.store[sibling].values():
                    if (rec.get("createdFrom") or {}).get("id") != so_id:
                        continue
                    for line in rec["item"]["items"]:
                        if line.get("orderLine") is not None:
                            order_line = int(line["orderLine"])
                            done[order_line] = done.get(order_line, 0) + int(line.get("quantity") or 0)
            record = self._build(to_type, transformed(source, so_id, to_type, body, done))
            self._check_unique(to_type, record, None)
            rid = self._new_id(to_type)
            record["createdDate"] = _now().isoformat(sep=" ")
            self._save(to_type, rid, record)
        return Response(204, headers={"Location": self._location(request, to_type, rid)})

    # -- persistence -----------------------------------------------------------------------------
    def _append(self, entry: dict[str, Any]) -> None:
        if self._state_file is None:
            return
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        with self._state_file.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")

    def _replay(self) -> None:
        """Re-apply the write log over the seed: same records, same ids, same inventory."""
        with self._state_file.open(encoding="utf-8") as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    entry = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{self._state_file}: line {number} is not JSON ({exc})") from exc
                if entry.get("deleted"):
                    self._remove(entry["type"], entry["id"])
                else:
                    self._save(entry["type"], entry["id"], entry["record"], persist=False)

    # -- introspection ---------------------------------------------------------------------------
    def _sandbox_records(self, request: Request) -> Response:
        record_type = canonical_type(request.params["type"])
        if record_type is None:
            return json_response({"error": f"unknown record type {request.params['type']}"}, 404)
        with self.lock:
            recs = self.store[record_type]
            return json_response({"count": len(recs), "items": [{"id": k, **v} for k, v in recs.items()]})
