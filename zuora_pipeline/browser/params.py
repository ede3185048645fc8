"""Query and path parameters -> values, or a 400 page saying what is wrong (never a stack trace)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import click
from starlette.exceptions import HTTPException
from starlette.requests import Request

from zuora_pipeline.cli.changes import parse_since

MAX_PAGE = 1_000_000  # beyond any list we hold; a larger number is a typo or a probe


class BadRequest(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(400, detail)


class NotFound(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(404, detail)


ID_LIMIT = 2**63 - 1  # Zuora ids are 64-bit


def whole_number(text: str, what: str, *, low: int = 0, high: int = ID_LIMIT) -> int:
    """``text`` as an integer in [low, high], else a 400."""
    value = text.strip()
    if not (value.isascii() and value.isdigit() and len(value) < 20) or not low <= int(value) <= high:
        allowed = f"from {low:,} to {high:,}" if high < ID_LIMIT else f"of at least {low:,}"
        raise BadRequest(f"{what} must be a whole number {allowed}, not {text[:40]!r}")
    return int(value)


def optional_number(request: Request, name: str, what: str, *, low: int = 1, high: int = 2**31) -> int | None:
    raw = request.query_params.get(name, "").strip()
    return whole_number(raw, what, low=low, high=high) if raw else None


def page_number(request: Request) -> int:
    return optional_number(request, "page", "the page number", high=MAX_PAGE) or 1


def choice(request: Request, name: str, choices: Sequence[str], default: str) -> str:
    value = request.query_params.get(name, "").strip() or default
    if value not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}, not {value[:40]!r}")
    return value


def text(request: Request, name: str, *, limit: int = 200) -> str | None:
    value = request.query_params.get(name, "").strip()
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit} characters")
    return value or None


def since(request: Request, name: str = "since", default: str | None = None) -> tuple[str | None, datetime | None]:
    """The text as given (to show it back) and the moment it means: 30m, 12h, 7d, 2w or an ISO date."""
    raw = request.query_params.get(name, "").strip() or default
    if not raw:
        return None, None
    try:
        return raw, parse_since(raw)
    except (click.BadParameter, OverflowError, ValueError) as exc:
        message = exc.message if isinstance(exc, click.BadParameter) else str(exc)
        raise BadRequest(f"{name}: {message}") from None


def check_page(page: int, total: int, size: int) -> int:
    """The last page number; a page past it is a 404 that says how many there are."""
    last = max(1, -(-total // size))
    if page > last:
        raise NotFound(f"page {page:,} does not exist: there {'is' if last == 1 else 'are'} {last:,} page(s)")
    return last
