"""Authentication the NetSuite sandbox enforces: TBA (OAuth 1.0a, HMAC-SHA256) and OAuth 2.0 M2M.

The OAuth 1.0a check is written out by hand from RFC 5849 / Oracle's "The Signature for Web
Services and RESTlets" rather than borrowed from oauthlib, so a client built on oauthlib is tested
against an independent implementation, not against itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.http import Request

TIMESTAMP_WINDOW = 300  # seconds either side of the server clock
TOKEN_ENDPOINT = "/services/rest/auth/oauth2/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Oracle: PS256/384/512 and ES256/384/512 are accepted for the client assertion; RS256 is not.
JWT_ALGORITHMS = ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
ACCESS_TOKEN_SECONDS = 3600
PRIVATE_KEY_NAME = "netsuite-oauth2-private-key.pem"


class AuthError(Exception):
    """Why a request was refused. NetSuite itself only says "Invalid login attempt"."""


def pct(value: str) -> str:
    """RFC 3986 percent-encoding as OAuth 1.0a requires (only unreserved characters stay)."""
    return quote(value, safe="~-._")


def base_url(request: Request) -> str:
    """Scheme + host the client addressed, from its Host header (what requests-oauthlib signed)."""
    host = request.headers.get("host") or urlsplit(request.base_url).netloc
    scheme = request.headers.get("x-forwarded-proto", "http")
    return f"{scheme}://{host}"


def _normalized_base_uri(request: Request) -> str:
    split = urlsplit(base_url(request))
    scheme, host = split.scheme.lower(), (split.hostname or "").lower()
    port = split.port
    netloc = host if port is None or (scheme, port) in {("http", 80), ("https", 443)} else f"{host}:{port}"
    return f"{scheme}://{netloc}{urlsplit(request.raw_path).path}"


def parse_oauth_header(header: str) -> dict[str, str]:
    if not header.startswith("OAuth "):
        raise AuthError("Authorization header is not OAuth")
    params = {}
    for name, value in re.findall(r'([\w-]+)\s*=\s*"([^"]*)"', header[6:]):
        params[name] = unquote(value)
    return params


def signature_base_string(request: Request, oauth: dict[str, str]) -> str:
    params = parse_qsl(urlsplit(request.raw_path).query, keep_blank_values=True)
    params += [(k, v) for k, v in oauth.items() if k not in {"realm", "oauth_signature"}]
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params += parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
    normalized = "&".join(f"{k}={v}" for k, v in sorted((pct(k), pct(v)) for k, v in params))
    return "&".join([request.method.upper(), pct(_normalized_base_uri(request)), pct(normalized)])


class TokenBasedAuth:
    """Verifies OAuth 1.0a TBA headers; remembers nonces for the timestamp window (replay guard)."""

    def __init__(
        self, account_id: str, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str
    ):
        self.account_id = account_id
        self.consumer = (consumer_key, consumer_secret)
        self.token = (token_id, token_secret)
        self._nonces: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def verify(self, request: Request, header: str) -> None:
        oauth = parse_oauth_header(header)
        if oauth.get("realm") != self.account_id:
            raise AuthError(f"realm must be the account id {self.account_id!r}")
        if oauth.get("oauth_signature_method") != "HMAC-SHA256":
            raise AuthError("oauth_signature_method must be HMAC-SHA256")
        if oauth.get("oauth_version", "1.0") != "1.0":
            raise AuthError("oauth_version must be 1.0")
        for name in (
            "oauth_consumer_key",
            "oauth_token",
            "oauth_nonce",
            "oauth_timestamp",
            "oauth_signature",
        ):
            if not oauth.get(name):
                raise AuthError(f"{name} missing")
        if oauth["oauth_consumer_key"] != self.consumer[0] or oauth["oauth_token"] != self.token[0]:
            raise AuthError("unknown consumer key or token")
        try:
            stamp = int(oauth["oauth_timestamp"])
        except ValueError as exc:
            raise AuthError("oauth_timestamp is not an integer") from exc
        now = time.time()
        if abs(now - stamp) > TIMESTAMP_WINDOW:
            raise AuthError("oauth_timestamp outside the allowed window")
        key = f"{pct(self.consumer[1])}&{pct(self.token[1])}".encode()
        digest = hmac.new(key, signature_base_string(request, oauth).encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), oauth["oauth_signature"]):
            raise AuthError("signature mismatch")
        nonce_key = (oauth["oauth_consumer_key"], oauth["oauth_token"], oauth["oauth_nonce"])
        with self._lock:
            # Oldest first (insertion order): drop the expired ones without scanning the rest.
            expired = []
            for old, seen in self._nonces.items():
                if now - seen <= 2 * TIMESTAMP_WINDOW:
                    break
                expired.append(old)
            for old in expired:
                del self._nonces[old]
            if nonce_key in self._nonces:
                raise AuthError("nonce already used")
            self._nonces[nonce_key] = now


class ClientCredentials:
    """OAuth 2.0 client credentials with a JWT client assertion, and the bearer tokens it issues."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.certificates: dict[str, str] = {}
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def register(self, certificate_id: str, public_key_pem: str) -> None:
        serialization.load_pem_public_key(public_key_pem.encode())  # fail early on a bad key
        self.certificates[certificate_id] = public_key_pem

    def issue(self, form: dict[str, str], token_url: str) -> dict[str, object]:
        """Return the token response, or raise AuthError('<oauth error code>: <why>')."""
        if form.get("grant_type") != "client_credentials":
            raise AuthError("unsupported_grant_type: grant_type must be client_credentials")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise AuthError(f"invalid_request: client_assertion_type must be {ASSERTION_TYPE}")
        assertion = form["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid_request: malformed client_assertion ({exc})") from exc
        if header.get("alg") not in JWT_ALGORITHMS:
            raise AuthError(f"invalid_client: alg must be one of {', '.join(JWT_ALGORITHMS)}")
        public_key = self.certificates.get(header.get("kid", ""))
        if public_key is None:
            raise AuthError("invalid_client: unknown certificate id (kid)")
        try:
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=[header["alg"]],
                audience=token_url,
                issuer=self.client_id,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
                leeway=TIMESTAMP_WINDOW,
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid_client: {exc}") from exc
        if int(claims["exp"]) - int(claims["iat"]) > ACCESS_TOKEN_SECONDS:
            raise AuthError("invalid_request: exp may be at most 60 minutes after iat")
        scope = claims["scope"]
        scopes = scope if isinstance(scope, list) else str(scope).replace(" ", ",").split(",")
        if "rest_webservices" not in scopes:
            raise AuthError("invalid_scope: scope must include rest_webservices")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.time() + ACCESS_TOKEN_SECONDS
        return {"access_token": token, "expires_in": ACCESS_TOKEN_SECONDS, "token_type": "bearer"}

    def verify_bearer(self, token: str) -> None:
        with self._lock:
            expires = self._tokens.get(token)
        if expires is None:
            raise AuthError("unknown bearer token")
        if expires < time.time():
            raise AuthError("bearer token expired")


def generate_oauth2_keypair(directory: str | os.PathLike[str]) -> tuple[Path, str]:
    """Create (or reuse) the sandbox client's RSA key: returns (private key path, public key PEM).

    The private key is written with mode 0600 and must never be committed; reusing an existing
    file keeps a client configured with NETSUITE_PRIVATE_KEY_FILE valid across sandbox restarts.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PRIVATE_KEY_NAME
    if path.exists():
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    else:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, public_pem.decode()
