"""``zuora-pipeline customers ...``.

Client secrets come from an environment variable or standard input, never from argv (argv is
visible to every user of the machine in ``ps``), and are never printed.
"""

from __future__ import annotations

import json
import os
import sys

import click

from zuora_pipeline import config
from zuora_pipeline.cli import context
from zuora_pipeline.cli.times import utc_text
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.customers import Customer, CustomerError
from zuora_pipeline.warehouse.history import iso
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline.zuora import (
    ClientSettings,
    ZuoraAuthenticationError,
    ZuoraClient,
    ZuoraConnectionError,
    ZuoraMalformedResponseError,
    ZuoraRateLimitedError,
    ZuoraServerError,
    check_base_url,
)
from zuora_pipeline.zuora.settings import DEFAULT_CONCURRENCY

_LOW, _HIGH = customers.MAX_CONCURRENCY_RANGE
_CONCURRENCY_HELP = (
    f"requests this customer's syncs keep in flight ({_LOW}-{_HIGH}). Zuora limits concurrent requests "
    f"per tenant, 40 by default and more with Performance Booster or a high-volume tenant, shared with the "
    f"tenant's other integrations and UI users; without this option a sync uses {DEFAULT_CONCURRENCY}, "
    "half of the default limit"
)
_NO_VERIFY_HELP = "save without the token request that checks the credentials (e.g. Zuora not reachable from here)"


def read_secret(env_var: str | None) -> str:
    if env_var:
        value = os.environ.get(env_var, "")
        if not value.strip():
            raise CustomerError(f"environment variable {env_var} is empty or not set")
        return value.strip()
    if sys.stdin.isatty():
        value = click.prompt("Client secret", hide_input=True)
    else:
        value = sys.stdin.readline()
    if not value.strip():
        raise CustomerError(
            "no client secret given: pipe it on standard input or name an environment variable with --client-secret-env"
        )
    return value.strip()


def _check_url(url: str) -> str:
    return check_base_url(url, config.allowed_hosts())


def verify_credentials(name: str, base_url: str, client_id: str, secret: str, *, outcome: str) -> None:
    """One token request (retried only on 429/5xx/transport errors, briefly). A refusal, or no
    answer, is one line saying what happened to the command (``outcome``: "nothing saved",
    "nothing changed") and what to do; the client's own message is about a stored customer's
    sync (update it, resume it), which does not apply here."""
    settings = ClientSettings(
        concurrency=1, max_attempts=3, retry_budget_s=10.0, max_retry_wait=5.0, allowed_hosts=config.allowed_hosts()
    )
    try:
        with ZuoraClient(base_url, client_id, secret, customer=name, settings=settings) as client:
            client.check_credentials()
    except ZuoraAuthenticationError as exc:
        status = f"HTTP {exc.status}" if exc.status else "refused"
        raise CustomerError(
            f"Zuora at {base_url} rejected these credentials ({status} from {exc.endpoint}): {outcome}; "
            "check the client id and the client secret"
        ) from None
    except (ZuoraConnectionError, ZuoraServerError, ZuoraRateLimitedError, ZuoraMalformedResponseError) as exc:
        raise CustomerError(
            f"could not check the credentials with Zuora at {base_url} ({exc}): {outcome}; check the base URL "
            "and that Zuora is reachable from here, or add --no-verify to skip the check"
        ) from None


@click.group("customers")
def customers_group() -> None:
    """Zuora tenants to mirror (one Dagster partition each)."""


@customers_group.command("add")
@click.argument("name")
@click.option("--base-url", required=True, help="Zuora REST base URL, e.g. https://rest.zuora.com")
@click.option("--client-id", required=True)
@click.option("--client-secret-env", metavar="VAR", help="read the secret from this env var")
@click.option("--display-name")
@click.option("--max-concurrency", type=click.IntRange(_LOW, _HIGH), metavar="N", help=_CONCURRENCY_HELP)
@click.option("--no-verify", is_flag=True, help=_NO_VERIFY_HELP)
def add_command(
    name: str,
    base_url: str,
    client_id: str,
    client_secret_env: str | None,
    display_name: str | None,
    max_concurrency: int | None,
    no_verify: bool,
) -> None:
    """Register a customer; the sensor creates its partition and onboards it.

    The credentials are checked first with one token request to BASE_URL; if Zuora refuses them,
    nothing is saved (--no-verify skips the check)."""
    customers.validate_name(name)
    base_url = _check_url(base_url)
    box = config.secret_box()
    engine = context.warehouse()
    with engine.connect() as conn:
        if customers.find(conn, name) is not None:
            raise CustomerError(f"customer {name!r} already exists: use `customers update {name}`")
    secret = read_secret(client_secret_env)
    if not no_verify:
        verify_credentials(name, base_url, client_id, secret, outcome=f"customer {name} not saved")
    with write_transaction(engine) as conn:
        customers.add(
            conn,
            name=name,
            base_url=base_url,
            client_id=client_id,
            client_secret_encrypted=box.encrypt(secret),
            display_name=display_name,
            max_concurrency=max_concurrency,
        )
    checked = "credentials not checked (--no-verify)" if no_verify else "credentials accepted by Zuora"
    click.echo(
        f"added customer {name} ({base_url}; {checked}); customer_partitions_sensor will create its "
        f"partition and sync it, or run `zuora-pipeline sync --customer {name}`"
    )


