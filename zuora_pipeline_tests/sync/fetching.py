"""Running a `Fetch` without a warehouse: the staged exports collected in a list."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable

from zuora_pipeline.sync.fetch import EXPORT_BATCH, Fetch, Stored
from zuora_pipeline.warehouse.raw import RawExport
from zuora_pipeline.zuora import ZuoraClient


def new_fetch(
    client: ZuoraClient,
    *,
    expected: int | None = None,
    stored_ids: Iterable[int] = (),
    write: Callable[[list[RawExport]], None] | None = None,
    batch_size: int = EXPORT_BATCH,
    cancel: threading.Event | None = None,
) -> tuple[Fetch, list[RawExport]]:
    """A fetch over ``client`` as if the warehouse held ``stored_ids`` (with no export) and a last
    listing of ``expected`` entries; what it stages is collected in the returned list unless
    ``write`` takes it."""
    staged: list[RawExport] = []
    fetch = Fetch(
        client,
        Stored(fingerprints={}, live=frozenset(stored_ids), listing_length=expected),
        write=write or staged.extend,
        batch_size=batch_size,
        cancel=cancel,
    )
    return fetch, staged


def listed_ids(fetch: Fetch) -> list[int]:
    """The workflow ids of the fetch's pages, in listing order."""
    return [int(item["id"]) for page in fetch.pages for item in json.loads(page.body)["data"]]


def fetch_threads(customer: str) -> list[threading.Thread]:
    """The threads of a fetch of ``customer`` still alive."""
    return [t for t in threading.enumerate() if t.name.startswith(f"fetch-{customer}-")]
