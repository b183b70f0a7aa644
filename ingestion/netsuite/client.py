"""THE NetSuite HTTP client: auth (TBA or OAuth 2.0 M2M), retries, concurrency cap.

Ingestion uses it for SuiteQL, reverse ETL for record upserts and transforms, so both obey the
same account-wide concurrency limit and the same retry policy (Oracle: back off exponentially,
with jitter, so threads do not retry in lock-step). Secrets stay inside the auth objects, whose
repr never shows them.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

REST_PREFIX = "/services/rest"
TOKEN_PATH = "/auth/oauth2/v1/token"
DEFAULT_URL = "http://127.0.0.1:8766"
DEFAULT_PRIVATE_KEY_FILE = "data/sandbox/netsuite-oauth2-private-key.pem"  # sandbox serve writes it

CONNECT_TRIES = 3  # connections refused this often in one call: nothing is listening

# Errors worth retrying: the request may not have reached NetSuite, or NetSuite said "later".
_TRANSIENT_EXCEPTIONS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.exceptions.Timeout,
)


class NetSuiteError(Exception):
    """A request NetSuite refused for good (or that never succeeded within the retry budget)."""

    def __init__(self, status: int, code: str, detail: str, path: str) -> None:
        self.status, self.code, self.detail, self.path = status, code, detail, path
        super().__init__(f"NetSuite {status} {code} on {path}: {detail}")

    @classmethod
    def from_response(cls, response: requests.Response, path: str) -> NetSuiteError:
        code, detail = "HTTP_ERROR", response.reason or ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            details = body.get("o:errorDetails") or []
            if details:
                code = details[0].get("o:errorCode") or code
                detail = "; ".join(d.get("detail", "") for d in details if d.get("detail")) or detail
            else:
                code = body.get("error") or body.get("title") or code
                detail = body.get("error_description") or body.get("detail") or body.get("title") or detail
        elif response.text:
            detail = response.text[:200]
        return cls(response.status_code, str(code), str(detail), path)


class _TransientError(Exception):
    """Internal: a response or failure that should be retried."""

    def __init__(
        self, reason: str, retry_after: float | None = None, response: requests.Response | None = None
    ):
        super().__init__(reason)
        self.retry_after = retry_after
        self.response = response


# -- authentication -----------------------------------------------------------------------------


class TBAAuth(requests.auth.AuthBase):
    """Token-based auth: OAuth 1.0a HMAC-SHA256 with realm = account id (not part of the base string)."""

    def __init__(
        self, account_id: str, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str
    ):
        from requests_oauthlib import OAuth1

        self.account_id = account_id
        self._oauth = OAuth1(
            consumer_key,
            consumer_secret,
            token_id,
            token_secret,
            signature_method="HMAC-SHA256",
            realm=account_id,
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return self._oauth(request)

    def __repr__(self) -> str:
        return f"TBAAuth(account_id={self.account_id!r})"


class OAuth2Auth(requests.auth.AuthBase):
    """OAuth 2.0 client credentials: a JWT assertion signed with our private key buys a bearer token.

    The token is cached until shortly before it expires; a 401 makes the client drop it once.
    """

    algorithm = "PS256"  # NetSuite accepts PS256/384/512 and ES256/384/512, not RS256

    def __init__(
        self, client_id: str, certificate_id: str, private_key: str | bytes, scope: list[str] | None = None
    ):
        self.client_id = client_id
        self.certificate_id = certificate_id
        self._private_key = private_key
        self.scope = scope or ["restlets", "rest_webservices"]
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        # Set by NetSuiteClient: posts the token form through the client's retry loop.
        self.fetch: Callable[[dict[str, str]], dict[str, Any]] | None = None
        self.token_url = ""

    def assertion(self) -> str:
        import jwt

        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "scope": self.scope,
            "aud": self.token_url,
            "iat": now,
            "exp": now + 3600,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims, self._private_key, algorithm=self.algorithm, headers={"kid": self.certificate_id}
        )

    def token(self) -> str:
        with self._lock:
            if self._token and time.time() < self._expires_at - 60:
                return self._token
            if self.fetch is None:
                raise RuntimeError("OAuth2Auth is not attached to a NetSuiteClient")
            body = self.fetch(
                {
                    "grant_type": "client_credentials",
                    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    "client_assertion": self.assertion(),
                }
            )
            self._token = body["access_token"]
            self._expires_at = time.time() + float(body.get("expires_in") or 3600)
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token, self._expires_at = None, 0.0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def __repr__(self) -> str:
        return f"OAuth2Auth(client_id={self.client_id!r}, certificate_id={self.certificate_id!r})"


# -- the client ---------------------------------------------------------------------------------


@dataclass
class _Stats:
    requests: int = 0
    retries: int = 0
    in_flight: int = 0
    max_in_flight: int = 0


class NetSuiteClient:
    """REST + SuiteQL client. Thread-safe; at most `concurrency` requests are in flight at once."""

    def __init__(
        self,
        base_url: str,
        account_id: str,
        auth: requests.auth.AuthBase,
        concurrency: int = 5,
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.account_id = account_id
        self.auth = auth
        self.concurrency = max(1, int(concurrency))
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._stats_lock = threading.Lock()
        self.stats = _Stats()
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(10, self.concurrency * 2))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        # Resolve proxy / CA-bundle environment variables once, not on every request (that scan of
        # os.environ costs about a millisecond a request).
        settings = self._session.merge_environment_settings(self.base_url, {}, None, None, None)
        self._session.proxies, self._session.verify = settings["proxies"], settings["verify"]
        self._session.trust_env = False
        if isinstance(auth, OAuth2Auth):
            auth.token_url = self.base_url + REST_PREFIX + TOKEN_PATH
            auth.fetch = self._fetch_token

    def __repr__(self) -> str:
        return (
            f"NetSuiteClient(base_url={self.base_url!r}, account_id={self.account_id!r}, auth={self.auth!r})"
        )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> NetSuiteClient:
        """Build from the NETSUITE_* variables of docs/contracts.md; sandbox demo values when unset."""
        from sandbox import credentials as demo

        env = dict(os.environ if env is None else env)
        account_id = env.get("NETSUITE_ACCOUNT_ID") or demo.NETSUITE_ACCOUNT_ID
        mode = (env.get("NETSUITE_AUTH") or "tba").lower()
        auth: requests.auth.AuthBase
        if mode == "tba":
            auth = TBAAuth(
                account_id,
                env.get("NETSUITE_CONSUMER_KEY") or demo.CONSUMER_KEY,
                env.get("NETSUITE_CONSUMER_SECRET") or demo.CONSUMER_SECRET,
                env.get("NETSUITE_TOKEN_ID") or demo.TOKEN_ID,
                env.get("NETSUITE_TOKEN_SECRET") or demo.TOKEN_SECRET,
            )
        elif mode == "oauth2":
            key_file = Path(env.get("NETSUITE_PRIVATE_KEY_FILE") or DEFAULT_PRIVATE_KEY_FILE)
            try:
                private_key = key_file.read_bytes()
            except OSError as exc:
                raise ValueError(f"NETSUITE_PRIVATE_KEY_FILE {key_file}: {exc.strerror}") from exc
            auth = OAuth2Auth(
                env.get("NETSUITE_CLIENT_ID") or demo.OAUTH2_CLIENT_ID,
                env.get("NETSUITE_CERTIFICATE_ID") or demo.OAUTH2_CERTIFICATE_ID,
                private_key,
            )
        else:
            raise ValueError(f"NETSUITE_AUTH must be 'tba' or 'oauth2', not {mode!r}")
        settings: dict[str, Any] = {"concurrency": int(env.get("NETSUITE_CONCURRENCY") or 5)}
        settings.update(overrides)
        return cls(env.get("NETSUITE_URL") or DEFAULT_URL, account_id, auth, **settings)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> NetSuiteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- core request loop -----------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        *,
        before_retry: Callable[[], requests.Response | None] | None = None,
    ) -> requests.Response:
        """Send one request (path relative to /services/rest) with retries; raise NetSuiteError on 4xx.

        `before_retry` runs before every retry of a non-idempotent call; if it returns a response,
        that response is the outcome (e.g. "the record the first attempt created already exists").
        """
        url = self.base_url + REST_PREFIX + path
        all_headers = {"Accept": "application/json", **(headers or {})}
        data = None
        if json is not None:
            data = dumps_json(json).encode("utf-8")
            all_headers.setdefault("Content-Type", "application/json")

        refreshed: list[bool] = []

        def send() -> requests.Response:
            response = self._session.request(
                method,
                url,
                data=data,
                params=params,
                headers=all_headers,
                auth=self.auth,
                timeout=self.timeout,
            )
            if response.status_code == 401 and isinstance(self.auth, OAuth2Auth) and not refreshed:
                refreshed.append(True)
                self.auth.invalidate()  # expired or revoked token: fetch a fresh one once
                raise _TransientError("401 with a cached bearer token", retry_after=0.0, response=response)
            return response

        return self._with_retries(send, method, path, before_retry, needs_token=True)

    def _with_retries(
        self,
        send: Callable[[], requests.Response],
        method: str,
        path: str,
        before_retry: Callable[[], requests.Response | None] | None = None,
        needs_token: bool = False,
    ) -> requests.Response:
        last: _TransientError | None = None
        refused = 0
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep(attempt, last.retry_after if last else None)
                with self._stats_lock:
                    self.stats.retries += 1
                if before_retry is not None:
                    done = before_retry()
                    if done is not None:
                        return done
            try:
                if needs_token and isinstance(self.auth, OAuth2Auth):
                    self.auth.token()  # outside the concurrency slot: the token POST takes its own
                response = self._send_capped(send)
                self._check_transient(response)
            except _TransientError as exc:
                last = exc
                continue
            except _TRANSIENT_EXCEPTIONS as exc:
                last = _TransientError(type(exc).__name__)
                refused += _refused(exc)
                if refused >= CONNECT_TRIES:  # nothing listens there: say so instead of backing off
                    raise NetSuiteError(
                        0,
                        "UNREACHABLE",
                        f"cannot reach NetSuite at {self.base_url} — start `ledgerbridge sandbox serve` "
                        "or set NETSUITE_URL",
                        path,
                    ) from None
                continue
            if response.status_code >= 400:
                raise NetSuiteError.from_response(response, path)
            return response
        if last is not None and last.response is not None:
            raise NetSuiteError.from_response(last.response, path)
        raise NetSuiteError(
            0, "RETRIES_EXHAUSTED", f"{method} failed {self.max_retries + 1} times: {last}", path
        )

    def _send_capped(self, send: Callable[[], requests.Response]) -> requests.Response:
        with self._slots:
            with self._stats_lock:
                self.stats.requests += 1
                self.stats.in_flight += 1
                self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            try:
                response = send()
                response.content  # noqa: B018 - read the whole body while holding the slot
                return response
            finally:
                with self._stats_lock:
                    self.stats.in_flight -= 1

    @staticmethod
    def _check_transient(response: requests.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise _TransientError(f"HTTP {status}", _retry_after(response), response)
        if status < 300 and response.content and "json" in response.headers.get("Content-Type", ""):
            try:
                response.json()
            except ValueError as exc:
                raise _TransientError("truncated JSON body") from exc

    def _sleep(self, attempt: int, retry_after: float | None) -> None:
        if retry_after is not None:
            delay = min(retry_after, max(self.backoff_cap, 60.0))
        else:  # full jitter: uniform(0, min(cap, base * 2^n))
            delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))
        time.sleep(delay)

    def _fetch_token(self, form: dict[str, str]) -> dict[str, Any]:
        url = self.base_url + REST_PREFIX + TOKEN_PATH

        def send() -> requests.Response:
            return self._session.post(url, data=form, timeout=self.timeout)

        return self._with_retries(send, "POST", TOKEN_PATH).json()

    # -- conveniences ----------------------------------------------------------------------------
    def suiteql(self, query: str, limit: int = 1000, offset: int = 0) -> dict[str, Any]:
        """One SuiteQL page: {items, hasMore, count, offset, totalResults, links}."""
        response = self.request(
            "POST",
            "/query/v1/suiteql",
            json={"q": query},
            params={"limit": limit, "offset": offset},
            headers={"Prefer": "transient"},
        )
        return response.json()

    def upsert(self, record_type: str, external_id: str, body: dict[str, Any]) -> str:
        """PUT /record/v1/<type>/eid:<external id>; idempotent, returns the internal id."""
        path = f"/record/v1/{record_type}/{_eid(external_id)}"
        response = self.request("PUT", path, json=body)
        target = _location_id(response)
        if target is None:
            target = str(self.get(record_type, _eid(external_id))["id"])
        return target

    def get(self, record_type: str, id_or_eid: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
        """GET a record by internal id or by `eid:<external id>`; None for 404 when missing_ok."""
        try:
            return self.request("GET", f"/record/v1/{record_type}/{id_or_eid}").json()
        except NetSuiteError as exc:
            if missing_ok and exc.status == 404:
                return None
            raise

    def find_by_external_id(self, record_type: str, external_id: str) -> str | None:
        record = self.get(record_type, _eid(external_id), missing_ok=True)
        return None if record is None else str(record["id"])

    def transform(self, from_type: str, record_id: str, to_type: str, body: dict[str, Any]) -> str:
        """POST /record/v1/<from>/<id>/!transform/<to>; returns the new record's internal id.

        A transform is not idempotent, so when the body carries an externalId every retry first
        checks whether the previous attempt already created the record.
        """
        path = f"/record/v1/{from_type}/{record_id}/!transform/{to_type}"
        external_id = body.get("externalId")
        found: dict[str, str] = {}

        def already_created() -> requests.Response | None:
            if external_id and (existing := self.find_by_external_id(to_type, external_id)):
                found["id"] = existing
                return requests.Response()
            return None

        response = self.request("POST", path, json=body, before_retry=already_created)
        if "id" in found:
            return found["id"]
        target = _location_id(response)
        if target is None and external_id:
            target = self.find_by_external_id(to_type, external_id)
        if target is None:
            raise NetSuiteError(response.status_code, "NO_LOCATION", "transform returned no record id", path)
        return target


def dumps_json(value: Any, sort_keys: bool = False) -> str:
    """JSON text with Decimals written as exact numbers (money never passes through float).

    With sort_keys it is the canonical form reverse ETL fingerprints.
    """
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        return "{" + ",".join(f"{jsonlib.dumps(str(k))}:{dumps_json(v, sort_keys)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps_json(v, sort_keys) for v in value) + "]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return format(value, "f")
    return jsonlib.dumps(value, ensure_ascii=False, default=str)


def loads_json(text: str | bytes) -> Any:
    """Parse JSON keeping decimals exact."""
    return jsonlib.loads(text, parse_float=Decimal)


def _eid(external_id: str) -> str:
    return "eid:" + quote(external_id, safe="")


def _location_id(response: requests.Response) -> str | None:
    location = response.headers.get("Location")
    if not location:
        return None
    return location.rstrip("/").rsplit("/", 1)[-1]


def _refused(exc: Exception) -> bool:
    """True when the connection could not even be opened (nothing listening at the URL)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError) or isinstance(exc, requests.exceptions.ConnectTimeout)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
