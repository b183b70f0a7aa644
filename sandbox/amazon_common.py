"""Error bodies and request helpers shared by the SP-API sandbox modules.

Three error dialects answer on one port, as they do at Amazon: SP-API operations send
`{"errors": [{"code", "message", "details"}]}`, LWA sends `{"error", "error_description"}`, and the
S3-style pre-signed document URLs send XML.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from sandbox.http import Request, Response, json_response


class ApiError(Exception):
    """An SP-API error answer with its HTTP status; handlers raise it, the route wrapper sends it."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def response(self) -> Response:
        return sp_error(self.status, self.code, self.message, self.details)


def sp_error(status: int, code: str, message: str, details: str = "") -> Response:
    return json_response({"errors": [{"code": code, "message": message, "details": details}]}, status)


def lwa_error(status: int, error: str, description: str) -> Response:
    return json_response({"error_description": description, "error": error}, status)


def s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(status, body.encode(), {"Content-Type": "application/xml"})


def csv(request: Request, name: str) -> list[str]:
    """A list query parameter: python-amazon-sp-api sends `A,B`; repeated parameters work too."""
    return [v for raw in request.query.get(name, []) for v in raw.split(",") if v]


def json_body(request: Request) -> dict:
    try:
        body = request.json()
    except ValueError as exc:
        raise ApiError(400, "InvalidInput", f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "InvalidInput", "The request body must be a JSON object.")
    return body


def parse_time(value: str | None, name: str) -> datetime:
    """ISO 8601 (with `Z`, an offset, or naive = UTC) to an aware UTC datetime, else 400 InvalidInput."""
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise ApiError(400, "InvalidInput", f"{name} {value!r} is not an ISO 8601 date-time.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def encode_token(kind: str, state: dict) -> str:
    """An opaque next token that carries the whole query, so later pages need nothing else."""
    raw = json.dumps({"k": kind, **state}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, kind: str) -> dict:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        state = None
    if not isinstance(state, dict) or state.pop("k", None) != kind:
        raise ApiError(400, "InvalidInput", "Invalid nextToken.")
    return state
