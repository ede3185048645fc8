"""The package's optional extras (``pip install 'zuora-pipeline[NAME]'``) and the one line a
command prints when the extra it needs is not installed.

The code location and the CLI's warehouse, customer and sync commands need none of them: the
Dagster UI, the simulator, the bench and the pure-Python diagram layout do. setup.py lists each
extra's requirements; this table maps the modules they provide back to the extra's name.
"""

from __future__ import annotations

EXTRA_OF_MODULE = {
    "dagster_webserver": "ui",
    "uvicorn": "simulator",
    "psutil": "bench",
    "grandalf": "diagrams",
    "PIL": "diagrams",
    "starlette": "browser",
    "jinja2": "browser",
    "markupsafe": "browser",
    "dagster_k8s": "k8s",
    "dagster_docker": "docker",
    "dagster_aws": "aws",
}


def missing_extra(exc: ModuleNotFoundError, extra: str | None = None) -> str | None:
    """The line to show instead of ``exc`` when the missing module belongs to an extra (or to
    ``extra``, the one the command needs), else None (a missing module that is no extra's is a
    broken installation: its traceback stays)."""
    module = (exc.name or "").partition(".")[0]
    extra = extra or EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    return (
        f"this command needs the optional `{extra}` extra ({module} is not installed): "
        f"pip install 'zuora-pipeline[{extra}]'"
    )
