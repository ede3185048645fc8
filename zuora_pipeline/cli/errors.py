"""Known failures -> ``Error: <one line>`` and exit 1."""

from __future__ import annotations

from typing import Any

import click

from zuora_pipeline.crypto import SecretKeyError
from zuora_pipeline.warehouse.customers import CustomerError
from zuora_pipeline.warehouse.migrate import SchemaMissingError
from zuora_pipeline.zuora import ZuoraError

EXPECTED: tuple[type[BaseException], ...] = (
    CustomerError,
    SecretKeyError,
    SchemaMissingError,
    ZuoraError,
)


class ReadableErrorsGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EXPECTED as exc:
            raise click.ClickException(str(exc)) from None
        except Exception as exc:  # SQLAlchemy connection errors and the like
            import sqlalchemy.exc

            if isinstance(exc, sqlalchemy.exc.OperationalError):
                raise click.ClickException(
                    f"cannot reach the warehouse: {str(exc.orig).strip().splitlines()[0]}"
                ) from None
            raise
