"""Known failures -> one line each on stderr (``Error: <line>``, or a JSON record) and exit 1."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import IO, Any

import click

from zuora_pipeline.cli import console


@functools.cache
def expected_errors() -> tuple[type[BaseException], ...]:
    """The project's typed errors, each shown as one line. Imported when a command fails, not
    when the CLI starts: their modules bring in SQLAlchemy, httpx, pydantic and cryptography."""
    from zuora_pipeline.crypto import SecretKeyError
    from zuora_pipeline.dagster_instance import DagsterHomeError
    from zuora_pipeline.warehouse.customers import CustomerError
    from zuora_pipeline.warehouse.migrate import SchemaMissingError
    from zuora_pipeline.zuora import ZuoraError

    return (CustomerError, DagsterHomeError, SecretKeyError, SchemaMissingError, ZuoraError)


class Problems(click.ClickException):
    """One or more failures found before or while a command ran: each is shown as its own line."""

    def __init__(self, problems: Sequence[str], *, exit_code: int = 1) -> None:
        self.problems = [p.strip().splitlines()[0] if p.strip() else "failed" for p in problems]
        super().__init__("; ".join(self.problems))
        self.exit_code = exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        for problem in self.problems:
            console.error(problem)


class ReadableErrorsGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (Problems, click.UsageError):
            raise
        except click.ClickException as exc:  # shown our way (e.g. as JSON), with its own exit code
            raise Problems([exc.format_message()], exit_code=exc.exit_code) from None
        except ModuleNotFoundError as exc:
            from zuora_pipeline.extras import missing_extra

            missing = missing_extra(exc)
            if missing is None:
                raise
            raise Problems([missing]) from None
        except Exception as exc:
            if isinstance(exc, expected_errors()):
                raise Problems([str(exc)]) from None
            import sqlalchemy.exc  # connection errors and the like

            if isinstance(exc, sqlalchemy.exc.OperationalError):
                raise Problems([f"cannot reach the warehouse: {str(exc.orig).strip().splitlines()[0]}"]) from None
            raise
