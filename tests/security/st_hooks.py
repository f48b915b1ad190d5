"""schemathesis hooks: the hub's own answer contract as a check (loaded via SCHEMATHESIS_HOOKS).

schemathesis's GraphQL checks know Apollo's and graphql-java's error markers, not the hub's
codes, so its `not_a_server_error` calls every business error on a resolver path a "server
error". This check says what a failure is for this hub (README, "Limits and errors"):

- never an HTTP 5xx;
- every answer has an `x-request-id` header;
- the body is a JSON object with `data` and/or `errors` (and at most `extensions` besides);
- every error has a `message` and an `extensions.code` among the contract's codes;
- `INTERNAL` never appears (nothing schemathesis sends is an internal failure);
- no error suggests schema names ("Did you mean").
"""

import json

import schemathesis

CODES = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "VALIDATION", "CONFLICT", "LIMIT_EXCEEDED", "INTERNAL"}


def _header(response, name):
    for key, values in (response.headers or {}).items():
        if key.lower() == name:
            return values
    return None


@schemathesis.check
def raccordo_contract(ctx, response, case):
    """The hub's answer contract: no 5xx, GraphQL-shaped body, contract codes, never INTERNAL."""
    status = response.status_code
    if status >= 500:
        raise AssertionError(f"HTTP {status}")
    if not _header(response, "x-request-id"):
        raise AssertionError("no x-request-id header")
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"HTTP {status}: the body is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise AssertionError("the body is not a JSON object")
    extra = set(body) - {"data", "errors", "extensions"}
    if extra:
        raise AssertionError(f"unexpected top-level keys {sorted(extra)}")
    if "data" not in body and "errors" not in body:
        raise AssertionError("neither data nor errors")
    errors = body.get("errors")
    if errors is None:
        return
    if not isinstance(errors, list) or not errors:
        raise AssertionError("errors is not a non-empty list")
    for error in errors:
        message = error.get("message") if isinstance(error, dict) else None
        if not isinstance(message, str):
            raise AssertionError(f"an error without a message: {error}")
        code = (error.get("extensions") or {}).get("code")
        if code not in CODES:
            raise AssertionError(f"an error without a contract code: {error}")
        if code == "INTERNAL":
            raise AssertionError(f"INTERNAL at {error.get('path')}: {message}")
        if "Did you mean" in message:
            raise AssertionError(f"an error suggests schema names: {message}")
