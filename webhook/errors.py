"""Turn validation errors into one clear sentence (never a stack trace)."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError


def describe_validation_error(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "the body is not valid JSON"
    parts = []
    for e in errors:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return 422, "; ".join(parts) or "invalid request"
