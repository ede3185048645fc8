"""Every error that escapes a command -> one line on stderr (``Error: <line>``, or a JSON record
with ``--log-format json``) and a non-zero exit code, never a traceback.

Known causes get their own line: the project's typed errors, bad usage (click's message and where
the help is), an unreachable warehouse, a file that cannot be written, a port in use. Anything
else is shown as its type and first line; ``--debug`` (or ZUORA_PIPELINE_DEBUG=1) lets the
traceback through instead.
"""

from __future__ import annotations

import errno
import functools
import os
from collections.abc import Sequence
from typing import IO, Any

import click

from zuora_pipeline.cli import console

DEBUG_ENV = "ZUORA_PIPELINE_DEBUG"
_DEBUG_HINT = f"run with --debug (or {DEBUG_ENV}=1) for the traceback"


@functools.cache
def expected_errors() -> tuple[type[BaseException], ...]:
    """The project's typed errors, each shown as its own message. Imported when a command fails,
    not when the CLI starts: their modules bring in SQLAlchemy, httpx, pydantic and cryptography."""
    from zuora_pipeline.crypto import SecretKeyError
    from zuora_pipeline.dagster_instance import DagsterHomeError
    from zuora_pipeline.warehouse.customers import CustomerError
    from zuora_pipeline.warehouse.engine import DatabaseUrlError
    from zuora_pipeline.warehouse.history import HistoryError
    from zuora_pipeline.warehouse.migrate import SchemaMissingError
    from zuora_pipeline.zuora import ZuoraError

    return (
        CustomerError,
        DagsterHomeError,
        SecretKeyError,
        SchemaMissingError,
        ZuoraError,
        DatabaseUrlError,
        HistoryError,
    )


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""


class Problems(click.ClickException):
    """One or more failures found before or while a command ran: each is shown as its own line."""

    def __init__(self, problems: Sequence[str], *, exit_code: int = 1) -> None:
        self.problems = [_first_line(p) or "failed" for p in problems]
        super().__init__("; ".join(self.problems))
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it per class; ours varies

    def show(self, file: IO[Any] | None = None) -> None:
        for problem in self.problems:
            console.error(problem)


def usage_problem(exc: click.UsageError) -> Problems:
    """click's message, and the command whose --help says more: one line, not click's three."""
    message = _first_line(exc.format_message()).rstrip(".")
    where = f"; see `{exc.ctx.command_path} --help`" if exc.ctx is not None else ""
    return Problems([f"{message}{where}"], exit_code=exc.exit_code)


def _os_error(exc: OSError) -> str | None:
    if exc.errno == errno.EADDRINUSE:
        return "the address is already in use: another process listens on that port (stop it or choose another port)"
    if exc.filename is None:
        return None
    path = os.fsdecode(exc.filename)
    reason = (exc.strerror or type(exc).__name__).lower()
    parent = os.path.dirname(os.path.abspath(path))
    if exc.errno == errno.ENOENT and not os.path.isdir(parent):
        return f"{path}: directory {parent} does not exist"
    return f"{path}: {reason}"


def describe(exc: Exception) -> str:
    """The one line shown for an error that escaped a command."""
    import sqlalchemy.exc  # the warehouse's errors; SQLAlchemy is loaded by then if it raised them

    from zuora_pipeline import config
    from zuora_pipeline.warehouse.engine import DatabaseUrlError

    if isinstance(exc, DatabaseUrlError) and config.is_set(config.DATABASE_URL_ENV):
        return f"{config.DATABASE_URL_ENV}: {exc}"
    if isinstance(exc, expected_errors()):
        return str(exc)
    if isinstance(exc, sqlalchemy.exc.OperationalError):
        return f"cannot reach the warehouse: {_first_line(str(exc.orig))}"
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        return f"the warehouse refused a statement: {_first_line(str(exc.orig))}"
    if isinstance(exc, OSError):
        known = _os_error(exc)
        if known:
            return known
    text = _first_line(str(exc))
    return f"{type(exc).__name__}{': ' + text if text else ''} ({_DEBUG_HINT})"


class ReadableErrorsGroup(click.Group):
    """The root group: whatever a command raises ends here."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (Problems, click.exceptions.Exit, click.Abort, click.exceptions.NoArgsIsHelpError):
            raise  # NoArgsIsHelpError: a group without its command shows its help
        except click.UsageError as exc:
            raise usage_problem(exc) from None
        except click.ClickException as exc:  # shown our way (e.g. as JSON), with its own exit code
            raise Problems([exc.format_message()], exit_code=exc.exit_code) from None
        except ModuleNotFoundError as exc:
            from zuora_pipeline.extras import missing_extra

            missing = missing_extra(exc)
            if missing is None:
                raise
            raise Problems([missing]) from None
        except Exception as exc:
            if ctx.find_root().params.get("debug"):  # --debug or ZUORA_PIPELINE_DEBUG=1
                raise
            raise Problems([describe(exc)]) from None
