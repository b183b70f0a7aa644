"""`ledgerbridge` — the command line. Each subcommand wires modules that hold the logic.

Heavy imports (dagster, dlt, dbt) happen inside the subcommands, so `--help` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from importlib.metadata import version

from ingestion.config import DEFAULT_WAREHOUSE


class CommandError(Exception):
    """A failure the user can act on: printed as one line, exit code 1."""


def _call(target: str) -> Callable[[argparse.Namespace], int]:
    """Lazily import `module:function` and call it with (args, progress)."""

    def run(args: argparse.Namespace) -> int:
        module_name, func_name = target.split(":")
        module = __import__(module_name, fromlist=[func_name])
        return getattr(module, func_name)(args, _progress)

    return run


def _add_sandbox(sub: argparse._SubParsersAction) -> None:
    sandbox = sub.add_parser("sandbox", help="the localhost SP-API and NetSuite sandboxes")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", metavar="SANDBOX_COMMAND", required=True)
    serve = sandbox_sub.add_parser(
        "serve", help="serve both sandboxes until stopped; print their URLs as JSON"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--amazon-port", type=int, default=8765, help="SP-API + LWA port (0 = any free port)")
    serve.add_argument("--netsuite-port", type=int, default=8766, help="NetSuite port (0 = any free port)")
    serve.add_argument("--seed", type=int, default=7, help="seed of the generated seller")
    serve.add_argument("--scale", default="small", help="seller size: tiny, small, medium, large")
    serve.add_argument("--env-file", help="also write KEY=value lines pointing ledgerbridge at this sandbox")
    serve.add_argument("--state", help="directory where the sandbox keeps its records across restarts")
    serve.set_defaults(func=_call("sandbox.cli:serve"))


def _add_pipeline(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run the whole pipeline on the sandbox and print a summary")
    demo.set_defaults(func=_call("orchestration.demo:run_demo"))

    ingest = sub.add_parser("ingest", help="load Amazon and/or NetSuite into the raw schemas")
    ingest.add_argument("source", nargs="?", choices=["amazon", "netsuite"], help="only this source")
    ingest.set_defaults(func=_call("ingestion.pipelines:ingest_command"))

    imp = sub.add_parser(
        "import-settlements", help="load settlement flat files downloaded from Seller Central"
    )
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.set_defaults(func=_call("ingestion.amazon.settlements:import_command"))

    build = sub.add_parser("build", help="dbt build (models + tests), then publish the marts for finance")
    build.add_argument(
        "--mode", choices=["summary", "order"], help="accounting mode (default: the settings seed)"
    )
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every model from scratch and validate every row (default: only what changed)",
    )
    build.set_defaults(func=_call("orchestration.build:build_command"))

    push = sub.add_parser("push", help="push the reconciled records to NetSuite and Amazon")
    push.add_argument(
        "--dry-run", action="store_true", help="write the payloads to reverse_etl.sync_previews only"
    )
    push.set_defaults(func=_call("orchestration.build:push_command"))

    status = sub.add_parser("status", help="summarise the last build, publish and push")
    status.set_defaults(func=_call("orchestration.build:status_command"))


def _progress(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledgerbridge",
        description="Amazon Seller Central <-> NetSuite ELT warehouse whose books tie out.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('ledgerbridge')}")
    parser.add_argument(
        "--warehouse",
        default=os.environ.get("LEDGERBRIDGE_WAREHOUSE", DEFAULT_WAREHOUSE),
        help="DuckDB warehouse file (env LEDGERBRIDGE_WAREHOUSE, default %(default)s)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_pipeline(sub)
    _add_sandbox(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ["LEDGERBRIDGE_WAREHOUSE"] = os.path.abspath(args.warehouse)
    try:
        return args.func(args)
    except CommandError as exc:
        print(f"ledgerbridge {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ledgerbridge {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
