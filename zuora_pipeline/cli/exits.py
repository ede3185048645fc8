"""Exit codes of the audit commands (``workflows diff``, ``compare``, ...), which scripts and CI
gates branch on, like diff(1): 0 identical, 1 different, 2 trouble."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import sqlalchemy.exc

from zuora_pipeline.cli.errors import expected_errors
from zuora_pipeline.warehouse.history import HistoryError

IDENTICAL, DIFFERENT, TROUBLE = 0, 1, 2


class TroubleError(click.ClickException):
    exit_code = TROUBLE


@contextmanager
def trouble_exits_2() -> Iterator[None]:
    """Every expected failure becomes one line on stderr and exit code 2 (not click's 1, which
    here means "they differ")."""
    try:
        yield
    except (*expected_errors(), HistoryError) as exc:
        raise TroubleError(str(exc).strip("'\"")) from None
    except sqlalchemy.exc.OperationalError as exc:
        raise TroubleError(f"cannot reach the warehouse: {str(exc.orig).strip().splitlines()[0]}") from None


def echo_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str))
