"""Amazon's static sandbox examples (`x-amzn-api-sandbox`), served before dynamic handling.

Amazon's own sandbox answers fixed requests (`CreatedAfter=TEST_CASE_200`, `reportId=ID323`, ...) with
fixed responses. The example files in `sandbox/amazon_examples/` are copied verbatim from the models;
this module loads them and matches a request against them generically:

* path parameters compare with the route's named groups;
* query parameters compare as comma-separated lists (python-amazon-sp-api joins list params with ",")
  and booleans as `true`/`false`; query parameters the example does not name are ignored (the client
  adds `marketplaceIds` and friends on its own);
* `body` compares as JSON after dropping the keys python-amazon-sp-api adds on its own unless the
  example names them: `marketplaceIds`/`MarketplaceIds` (every POST) and `path` (createFeed and
  createFeedDocument leak their route into the body);
* an example with no parameter values (Amazon serves it for any request) would shadow every real
  request, so it matches only when the request's path parameters equal the ids in the example's own
  response (e.g. `sku=GM-ZDPI-9B4E`); examples without such ids are skipped.

More specific examples (more parameters) are tried first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.http import Request

EXAMPLES_DIR = Path(__file__).with_name("amazon_examples")
CLIENT_ADDED_BODY_KEYS = ("marketplaceIds", "MarketplaceIds", "path")
MISSING = object()


@dataclass(frozen=True)
class StaticExample:
    operation_id: str
    method: str
    path: str  # the model's path template, e.g. /orders/v0/orders/{orderId}
    status: int
    parameters: dict[str, Any]  # name -> expected value (only parameters that carry a value)
    response: Any
    source: str  # file name, for test messages

    def request_parts(self) -> tuple[dict[str, str], dict[str, Any], Any]:
        """(path params, query params, body or MISSING) for building a matching request in tests."""
        path_names = _path_names(self.path)
        path = {k: v for k, v in self.parameters.items() if k in path_names}
        query = {k: v for k, v in self.parameters.items() if k not in path_names and k != "body"}
        return path, query, self.parameters.get("body", MISSING)


def _path_names(template: str) -> set[str]:
    return {part[1:-1] for part in template.split("/") if part.startswith("{") and part.endswith("}")}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_list(value: Any) -> list[str]:
    return [_as_text(v) for v in value] if isinstance(value, list) else [_as_text(value)]


def load_examples(directory: Path = EXAMPLES_DIR) -> list[StaticExample]:
    examples: list[StaticExample] = []
    for file in sorted(directory.glob("*.json")):
        spec = json.loads(file.read_text(encoding="utf-8"))
        path_names = _path_names(spec["path"])
        for status, block in spec.get("sandbox", {}).items():
            for item in (block or {}).get("static", []):
                raw = item.get("request", {}).get("parameters", {})
                params = {name: p["value"] for name, p in raw.items() if isinstance(p, dict) and "value" in p}
                response = item.get("response")
                if not params:
                    # Catch-all example: key it on the ids of its own response instead.
                    params = {
                        n: response[n] for n in path_names if isinstance(response, dict) and n in response
                    }
                    if not params:
                        continue
                examples.append(
                    StaticExample(
                        operation_id=spec["operationId"],
                        method=spec["method"].upper(),
                        path=spec["path"],
                        status=int(status),
                        parameters=params,
                        response=response,
                        source=file.name,
                    )
                )
    examples.sort(key=lambda e: -len(e.parameters))
    return examples


class StaticExamples:
    """Index of examples by (method, path template); `match` returns the first matching example."""

    def __init__(self, examples: list[StaticExample] | None = None) -> None:
        self.examples = load_examples() if examples is None else examples
        self._by_route: dict[tuple[str, str], list[StaticExample]] = {}
        for example in self.examples:
            self._by_route.setdefault((example.method, example.path), []).append(example)

    def match(self, method: str, template: str, request: Request) -> StaticExample | None:
        for example in self._by_route.get((method, template), []):
            if self._matches(example, template, request):
                return example
        return None

    @staticmethod
    def _matches(example: StaticExample, template: str, request: Request) -> bool:
        path_names = _path_names(template)
        for name, expected in example.parameters.items():
            if name in path_names:
                if request.params.get(name) != _as_text(expected):
                    return False
            elif name == "body":
                try:
                    body = request.json()
                except ValueError:
                    return False
                if isinstance(body, dict) and isinstance(expected, dict):
                    body = {k: v for k, v in body.items() if k in expected or k not in CLIENT_ADDED_BODY_KEYS}
                if body is None:
                    body = {}
                if body != expected:
                    return False
            else:
                values = request.query.get(name)
                if not values:
                    return False
                got = [v for raw in values for v in raw.split(",")]
                if got != _as_list(expected):
                    return False
        return True
