"""Contract test: the simulator's responses validate against Zuora's published OpenAPI schemas.

The Swagger 2.0 definitions are converted to JSON Schema here: ``#/definitions/...`` refs are
kept (they resolve inside the converted document) and every typed field is made nullable,
because Zuora's own examples put null in string and enum fields. The one further relaxation is
``Linkage.linkage_type``: the server stores it as a free string ("For Each", "Case_1", ...)
although the spec declares an enum, so its enum is dropped.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from zuora_pipeline_tests.simulator.support import OPENAPI_DIR, api_client

pytestmark = pytest.mark.timeout(60)

_SWAGGER_ONLY = {
    "example",
    "examples",
    "format",
    "x-konfig-properties",
    "discriminator",
    "readOnly",
    "xml",
    "externalDocs",
}


def _load(name: str) -> dict[str, Any]:
    path = OPENAPI_DIR / name
    if not path.exists():
        pytest.fail(f"Zuora's OpenAPI file is missing: {path} (kept in zuora_pipeline_tests/fixtures/zuora_openapi/)")
    return yaml.safe_load(path.read_text())


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: _nullable(value) for key, value in node.items() if key not in _SWAGGER_ONLY and not key.startswith("x-")
    }
    if "properties" in node:  # property names are data, not keywords: keep them all
        out["properties"] = {name: _nullable(schema) for name, schema in node["properties"].items()}
    if isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _schema_document(spec: dict[str, Any]) -> dict[str, Any]:
    definitions = _nullable(copy.deepcopy(spec.get("definitions", {})))
    linkage = definitions.get("Linkage", {}).get("properties", {}).get("linkage_type")
    if linkage is not None:
        linkage.pop("enum", None)
    return {"definitions": definitions}


def _response_schema(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    responses = spec["paths"][path][method]["responses"]
    ok = responses.get("200") or responses.get(200)
    return ok["schema"]


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    document = _schema_document(spec)
    root = {**document, **_nullable(copy.deepcopy(schema))}
    jsonschema.Draft7Validator.check_schema(root)
    return jsonschema.Draft7Validator(root)


@pytest.fixture(scope="module")
def workflows_spec() -> dict[str, Any]:
    return _load("zuora-workflows-api-openapi.yml")


@pytest.fixture(scope="module")
def oauth_spec() -> dict[str, Any]:
    return _load("zuora-oauth-api-openapi.yml")


ENDPOINT_PATHS = {
    "list": "/workflows",
    "get": "/workflows/{workflow_id}",
    "export": "/workflows/{workflow_id}/export",
    "versions": "/workflows/{workflow_id}/versions",
}


def test_the_spec_names_the_schemas_we_expect(workflows_spec, oauth_spec):
    names = {
        key: _response_schema(workflows_spec, path, "get")["$ref"].rsplit("/", 1)[1]
        for key, path in ENDPOINT_PATHS.items()
    }
    assert names == {
        "list": "GetWorkflowsResponse",
        "get": "WorkflowDefinition",
        "export": "ExportWorkflowVersionResponse",
        "versions": "GetVersionsResponse",
    }
    assert _response_schema(oauth_spec, "/oauth/token", "post")["$ref"] == "#/definitions/tokenResponse"


def test_spec_examples_validate_under_the_relaxation(workflows_spec, oauth_spec):
    """Guards the converter: Zuora's own examples must pass (they are what the real API returns)."""
    for path in ENDPOINT_PATHS.values():
        ok = workflows_spec["paths"][path]["get"]["responses"]["200"]
        example = ok.get("examples", {}).get("application/json")
        if example is not None:
            _validator(workflows_spec, ok["schema"]).validate(example)
    token = oauth_spec["paths"]["/oauth/token"]["post"]["responses"][200]
    _validator(oauth_spec, token["schema"]).validate(token["examples"]["application/json"])


def test_the_validator_is_not_vacuous(workflows_spec):
    validator = _validator(workflows_spec, _response_schema(workflows_spec, "/workflows", "get"))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"data": [{"id": "not-an-int"}], "pagination": {}})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"data": [{"id": 1, "latest_inactive_verisons": [{"type": "Workflow::Bogus"}]}]})


@pytest.mark.parametrize("no_active", ["null", "empty", "missing"])
@pytest.mark.parametrize("last_page_next", ["omit", "null", "empty"])
def test_simulator_responses_validate(
    simulator, sim_admin_reset, workflows_spec, oauth_spec, no_active, last_page_next
):
    sim_admin_reset.set_options(no_active_version_repr=no_active, last_page_next=last_page_next)
    validators = {
        key: _validator(workflows_spec, _response_schema(workflows_spec, path, "get"))
        for key, path in ENDPOINT_PATHS.items()
    }
    tenant = simulator.admin.tenant("tenant-1")
    token = httpx.post(
        f"{simulator.base_url}/oauth/token",
        data={"client_id": tenant.client_id, "client_secret": tenant.client_secret, "grant_type": "client_credentials"},
    )
    _validator(oauth_spec, _response_schema(oauth_spec, "/oauth/token", "post")).validate(token.json())
    exports = 0
    with api_client(simulator.base_url, tenant) as client:
        url: str | None = "/workflows?page=1&page_length=8"
        while url:
            page = client.get(url).json()
            validators["list"].validate(page)
            for item in page["data"]:
                workflow_id = item["id"]
                validators["get"].validate(client.get(f"/workflows/{workflow_id}").json())
                validators["versions"].validate(client.get(f"/workflows/{workflow_id}/versions").json())
                export = client.get(f"/workflows/{workflow_id}/export", params={"version": "latest"})
                validators["export"].validate(export.json())
                exports += 1
            url = page["pagination"].get("next_page") or None
    assert exports == 20
