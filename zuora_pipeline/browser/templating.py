"""The Jinja2 environment: every value is escaped (autoescaping is on for every template and
nothing is marked safe but the diagram SVG, which the renderer escapes itself), an undefined name is
an error, and a few filters format times, counts and JSON the same way on every page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from zuora_pipeline.audit.freshness import age_text

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("zuora_pipeline.browser", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their (UTC) zone."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def when(value: datetime | None) -> str:
    found = utc(value)
    return found.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if found else "-"


def iso(value: datetime | None) -> str:
    found = utc(value)
    return found.isoformat() if found else ""


def ago(value: datetime | None) -> str:
    found = utc(value)
    return "never" if found is None else f"{age_text(found, datetime.now(UTC))} ago"


def pretty(value: Any) -> str:
    """JSON as people read it: two-space indent, characters as they are."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def inline(value: Any) -> str:
    """A value on one line: strings quoted, objects as compact JSON."""
    return json.dumps(value, ensure_ascii=False, default=str)


def number(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def path(*parts: object) -> str:
    """/customers/<name>/workflows/<id>...: every segment percent-encoded."""
    return "/" + "/".join(quote(str(p), safe="") for p in parts)


def link(base: str, **params: object) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return f"{base}?{urlencode(kept)}" if kept else base


def with_query(request: Request, **changes: object) -> str:
    """The current page's URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return link(request.url.path, **params)


_env.filters.update(when=when, iso=iso, ago=ago, pretty=pretty, inline=inline, number=number)
_env.globals.update(path=path, link=link, with_query=with_query)


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    page = _env.get_template(template).render(request=request, app_state=request.app.state, **context)
    return HTMLResponse(page, status_code=status)
