"""Single exports: raw bytes, gzip, the version parameter, refused ids, required fields.

Many exports at once belong to a fetch (zuora_pipeline_tests/sync/test_fetch_exports.py)."""

import gzip
import json

import httpx
import pytest

from zuora_pipeline.zuora import (
    ZuoraValidationError,
)

from .fakes import FakeZuora, export_body, make_client


def test_export_workflow() -> None:
    fake = FakeZuora()
    with make_client(fake) as client:
        export = client.export_workflow("3")
    assert export.workflow_id == 3
    assert export.content == json.dumps(export_body(3)).encode()  # the raw bytes, not re-encoded
    assert export.data == export_body(3)
    assert export.model.tasks[0].id == 31 and export.model.workflow.id == 10_003
    req = fake.requests[-1]
    assert str(req.url).endswith("/workflows/3/export") and req.headers["accept-encoding"] == "gzip"


def test_export_version_param_and_gzip() -> None:
    fake = FakeZuora()
    raw = json.dumps(export_body(2)).encode()
    fake.add_fault(
        lambda r: (
            httpx.Response(200, stream=httpx.ByteStream(gzip.compress(raw)), headers={"Content-Encoding": "gzip"})
            if r.url.path == "/workflows/2/export"
            else None
        )
    )
    with make_client(fake) as client:
        client.get_workflow(1)
        before = client.metrics.bytes_received
        export = client.export_workflow(2, version="0.0.2")
    assert export.content == raw  # decompressed, byte for byte
    assert fake.requests[-1].url.params["version"] == "0.0.2"
    assert 0 < client.metrics.bytes_received - before < len(raw)  # counted compressed, as on the wire


@pytest.mark.parametrize("bad", ["1/../x", "abc", True, 1.5])
def test_bad_ids_never_reach_a_url(bad: object) -> None:
    fake = FakeZuora()
    with make_client(fake) as client, pytest.raises(ValueError):
        client.export_workflow(bad)  # type: ignore[arg-type]
    assert fake.requests == []


def test_export_task_without_id_is_validation_error() -> None:
    fake = FakeZuora()
    fake.add_fault(
        lambda r: (
            httpx.Response(200, json={"workflow": {"id": 1}, "tasks": [{"name": "x"}]})
            if r.url.path.endswith("/export")
            else None
        )
    )
    with (
        make_client(fake) as client,
        pytest.raises(ZuoraValidationError, match="workflow 4: required field 'tasks.0.id'"),
    ):
        client.export_workflow(4)
