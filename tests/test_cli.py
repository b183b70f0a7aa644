"""The `ledgerbridge` command as a user meets it: help, version, the sandbox it serves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from orchestration.cli import main

EXPECTED_SANDBOX_KEYS = {
    "amazon_url",
    "lwa_url",
    "netsuite_url",
    "lwa_client_id",
    "lwa_client_secret",
    "refresh_token",
    "netsuite_account_id",
    "consumer_key",
    "consumer_secret",
    "token_id",
    "token_secret",
}


def test_help_lists_every_subcommand(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "ingest", "import-settlements", "build", "push", "status", "sandbox"):
        assert command in out
    assert "--warehouse" in out


def test_version_is_the_package_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip().startswith("ledgerbridge 0.")


def test_unknown_subcommand_fails_with_usage(capsys):
    try:
        code = main(["no-such-command"])
    except SystemExit as exc:
        code = exc.code
    assert code != 0
    assert "invalid choice" in capsys.readouterr().err


def test_sandbox_serve_prints_urls_and_writes_env_file(tmp_path: Path):
    env_file = tmp_path / "sandbox.env"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "sandbox",
            "serve",
            "--amazon-port",
            "0",
            "--netsuite-port",
            "0",
            "--scale",
            "tiny",
            "--env-file",
            str(env_file),
            "--state",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        line = proc.stdout.readline()
        info = json.loads(line)
        assert set(info) >= EXPECTED_SANDBOX_KEYS
        # Both servers answer over real HTTP, and the LWA endpoint accepts the printed credentials.
        token = requests.post(
            f"{info['lwa_url']}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": info["refresh_token"],
                "client_id": info["lwa_client_id"],
                "client_secret": info["lwa_client_secret"],
            },
            timeout=10,
        )
        assert token.status_code == 200 and token.json()["access_token"]
        assert requests.get(f"{info['netsuite_url']}/_sandbox/requests", timeout=10).status_code == 200
        env = dict(
            line.split("=", 1)
            for line in env_file.read_text().splitlines()
            if line and not line.startswith("#")
        )
        assert env["AMAZON_SP_API_URL"] == info["amazon_url"]
        assert env["NETSUITE_URL"] == info["netsuite_url"]
    finally:
        proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        while proc.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
