"""``zuora-pipeline secret-key``: a new key, and ``secret-key rotate``.

Rotating ZUORA_PIPELINE_SECRET_KEY without downtime: set it to ``NEW,OLD`` (newest first) on every
process that reads secrets (the code server, the run workers, the CLI), then ``secret-key rotate``
re-encrypts every stored client secret with NEW in one transaction, then set it to ``NEW`` alone.
Neither command prints a stored secret; ``rotate`` prints no key either.
"""

from __future__ import annotations

import click

from zuora_pipeline import config
from zuora_pipeline.crypto import new_key


@click.group("secret-key", invoke_without_command=True)
@click.pass_context
def secret_key_group(ctx: click.Context) -> None:
    """Print a new Fernet key for ZUORA_PIPELINE_SECRET_KEY (`secret-key rotate` re-encrypts with the newest)."""
    if ctx.invoked_subcommand is None:
        click.echo(new_key())


@secret_key_group.command("rotate")
def rotate_command() -> None:
    """Re-encrypt every stored client secret with the first key of ZUORA_PIPELINE_SECRET_KEY.

    Set the variable to NEW,OLD (newest first) everywhere before, and to NEW alone after: each
    secret is decrypted with whichever key it was stored with. All secrets change in one
    transaction, or none (a secret no key decrypts stops it, naming the customer).
    """
    from zuora_pipeline.cli import context
    from zuora_pipeline.warehouse import customers
    from zuora_pipeline.warehouse.transactions import write_transaction

    box = config.secret_box()
    with write_transaction(context.warehouse()) as conn:
        count = customers.reencrypt_secrets(conn, lambda token, name: box.rotate(token, customer=name))
    secrets = f"{count} client secret{'s' if count != 1 else ''}"
    click.echo(f"re-encrypted {secrets} with the first of the {box.key_count} keys in {config.SECRET_KEY_ENV}")
    if box.key_count > 1:
        click.echo(f"once every process has the new key, remove the older ones from {config.SECRET_KEY_ENV}")
