"""Which base URLs the client may talk to, and where a `next_page` may lead.

A customer's base URL is operator input that decides where we send the client secret, so it is
checked before any request: https on Zuora's documented REST hosts, or a host the operator listed
(``ClientSettings.allowed_hosts``, set from ZUORA_PIPELINE_ALLOWED_HOSTS by the `zuora` resource).
Plain http is only for loopback hosts that are listed too (the simulator), so a typo can never
ship credentials in clear text over a network.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

import httpx

from .errors import UnsafeBaseUrlError, ZuoraPaginationError

ALLOWED_HOSTS_ENV = "ZUORA_PIPELINE_ALLOWED_HOSTS"

# Zuora's documented REST hosts (they serve /oauth/token and /workflows alike).
ZUORA_REST_HOSTS: frozenset[str] = frozenset(
    {
        "rest.test.zuora.com",
        "rest.sandbox.na.zuora.com",
        "rest.apisandbox.zuora.com",
        "rest.na.zuora.com",
        "rest.zuora.com",
        "rest.test.eu.zuora.com",
        "rest.sandbox.eu.zuora.com",
        "rest.eu.zuora.com",
        "rest.test.ap.zuora.com",
        "rest.ap.zuora.com",
        "rest.pt1.zuora.com",
    }
)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ENTRY_SPLIT = re.compile(r"[\s,]+")


def parse_allowed_hosts(raw: str) -> tuple[str, ...]:
    """Entries of a ZUORA_PIPELINE_ALLOWED_HOSTS value (comma or whitespace separated), lowercased."""
    return tuple(e.lower() for e in _ENTRY_SPLIT.split(raw or "") if e)


def _parse_entry(entry: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]` or `[v6]:port` -> (host, port or None for "any port")."""
    entry = entry.strip().lower().rstrip("/")
    if "://" in entry:  # tolerate operators pasting a URL
        entry = entry.split("://", 1)[1].split("/", 1)[0]
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:  # a bare host, or a bare IPv6 address without brackets
        host, port = entry, ""
    return host.rstrip("."), (int(port) if port.isdigit() else None)


def is_loopback(host: str) -> bool:
    host = host.lower().strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_listed(host: str, port: int, allowed_hosts: Iterable[str]) -> bool:
    for entry in allowed_hosts:
        if not entry or not entry.strip():
            continue
        e_host, e_port = _parse_entry(entry)
        # A bare `host` entry trusts the host on any port; `host:port` pins the port.
        if e_host == host and (e_port is None or e_port == port):
            return True
    return False


def _entry(host: str, port: int) -> str:
    """The ZUORA_PIPELINE_ALLOWED_HOSTS entry that allows ``host`` on ``port``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _split(url: str) -> SplitResult:
    if not isinstance(url, str) or not url or url != url.strip() or any(c in url for c in "\\\r\n\t "):
        raise ValueError("not a plain URL")
    return urlsplit(url)


def check_base_url(url: str, allowed_hosts: Iterable[str] = ()) -> str:
    """Validate a customer's base URL; return it normalised (lowercase scheme/host, no trailing slash).

    `allowed_hosts` are extra hosts on top of Zuora's documented ones (the client passes its
    `ClientSettings.allowed_hosts`).
    """
    shown = repr(url) if isinstance(url, str) and len(url) <= 200 else "the given value"
    try:
        parts = _split(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise UnsafeBaseUrlError(f"base URL {shown} must use https")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise UnsafeBaseUrlError(f"base URL {shown} must not contain a user name or password")
        if parts.query or parts.fragment or url.endswith(("?", "#")):
            raise UnsafeBaseUrlError(f"base URL {shown} must not have a query or fragment")
        if parts.path not in ("", "/"):
            raise UnsafeBaseUrlError(
                f"base URL {shown} must be just scheme://host[:port] (no path; Zuora serves "
                "/oauth/token and /workflows at the root)"
            )
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise UnsafeBaseUrlError(f"base URL {shown} has no host")
        port = parts.port if parts.port is not None else _DEFAULT_PORTS[scheme]
    except UnsafeBaseUrlError:
        raise
    except (ValueError, KeyError):
        raise UnsafeBaseUrlError(f"base URL {shown} is not a valid URL") from None

    allowed = tuple(allowed_hosts)
    listed = _host_listed(host, port, allowed)
    documented = host in ZUORA_REST_HOSTS and port == 443
    if scheme == "http":
        if not is_loopback(host):
            raise UnsafeBaseUrlError(
                f"base URL {shown} uses plain http; only https is allowed (http only for loopback "
                f"hosts listed in {ALLOWED_HOSTS_ENV}, such as a local simulator)"
            )
        if not listed:
            entry = _entry(host, port)
            other_ports = sorted({p for h, p in map(_parse_entry, allowed) if h == host and p is not None})
            listed_now = f" ({host} is listed for port {', '.join(map(str, other_ports))} only)" if other_ports else ""
            raise UnsafeBaseUrlError(
                f"base URL {shown}: plain http to port {port} of this machine is not allowed{listed_now}: "
                f"add {entry} to {ALLOWED_HOSTS_ENV} (comma-separated, e.g. {ALLOWED_HOSTS_ENV}={entry})"
            )
    elif not (documented or listed):
        raise UnsafeBaseUrlError(
            f"base URL {shown} is not one of Zuora's REST hosts (e.g. https://rest.zuora.com); "
            f"add the host to {ALLOWED_HOSTS_ENV} if it is really meant"
        )
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None and parts.port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{parts.port}"
    return f"{scheme}://{netloc}"


def resolve_next_page(next_page: str, base_url: str, *, customer: str | None = None, page: int = 0) -> str:
    """Make a `next_page` absolute (a relative one is resolved against the base) and refuse it
    unless it stays on the base URL's scheme, host and port: the bearer token goes with it."""
    try:
        base = httpx.URL(base_url)
        target = base.join(next_page)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise ZuoraPaginationError(
            f"customer {customer!r}: page {page} has an unusable next_page URL",
            customer=customer,
            endpoint="GET /workflows",
        ) from None
    if target.userinfo or (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        raise ZuoraPaginationError(
            f"customer {customer!r}: page {page} points next_page at another origin "
            f"({target.scheme}://{target.host}{':' + str(target.port) if target.port else ''}); "
            f"refusing to send the token outside {base_url}. If the tenant's API is served from "
            "there, make that the customer's base URL (`zuora-pipeline customers update NAME --base-url ...`)",
            customer=customer,
            endpoint="GET /workflows",
        )
    return str(target.copy_with(fragment=None))


def url_path(url: str) -> str:
    """Path and query of a URL, for messages (the origin is the customer's base URL anyway)."""
    u = httpx.URL(url)
    return u.raw_path.decode("ascii", "replace")
