"""``zuora-pipeline browse``: the read-only workflow browser on a local port."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from zuora_pipeline import config
from zuora_pipeline.extras import missing_extra

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8070


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, reuse_port=False)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (another --port or --host?)"
        ) from None


def _dagster_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{value!r} is not an http(s) URL", param_hint="--dagster-url")
    return value.strip().rstrip("/")


@click.command("browse")
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="address to listen on; the browser has no login of its own, so keep it on loopback behind "
    "an authenticating proxy",
)
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--dagster-url",
    metavar="URL",
    envvar=config.DAGSTER_UI_URL_ENV,
    show_envvar=True,
    help="the Dagster UI's base URL: each customer links to its partition there",
)
def browse_command(host: str, port: int, dagster_url: str | None) -> None:
    """Browse the warehouse in a web page (read-only): customers, workflows, tasks, exports, diagrams,
    history, diffs, tenant compare, search, changes.

    It opens the warehouse read-only (a read-only transaction on PostgreSQL, a read-only file on
    SQLite) and has no form that changes anything."""
    link = _dagster_url(dagster_url)
    try:
        import uvicorn

        from zuora_pipeline.browser.app import create_app
    except ModuleNotFoundError as exc:
        raise click.ClickException(missing_extra(exc, "browser") or str(exc)) from None
    from sqlalchemy.engine import make_url

    from zuora_pipeline.warehouse.migrate import require_schema
    from zuora_pipeline.warehouse.readonly import create_readonly_engine

    url = config.database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_file():
        raise click.ClickException(f"there is no warehouse at {parsed.database}: run `zuora-pipeline db upgrade` first")
    engine = create_readonly_engine(url)
    require_schema(engine)
    listener = _listen(host, port)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Browsing the warehouse read-only at http://{shown}:{port}/ (Ctrl-C to stop)", err=True)
    if not _loopback(host):
        click.echo(
            f"Warning: listening on {host}, beyond this machine; the browser has no login of its own: put it "
            "behind an authenticating proxy",
            err=True,
        )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(engine, dagster_url=link, stale_after=config.stale_after()),
            log_level="warning",
            access_log=False,
        )
    )
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:  # uvicorn shut down cleanly, then re-raised the Ctrl-C
        sys.exit(130)
    finally:
        engine.dispose()
