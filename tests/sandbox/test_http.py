"""The shared sandbox server: a request cut off mid-body is not processed (a killed client)."""

from __future__ import annotations

import socket

import requests

from sandbox.http import Response, RunningServer, SandboxApp


def test_request_with_a_truncated_body_is_not_processed():
    calls: list[bytes] = []
    app = SandboxApp()
    app.route("POST", r"/things", lambda request: calls.append(request.body) or Response(204))
    with RunningServer(app) as server:
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            sock.sendall(b'POST /things HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"half":')
            sock.shutdown(socket.SHUT_WR)  # the client dies before the rest of the body
            assert sock.recv(1024) == b""  # closed without an answer
        assert requests.post(f"{server.url}/things", data=b"{}", timeout=5).status_code == 204
    assert calls == [b"{}"]
