"""`ledgerbridge sandbox serve`: both sandboxes on localhost, one JSON line of URLs and credentials."""

from __future__ import annotations

import json
import os
import shlex
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sandbox import credentials
from sandbox.http import RunningServer


class Sandboxes:
    """The SP-API (+ LWA) and NetSuite sandboxes, started together on localhost."""

    def __init__(
        self,
        seed: int = 7,
        scale: str = "small",
        host: str = "127.0.0.1",
        amazon_port: int = 0,
        netsuite_port: int = 0,
        state_dir: str | os.PathLike[str] | None = None,
        key_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        from sandbox.amazon import AmazonSandbox
        from sandbox.generator import generate_seller
        from sandbox.netsuite import NetSuiteSandbox, generate_oauth2_keypair

        # The seller's history ends today, so the Reports API's 90-day window and the Orders API's
        # "2 minutes before now" bound behave as they do against the real service.
        self.seller = generate_seller(seed=seed, scale=scale, today=datetime.now(UTC).date())
        self.amazon_app = AmazonSandbox(seller=self.seller)
        self.netsuite_app = NetSuiteSandbox(seller=self.seller, state_dir=state_dir)
        key_dir = Path(key_dir or state_dir or Path("data") / "sandbox")
        key_dir.mkdir(parents=True, exist_ok=True)
        self.private_key_file, public_pem = generate_oauth2_keypair(key_dir)
        self.netsuite_app.register_oauth2_certificate(credentials.OAUTH2_CERTIFICATE_ID, public_pem)
        self.amazon = RunningServer(self.amazon_app, host, amazon_port)
        self.netsuite = RunningServer(self.netsuite_app, host, netsuite_port)

    def start(self) -> Sandboxes:
        self.amazon.start()
        self.netsuite.start()
        return self

    def stop(self) -> None:
        self.amazon.stop()
        self.netsuite.stop()

    def __enter__(self) -> Sandboxes:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def info(self) -> dict[str, str]:
        """What `sandbox serve` prints: base URLs and the demo credentials."""
        return {
            "amazon_url": self.amazon.url,
            "lwa_url": self.amazon.url,
            "netsuite_url": self.netsuite.url,
            "lwa_client_id": credentials.LWA_CLIENT_ID,
            "lwa_client_secret": credentials.LWA_CLIENT_SECRET,
            "refresh_token": credentials.REFRESH_TOKEN,
            "seller_id": credentials.SELLER_ID,
            "netsuite_account_id": credentials.NETSUITE_ACCOUNT_ID,
            "consumer_key": credentials.CONSUMER_KEY,
            "consumer_secret": credentials.CONSUMER_SECRET,
            "token_id": credentials.TOKEN_ID,
            "token_secret": credentials.TOKEN_SECRET,
            "oauth2_client_id": credentials.OAUTH2_CLIENT_ID,
            "oauth2_certificate_id": credentials.OAUTH2_CERTIFICATE_ID,
            "oauth2_private_key_file": str(self.private_key_file),
        }

    def env(self) -> dict[str, str]:
        """Environment variables that point every other `ledgerbridge` command at this sandbox."""
        info = self.info()
        return {
            "AMAZON_SP_API_URL": info["amazon_url"],
            "AMAZON_LWA_URL": info["lwa_url"],
            "AMAZON_LWA_CLIENT_ID": info["lwa_client_id"],
            "AMAZON_LWA_CLIENT_SECRET": info["lwa_client_secret"],
            "AMAZON_REFRESH_TOKEN": info["refresh_token"],
            "AMAZON_SELLER_ID": info["seller_id"],
            "AMAZON_MARKETPLACES": ",".join(self.seller.marketplaces),
            "NETSUITE_URL": info["netsuite_url"],
            "NETSUITE_ACCOUNT_ID": info["netsuite_account_id"],
            "NETSUITE_CONSUMER_KEY": info["consumer_key"],
            "NETSUITE_CONSUMER_SECRET": info["consumer_secret"],
            "NETSUITE_TOKEN_ID": info["token_id"],
            "NETSUITE_TOKEN_SECRET": info["token_secret"],
            "NETSUITE_CLIENT_ID": info["oauth2_client_id"],
            "NETSUITE_CERTIFICATE_ID": info["oauth2_certificate_id"],
            "NETSUITE_PRIVATE_KEY_FILE": info["oauth2_private_key_file"],
        }


def write_env_file(path: str | os.PathLike[str], env: dict[str, str]) -> None:
    # Quoted for the shell: `set -a; . FILE` must read values such as `Atzr|...` verbatim.
    lines = [f"{key}={shlex.quote(value)}" for key, value in env.items()]
    Path(path).write_text("# written by `ledgerbridge sandbox serve`\n" + "\n".join(lines) + "\n")


def serve(args, progress: Callable[[str], None]) -> int:
    progress(f"generating the sandbox seller (seed {args.seed}, scale {args.scale})")
    sandboxes = Sandboxes(
        seed=args.seed,
        scale=args.scale,
        host=args.host,
        amazon_port=args.amazon_port,
        netsuite_port=args.netsuite_port,
        state_dir=args.state,
    ).start()
    if args.env_file:
        write_env_file(args.env_file, sandboxes.env())
    print(json.dumps(sandboxes.info()), flush=True)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    sandboxes.stop()
    progress("sandboxes stopped")
    return 0
