"""Exit codes of the audit commands (``workflows diff``, ``compare``, ...), which scripts and CI
gates branch on, like diff(1): 0 identical, 1 different, 2 trouble."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from zuora_pipeline.cli.errors import describe

IDENTICAL, DIFFERENT, TROUBLE = 0, 1, 2


class TroubleError(click.ClickException):
    exit_code = TROUBLE


@contextmanager
def trouble_exits_2() -> Iterator[None]:
    """Every failure in the block becomes one line on stderr and exit code 2 (not 1, which here
    means "they differ"); with --debug an unexpected one shows its traceback."""
    try:
        yield
    except click.ClickException:
        raise
    except Exception as exc:
        context = click.get_current_context(silent=True)
        if context is not None and context.find_root().params.get("debug"):
            raise
        raise TroubleError(describe(exc)) from None


def echo_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str))