@customers_group.command("update")
@click.argument("name")
@click.option("--base-url")
@click.option("--client-id")
@click.option("--client-secret-env", metavar="VAR", help="read the new secret from this env var")
@click.option("--secret-from-stdin", is_flag=True, help="read the new secret from standard input")
@click.option("--display-name")
@click.option("--max-concurrency", type=click.IntRange(_LOW, _HIGH), metavar="N", help=_CONCURRENCY_HELP)
@click.option("--default-concurrency", is_flag=True, help=f"forget --max-concurrency: use {DEFAULT_CONCURRENCY}")
@click.option("--no-verify", is_flag=True, help=_NO_VERIFY_HELP)
def update_command(
    name: str,
    base_url: str | None,
    client_id: str | None,
    client_secret_env: str | None,
    secret_from_stdin: bool,
    display_name: str | None,
    max_concurrency: int | None,
    default_concurrency: bool,
    no_verify: bool,
) -> None:
    """Change a customer's base URL, client id, secret or concurrency in place (all rows are kept).

    When the base URL, client id or secret changes, the resulting credentials are checked with
    one token request first; if Zuora refuses them nothing changes (--no-verify skips the check)."""
    if max_concurrency is not None and default_concurrency:
        raise click.UsageError("give --max-concurrency N or --default-concurrency, not both")
    if client_secret_env and secret_from_stdin:
        raise click.UsageError("give --client-secret-env VAR or --secret-from-stdin, not both")
    engine = context.warehouse()
    with engine.connect() as conn:
        current = customers.get(conn, name)
    values: dict[str, object] = {}
    secret: str | None = None
    if base_url:
        values["base_url"] = _check_url(base_url)
    if client_id:
        values["client_id"] = client_id
    if client_secret_env or secret_from_stdin:
        box = config.secret_box()
        secret = read_secret(client_secret_env)
        values["client_secret_encrypted"] = box.encrypt(secret)
    if display_name is not None:
        values["display_name"] = display_name
    if max_concurrency is not None or default_concurrency:
        values["max_concurrency"] = max_concurrency
    if not values:
        raise click.UsageError(
            "nothing to update: give --base-url, --client-id, a secret, --display-name or --max-concurrency"
        )
    if not no_verify and values.keys() & {"base_url", "client_id", "client_secret_encrypted"}:
        if secret is None:  # the stored secret with the new URL or client id
            secret = config.secret_box().decrypt(current.client_secret_encrypted, customer=name)
        verify_credentials(
            name,
            str(values.get("base_url", current.base_url)),
            str(values.get("client_id", current.client_id)),
            secret,
            outcome=f"customer {name} not changed",
        )
    with write_transaction(engine) as conn:
        customers.update(conn, name, **values)
    click.echo(f"updated customer {name}: {', '.join(sorted(k.replace('_encrypted', '') for k in values))}")


def _as_json(c: Customer) -> dict[str, object]:
    return {
        "name": c.name,
        "display_name": c.display_name,
        "base_url": c.base_url,
        "client_id": c.client_id,
        "sync_status": c.sync_status,
        "max_concurrency": c.max_concurrency,
        "last_synced_at": iso(c.last_synced_at),  # with its zone (UTC), on SQLite too
        "last_sync_status": c.last_sync_status,
        "last_sync_error": c.last_sync_error,
        "paused_reason": c.paused_reason,
    }


@customers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="a JSON array, one object per customer (keys below)")
def list_command(as_json: bool) -> None:
    """List customers (never their secrets).

    \b
    --json keys: name, display_name, base_url, client_id, sync_status (active|paused),
    max_concurrency (null: the zuora resource's default), last_synced_at, last_sync_status,
    last_sync_error"""
    with context.warehouse().connect() as conn:
        rows = customers.list_all(conn)
    if as_json:
        click.echo(json.dumps([_as_json(c) for c in rows], indent=2))
        return
    if not rows:
        click.echo("no customers yet: `zuora-pipeline customers add NAME --base-url URL --client-id ID`")
        return
    header = f"{'NAME':<24} {'STATUS':<7} {'LAST SYNC':<26} {'RESULT':<8} {'CONCURRENCY':<12} BASE URL"
    click.echo(header)
    for c in rows:
        last = utc_text(c.last_synced_at) if c.last_synced_at else "never"
        concurrency = str(c.max_concurrency) if c.max_concurrency else f"default ({DEFAULT_CONCURRENCY})"
        click.echo(
            f"{c.name:<24} {c.sync_status:<7} {last:<26} {c.last_sync_status or '-':<8} {concurrency:<12} {c.base_url}"
        )
        if c.sync_status == customers.PAUSED and c.paused_reason:
            click.echo(f"{'':<24} paused because: {c.paused_reason}")


@customers_group.command("pause")
@click.argument("name")
def pause_command(name: str) -> None:
    """Stop scheduled syncs of a customer."""
    with write_transaction(context.warehouse()) as conn:
        sync_runs.pause(conn, name)
    click.echo(f"paused {name}: the hourly schedule skips it until `customers resume {name}`")


@customers_group.command("resume")
@click.argument("name")
def resume_command(name: str) -> None:
    """Re-enable scheduled syncs of a customer."""
    with write_transaction(context.warehouse()) as conn:
        sync_runs.resume(conn, name)
    click.echo(f"resumed {name}: the next hourly run syncs it (or `zuora-pipeline sync --customer {name}`)")


@customers_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="confirm: deletes the customer, its rows and its partition")
def remove_command(name: str, yes: bool) -> None:
    """Delete a customer, all its warehouse rows and its Dagster partition."""
    if not yes:
        raise click.UsageError(f"this deletes {name} and all its rows: add --yes to confirm")
    with write_transaction(context.warehouse()) as conn:
        customers.remove(conn, name)
    from zuora_pipeline.runs.inprocess import PARTITIONS_NAME

    instance = context.dagster_instance()
    if instance.has_dynamic_partition(PARTITIONS_NAME, name):
        instance.delete_dynamic_partition(PARTITIONS_NAME, name)
    click.echo(f"removed {name}, its workflows, tasks and partition")
