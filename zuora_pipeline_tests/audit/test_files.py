"""``workflows export``: one canonical JSON file per live workflow plus an index, for git.
Exporting again with no change writes nothing (same bytes, same mtimes); an edit in the
simulator and a re-sync rewrite exactly that workflow's file; a renamed workflow's old file goes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zuora_pipeline.audit.files import INDEX_NAME, canonical_json, file_name, slug
from zuora_pipeline.cli import main


def _export(*args: str) -> Any:
    return CliRunner().invoke(main, ["workflows", "export", *args])


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def test_slugs_and_canonical_json() -> None:
    assert slug("Invoice sync #2 (EU)") == "invoice-sync-2-eu"
    assert slug("Création du paiement — été") == "creation-du-paiement-ete"
    assert slug("<img src=x onerror=alert(1)>") == "img-src-x-onerror-alert-1"
    assert slug("¿¡!") == "workflow"
    assert len(slug("x" * 500)) == 60
    assert file_name(1042, "../../etc/passwd") == "1042-etc-passwd.json"
    assert canonical_json({"b": [2, {"d": 1, "c": "é"}], "a": None}) == (
        '{\n  "a": null,\n  "b": [\n    2,\n    {\n      "c": "é",\n      "d": 1\n    }\n  ]\n}\n'.encode()
    )


@pytest.fixture
def synced(pipeline: Any, sim_tenant: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    tenant = sim_tenant(workflows=12, tasks=4)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    return {"pipeline": pipeline, "tenant": tenant.name, "customer": name}


def test_export_writes_one_canonical_file_per_workflow_and_rewrites_nothing_unchanged(
    synced: dict[str, Any], tmp_path: Path
) -> None:
    pipeline, customer, tenant = synced["pipeline"], synced["customer"], synced["tenant"]
    out = tmp_path / "repo" / customer
    result = _export(customer, "-o", str(out))
    assert result.exit_code == 0, result.output
    truth = pipeline.simulator.admin.truth(tenant)
    exported = {zid: item for zid, item in truth.items() if item["export"] is not None}
    expected_files = {file_name(zid, item["list_item"]["name"]) for zid, item in exported.items()}
    assert {p.name for p in out.iterdir()} == expected_files | {INDEX_NAME}
    stored = pipeline.rows(customer)
    for zid, item in exported.items():
        content = (out / file_name(zid, item["list_item"]["name"])).read_bytes()
        assert content == canonical_json(stored[zid]["json_export"])
        assert json.loads(content) == item["export"]
    index = json.loads((out / INDEX_NAME).read_text())
    assert index["customer"] == customer
    assert [e["id"] for e in index["workflows"]] == sorted(truth)
    blank = [e for e in index["workflows"] if e["file"] is None]
    assert {e["id"] for e in blank} == set(truth) - set(exported) and blank
    assert f"{len(exported)} workflow files" in result.output

    before = _snapshot(out)
    again = _export(customer, "-o", str(out))
    assert again.exit_code == 0 and "0 written" in again.output, again.output
    assert _snapshot(out) == before

    # An edit in Zuora and a re-sync: only that workflow's file changes; a rename moves it.
    edited, renamed = sorted(exported)[:2]
    export = copy.deepcopy(truth[edited]["export"])
    export["workflow"]["priority"] = "High" if export["workflow"]["priority"] != "High" else "Low"
    pipeline.simulator.admin.set_export(tenant, edited, export)
    pipeline.simulator.admin.update_workflow(tenant, renamed, name="Renamed for git")
    assert pipeline.sync(customer).success
    third = _export(customer, "-o", str(out))
    assert third.exit_code == 0, third.output
    after = _snapshot(out)
    old_name = file_name(renamed, truth[renamed]["list_item"]["name"])
    new_name = file_name(renamed, "Renamed for git")
    edited_name = file_name(edited, truth[edited]["list_item"]["name"])
    assert old_name not in after and new_name in after
    changed = {name for name in after if name not in before or after[name] != before[name]}
    assert changed == {edited_name, new_name, INDEX_NAME}
    assert json.loads(after[edited_name][0])["workflow"]["priority"] == export["workflow"]["priority"]


def test_export_of_chosen_workflows_keeps_the_others(synced: dict[str, Any], tmp_path: Path) -> None:
    customer, tenant = synced["customer"], synced["tenant"]
    truth = synced["pipeline"].simulator.admin.truth(tenant)
    first, second = sorted(zid for zid, item in truth.items() if item["export"])[:2]
    out = tmp_path / "some"
    assert _export(customer, "--workflow", str(first), "-o", str(out)).exit_code == 0
    assert {p.name for p in out.iterdir()} == {file_name(first, truth[first]["list_item"]["name"]), INDEX_NAME}
    assert _export(customer, "--workflow", str(second), "-o", str(out)).exit_code == 0
    index = json.loads((out / INDEX_NAME).read_text())
    assert [e["id"] for e in index["workflows"]] == [first, second]
    assert len(list(out.glob("*.json"))) == 3


def test_bad_input_is_one_line_and_writes_nothing(synced: dict[str, Any], tmp_path: Path) -> None:
    customer = synced["customer"]
    out = tmp_path / "none"
    unknown = _export(customer, "--workflow", "999999", "-o", str(out))
    assert unknown.exit_code == 2 and "999999" in unknown.output
    assert len(unknown.output.strip().splitlines()) == 1 and not out.exists()
    nobody = _export("no-such-customer", "-o", str(out))
    assert nobody.exit_code == 2 and len(nobody.output.strip().splitlines()) == 1 and not out.exists()
    # A directory holding another customer's export is not mixed with this one.
    other = tmp_path / "other"
    other.mkdir()
    (other / INDEX_NAME).write_text(json.dumps({"customer": "someone-else", "workflows": []}))
    refused = _export(customer, "-o", str(other))
    assert refused.exit_code == 2 and "someone-else" in refused.output
    assert [p.name for p in other.iterdir()] == [INDEX_NAME]
