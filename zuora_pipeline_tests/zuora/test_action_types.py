"""The one list of action types is the spec's ``Task.action_type`` enum, and the simulator draws
its tasks from it."""

from __future__ import annotations

from zuora_pipeline.simulator.catalog import ACTION_TYPES as SIMULATED
from zuora_pipeline.zuora.action_types import ACTION_TYPES
from zuora_pipeline_tests.fixtures.openapi import WORKFLOWS_SPEC, spec_enum


def test_the_action_types_are_the_specs() -> None:
    assert list(ACTION_TYPES) == spec_enum(WORKFLOWS_SPEC, "Task", "action_type")


def test_the_simulator_uses_documented_action_types() -> None:
    assert set(SIMULATED) <= set(ACTION_TYPES)
