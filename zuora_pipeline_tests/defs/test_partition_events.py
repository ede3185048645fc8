"""Pins the one private Dagster record ``defs/partition_events.py`` builds, and what the sync's
definitions promise about runs of several customers."""

from __future__ import annotations

import inspect

import dagster as dg
import pytest

from zuora_pipeline import config
from zuora_pipeline.defs import partition_events
from zuora_pipeline.sync.results import CheckOutcome, Markdown, Materialization
from zuora_pipeline_tests.fixtures.keys import OPTIONS, SYNC_ASSETS, WORKFLOWS


def test_the_target_materialization_record_has_the_fields_we_fill():
    record = partition_events.AssetCheckEvaluationTargetMaterializationData
    built = record(storage_id=7, run_id="r", timestamp=1.5)
    assert (built.storage_id, built.run_id, built.timestamp) == (7, "r", 1.5)
    assert set(record.__annotations__) == {"storage_id", "run_id", "timestamp"}, (
        "Dagster changed the record: see defs/partition_events.py"
    )
    assert {"partition", "target_materialization_data", "blocking"} <= set(
        inspect.signature(dg.AssetCheckEvaluation).parameters
    )


def test_a_check_result_becomes_an_evaluation_of_its_partition():
    instance = dg.DagsterInstance.ephemeral()
    outcome = CheckOutcome("workflows", "matches_listing", passed=False, description="x", metadata={"n": 1})
    evaluation = partition_events.check_evaluation(instance, OPTIONS, outcome, "acme", blocking=True)
    assert (evaluation.partition, evaluation.passed, evaluation.blocking) == ("acme", False, True)
    assert evaluation.asset_key == WORKFLOWS and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.description == "x" and evaluation.metadata["n"].value == 1
    # Nothing materialized yet: no target.
    assert evaluation.target_materialization_data is None
    warning = CheckOutcome("workflow_exports", "exports_parse", passed=False, warn_only=True)
    assert partition_events.check_evaluation(instance, OPTIONS, warning, "acme", blocking=False).severity == (
        dg.AssetCheckSeverity.WARN
    )
    materialization = partition_events.materialization(
        OPTIONS, Materialization("workflows", {"changes": Markdown("| a |"), "sample": [1]}), "acme"
    )
    assert materialization.partition == "acme" and materialization.asset_key == WORKFLOWS
    assert isinstance(materialization.metadata["changes"], dg.MarkdownMetadataValue)
    assert isinstance(materialization.metadata["sample"], dg.JsonMetadataValue)


def test_backfills_put_customers_per_run_customers_in_each_run():
    from zuora_pipeline.definitions import defs

    policies = {defs.resolve_assets_def(key).backfill_policy for key in SYNC_ASSETS}
    assert policies == {dg.BackfillPolicy.multi_run(config.customers_per_run())}


@pytest.mark.parametrize(("raw", "expected"), [("", config.DEFAULT_CUSTOMERS_PER_RUN), ("1", 1), (" 25 ", 25)])
def test_customers_per_run_comes_from_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv(config.CUSTOMERS_PER_RUN_ENV, raw)
    assert config.customers_per_run() == expected


@pytest.mark.parametrize("raw", ["0", "101", "ten"])
def test_a_bad_customers_per_run_is_one_clear_error(monkeypatch, raw):
    monkeypatch.setenv(config.CUSTOMERS_PER_RUN_ENV, raw)
    with pytest.raises(ValueError, match="ZUORA_PIPELINE_CUSTOMERS_PER_RUN must be a whole number from 1 to 100"):
        config.customers_per_run()
