"""One dynamic partition per customer: its key is the customer's ``name``."""

import warnings
from typing import Any

import dagster as dg

customers_partitions = dg.DynamicPartitionsDefinition(name="customers")


def customer_check(name: str, *, asset: dg.AssetKey, **kwargs: Any) -> dg.AssetCheckSpec:
    """An asset check evaluated and stored per customer partition.

    Without a ``partitions_def`` every evaluation is stored with no partition, so the Checks tab
    would show only whichever customer ran last and a healthy customer's run would hide a broken
    one. Partitioned checks are a preview feature in Dagster 1.13 and warn (``PreviewWarning``) on
    every load of the definitions: this is the one place that silences it, because we rely on it
    on purpose and ``zuora_pipeline_tests/defs/test_checks.py`` pins the behaviour we use (each
    partition keeps its own latest result, in the storage the UI's per-partition status reads).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset, partitions_def=customers_partitions, **kwargs)
