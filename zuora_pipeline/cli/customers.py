"""``zuora-pipeline customers ...`` and ``secret-key``.

Client secrets come from an environment variable or standard input, never from argv (argv is
visible to every user of the machine in ``ps``), and are never printed.
"""

from __future__ import annotations

import json
import os
import sys

import click

from zuora_pipeline.cli import context
from zuora_pipeline.crypto import SecretBox, new_key
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.customers import Customer, CustomerError
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline.zuora import allowed_hosts_from_env, check_base_url


@click.command("secret-key")
def secret_key_command() -> None:
    """Print a new Fernet key for ZUORA_PIPELINE_SECRET_KEY."""
    click.echo(new_key())


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
    return check_base_url(url, allowed_hosts_from_env())


@click.group("customers")
def customers_group() -> None:
    """Zuora tenants to mirror (one Dagster partition each)."""


@customers_group.command("add")
@click.argument("name")
@click.option("--base-url", required=True, help="Zuora REST base URL, e.g. https://rest.zuora.com")
@click.option("--client-id", required=True)
@click.option("--client-secret-env", metavar="VAR", help="read the secret from this env var")
@click.option("--display-name")
def add_command(
    name: str, base_url: str, client_id: str, client_secret_env: str | None, display_name: str | None
) -> None:
    """Register a customer; the sensor creates its partition and onboards it."""
    customers.validate_name(name)
    base_url = _check_url(base_url)
    box = SecretBox.from_env()
    secret = read_secret(client_secret_env)
    with write_transaction(context.warehouse()) as conn:
        customers.add(
            conn,
            name=name,
            base_url=base_url,
            client_id=client_id,
            client_secret_encrypted=box.encrypt(secret),
            display_name=display_name,
        )
    click.echo(
        f"added customer {name} ({base_url}); customer_partitions_sensor will create its "
        f"partition and sync it, or run `zuora-pipeline sync --customer {name}`"
    )


@customers_group.command("update")
@click.argument("name")
@click.option("--base-url")
@click.option("--client-id")
@click.option("--client-secret-env", metavar="VAR", help="read the new secret from this env var")
@click.option("--secret-from-stdin", is_flag=True, help="read the new secret from standard input")
@click.option("--display-name")
def update_command(
    name: str,
    base_url: str | None,
    client_id: str | None,
    client_secret_env: str | None,
    secret_from_stdin: bool,
    display_name: str | None,
) -> None:
    """Change a customer's base URL, client id or secret in place (all rows are kept)."""
    values: dict[str, object] = {}
    if base_url:
        values["base_url"] = _check_url(base_url)
    if client_id:
        values["client_id"] = client_id
    if client_secret_env or secret_from_stdin:
        values["client_secret_encrypted"] = SecretBox.from_env().encrypt(read_secret(client_secret_env))
    if display_name is not None:
        values["display_name"] = display_name
    if not values:
        raise click.UsageError("nothing to update: give --base-url, --client-id, a secret or --display-name")
    with write_transaction(context.warehouse()) as conn:
        customers.update(conn, name, **values)
    click.echo(f"updated customer {name}: {', '.join(sorted(k.replace('_encrypted', '') for k in values))}")


def _as_json(c: Customer) -> dict[str, object]:
    return {
        "name": c.name,
        "display_name": c.display_name,
        "base_url": c.base_url,
        "client_id": c.client_id,
        "sync_status": c.sync_status,
        "last_synced_at": c.last_synced_at.isoformat() if c.last_synced_at else None,
        "last_sync_status": c.last_sync_status,
        "last_sync_error": c.last_sync_error,
    }


@customers_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """List customers (never their secrets)."""
    with context.warehouse().connect() as conn:
        rows = customers.list_all(conn)
    if as_json:
        click.echo(json.dumps([_as_json(c) for c in rows], indent=2))
        return
    if not rows:
        click.echo("no customers yet: `zuora-pipeline customers add NAME --base-url URL --client-id ID`")
        return
    header = f"{'NAME':<24} {'STATUS':<7} {'LAST SYNC':<26} {'RESULT':<8} BASE URL"
    click.echo(header)
    for c in rows:
        last = c.last_synced_at.isoformat(timespec="seconds") if c.last_synced_at else "never"
        click.echo(f"{c.name:<24} {c.sync_status:<7} {last:<26} {c.last_sync_status or '-':<8} {c.base_url}")
        if c.sync_status == customers.PAUSED and c.last_sync_error:
            click.echo(f"{'':<24} paused because: {c.last_sync_error}")


@customers_group.command("pause")
@click.argument("name")
def pause_command(name: str) -> None:
    """Stop scheduled syncs of a customer."""
    with write_transaction(context.warehouse()) as conn:
        customers.set_status(conn, name, customers.PAUSED)
    click.echo(f"paused {name}: the hourly schedule skips it until `customers resume {name}`")


@customers_group.command("resume")
@click.argument("name")
def resume_command(name: str) -> None:
    """Re-enable scheduled syncs of a customer."""
    with write_transaction(context.warehouse()) as conn:
        customers.set_status(conn, name, customers.ACTIVE)
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
    from zuora_pipeline.defs.partitions import customers_partitions

    instance = context.dagster_instance()
    if instance.has_dynamic_partition(customers_partitions.name, name):
        instance.delete_dynamic_partition(customers_partitions.name, name)
    click.echo(f"removed {name}, its workflows, tasks and partition")
