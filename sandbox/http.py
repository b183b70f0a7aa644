"""A small threaded HTTP server for the sandboxes: routing, JSON helpers, request log, fault injection.

Both sandboxes (SP-API + LWA, NetSuite) are built on this, so fault injection and the
`/_sandbox/...` introspection endpoints behave the same on both.
"""

from __future__ import annotations

import json
import random
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    raw_path: str  # path + query exactly as received (OAuth 1.0a signs it)
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route pattern
    base_url: str = ""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, default=str).encode("utf-8")
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


@dataclass
class Faults:
    """Deterministic fault injection: the same seed gives the same faults for the same request order."""

    latency_ms: float = 0.0
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_reset: float = 0.0
    rate_truncate: float = 0.0
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def configure(self, **settings: float) -> None:
        with self._lock:
            for key, value in settings.items():
                if key not in {"latency_ms", "rate_429", "rate_5xx", "rate_reset", "rate_truncate", "seed"}:
                    raise ValueError(f"unknown fault setting {key!r}")
                setattr(self, key, int(value) if key == "seed" else float(value))
            self._rng.seed(self.seed)

    def draw(self) -> str | None:
        """Pick the fault for the next request: '429', '5xx', 'reset', 'truncate' or None."""
        with self._lock:
            roll = self._rng.random()
        edge = 0.0
        for name, rate in (
            ("429", self.rate_429),
            ("5xx", self.rate_5xx),
            ("reset", self.rate_reset),
            ("truncate", self.rate_truncate),
        ):
            edge += rate
            if roll < edge:
                return name
        return None

    def as_dict(self) -> dict[str, float]:
        return {
            "latency_ms": self.latency_ms,
            "rate_429": self.rate_429,
            "rate_5xx": self.rate_5xx,
            "rate_reset": self.rate_reset,
            "rate_truncate": self.rate_truncate,
            "seed": self.seed,
        }


Handler = Callable[[Request], Response]


class SandboxApp:
    """Routes requests to handlers; subclasses register routes and hold their state.

    Faults apply to every route except `/_sandbox/...`. Subclasses override `throttled_response`
    and `server_error_response` to answer in their service's own error format.
    """

    name = "sandbox"

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.RLock()
        self.route("GET", r"/_sandbox/requests", self._list_requests)
        self.route("DELETE", r"/_sandbox/requests", self._clear_requests)
        self.route("GET", r"/_sandbox/faults", lambda r: json_response(self.faults.as_dict()))
        self.route("POST", r"/_sandbox/faults", self._set_faults)
        self.route("GET", r"/_sandbox/records", lambda r: json_response(self.records()))

    # -- to override -------------------------------------------------------------------------
    def records(self) -> dict[str, Any]:
        return {}

    def throttled_response(self, request: Request) -> Response:
        return json_response({"errors": [{"code": "QuotaExceeded", "message": "Too many requests"}]}, 429)

    def server_error_response(self, request: Request) -> Response:
        return json_response({"errors": [{"code": "InternalFailure", "message": "Injected failure"}]}, 503)

    # -- plumbing ----------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def _list_requests(self, request: Request) -> Response:
        with self.lock:
            return json_response({"requests": list(self.requests)})

    def _clear_requests(self, request: Request) -> Response:
        with self.lock:
            self.requests.clear()
        return Response(204)

    def _set_faults(self, request: Request) -> Response:
        try:
            self.faults.configure(**(request.json() or {}))
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(self.faults.as_dict())

    def record_request(self, request: Request, status: int, fault: str | None) -> None:
        if request.path.startswith("/_sandbox/"):
            return
        with self.lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "fault": fault,
                    "at": time.time(),
                }
            )

    def dispatch(self, request: Request) -> tuple[Response, str | None]:
        """Return the response and the injected fault (None, '429', '5xx', 'reset', 'truncate')."""
        fault = None
        if not request.path.startswith("/_sandbox/"):
            if self.faults.latency_ms:
                time.sleep(self.faults.latency_ms / 1000.0)
            fault = self.faults.draw()
            if fault == "429":
                return self.throttled_response(request), fault
            if fault == "5xx":
                return self.server_error_response(request), fault
            if fault == "reset":
                return Response(0), fault
        allowed = []
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if not match:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            request.params = match.groupdict()
            return handler(request), fault
        status = 405 if allowed else 404
        return self.not_found(request, status), fault

    def not_found(self, request: Request, status: int) -> Response:
        return json_response(
            {"errors": [{"code": "NotFound", "message": f"No route for {request.path}"}]}, status
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY every small JSON response waits ~40 ms for the delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _handle(self) -> None:
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The client went away mid-request (e.g. killed): like a real server, process nothing.
            self.close_connection = True
            return
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw_path=self.path,
            base_url=self.server.base_url,
        )
        try:
            response, fault = app.dispatch(request)
        except Exception as exc:  # a sandbox bug must show as a 500, not hang the client
            response, fault = (
                json_response({"errors": [{"code": "InternalFailure", "message": repr(exc)}]}, 500),
                None,
            )
        app.record_request(request, response.status if fault != "reset" else 0, fault)
        if fault == "reset":
            self.close_connection = True
            # SO_LINGER 0: closing sends a TCP RST, as a dropped connection does.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if fault == "truncate" and response.body:
            self.wfile.write(response.body[: max(1, len(response.body) // 2)])
            self.close_connection = True
            return
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: SandboxApp
    base_url: str


class RunningServer:
    """An app served on localhost in a background thread. Port 0 picks a free ephemeral port."""

    def __init__(self, app: SandboxApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server = _Server((host, port), _Handler)
        self._server.app = app
        self.host, self.port = self._server.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._server.base_url = self.url
        # A short poll interval makes stop() return in ~50 ms instead of 0.5 s (test teardown).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{app.name}-http",
            daemon=True,
        )

    def start(self) -> RunningServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RunningServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
