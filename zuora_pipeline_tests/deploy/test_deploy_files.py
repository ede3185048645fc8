"""deploy/: the Dockerfiles pass hadolint, the compose file is valid Compose, and the Docker and Helm
deployments hold the production instance's limits and name the one code location the image
serves. No Docker engine or Kubernetes runs here: what they would do with these files is not
tested (the README says what is and is not verified)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import dagster as dg
import jsonschema
import pytest
import yaml

from zuora_pipeline_tests.test_dagster_instance import assert_dev_limits

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
PRODUCTION = yaml.safe_load((DEPLOY / "production" / "dagster.yaml").read_text())
HADOLINT = Path(sys.executable).with_name("hadolint")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _dockerfile_json(instruction: str) -> list[str]:
    """The exec-form arguments of the Dockerfile's (last) INSTRUCTION, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line for line in text.splitlines() if line.startswith(f"{instruction} ")]
    value = lines[-1].removeprefix(f"{instruction} ")
    if instruction == "HEALTHCHECK":
        value = value[value.index("CMD ") + 4 :]
    return list(json.loads(value))


def _served() -> tuple[str, str, int]:
    """The module, location name and port the image's code server serves."""
    cmd = _dockerfile_json("CMD")
    assert cmd[:3] == ["dagster", "code-server", "start"]
    return cmd[cmd.index("-m") + 1], cmd[cmd.index("--location-name") + 1], int(cmd[cmd.index("-p") + 1])


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.dagster"])
def test_the_dockerfiles_pass_hadolint(name: str) -> None:
    linted = subprocess.run([str(HADOLINT), str(DEPLOY / "docker" / name)], capture_output=True, text=True, check=False)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_user_code_image_serves_the_code_location_and_checks_its_health() -> None:
    module, location, port = _served()
    assert module == "zuora_pipeline.definitions"
    assert location == "zuora_pipeline"
    assert _dockerfile_json("HEALTHCHECK") == ["dagster", "api", "grpc-health-check", "-p", str(port)]
    assert f"EXPOSE {port}" in DOCKERFILE.read_text()
    text = DOCKERFILE.read_text()
    assert re.search(r"DAGSTER_CURRENT_IMAGE=\$\{IMAGE\}", text)
    assert "pip install --no-cache-dir -c /tmp/constraints.txt" in text  # the wheel with the constraints


def test_the_compose_file_is_valid_compose() -> None:
    schema = json.loads((files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text())
    jsonschema.validate(_load(DEPLOY / "docker" / "docker-compose.yml"), schema)


def test_compose_serves_the_images_code_location_over_grpc_with_what_each_service_reads() -> None:
    compose = _load(DEPLOY / "docker" / "docker-compose.yml")["services"]
    _, location, port = _served()
    (entry,) = _load(DEPLOY / "docker" / "workspace.yaml")["load_from"]
    assert entry == {"grpc_server": {"host": "zuora_pipeline_code", "port": port, "location_name": location}}
    code = compose["zuora_pipeline_code"]
    assert code["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert code["environment"]["DAGSTER_CURRENT_IMAGE"] == code["image"] == code["build"]["args"]["IMAGE"]
    daemon, webserver = compose["zuora_pipeline_daemon"], compose["zuora_pipeline_webserver"]
    assert daemon["entrypoint"][:2] == ["dagster-daemon", "run"]
    assert webserver["entrypoint"][0] == "dagster-webserver"
    instance = _load(DEPLOY / "docker" / "dagster.yaml")
    storage_vars = {v["env"] for v in instance["storage"]["postgres"]["postgres_db"].values() if isinstance(v, dict)}
    for service in (code, daemon, webserver):
        assert storage_vars <= set(service["environment"])
    # The daemon hands these to each run's container from its own environment.
    assert set(instance["run_launcher"]["config"]["env_vars"]) <= set(daemon["environment"])
    assert {"ZUORA_PIPELINE_DATABASE_URL", "ZUORA_PIPELINE_SECRET_KEY"} <= set(code["environment"])
    migrate = compose["zuora_pipeline_migrate"]
    assert migrate["command"] == ["zuora-pipeline", "db", "upgrade"]
    assert code["depends_on"]["zuora_pipeline_migrate"] == {"condition": "service_completed_successfully"}


def test_the_docker_instance_is_the_production_instance_with_dockers_run_launcher(
    tmp_path: Path, dagster_pg: str
) -> None:
    instance = _load(DEPLOY / "docker" / "dagster.yaml")
    assert instance.pop("run_launcher")["class"] == "DockerRunLauncher"
    assert instance == PRODUCTION
    (tmp_path / "dagster.yaml").write_text((DEPLOY / "docker" / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(tmp_path)) as loaded:
        assert type(loaded.run_launcher).__name__ == "DockerRunLauncher"
        assert_dev_limits(loaded)


def test_helm_values_deploy_the_image_with_the_production_instances_settings(tmp_path: Path, dagster_pg: str) -> None:
    values = _load(DEPLOY / "helm" / "values.yaml")
    module, location, port = _served()
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["codeServerArgs"] == ["-m", module, "--location-name", location]
    assert deployment["port"] == port
    assert deployment["envSecrets"] == [{"name": "zuora-pipeline"}]
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    # The chart writes storage, the run launcher and telemetry itself; every other setting of the
    # production file is passed through unchanged, and the chart's own switches for them are off.
    assert values["additionalInstanceConfig"] == {
        k: v for k, v in PRODUCTION.items() if k not in ("storage", "telemetry")
    }
    assert values["telemetry"] == PRODUCTION["telemetry"]
    daemon = values["dagsterDaemon"]
    assert not any(daemon[key]["enabled"] for key in ("runCoordinator", "runMonitoring", "runRetries"))
    assert not daemon["schedules"]["useThreads"] and not values["retention"]["enabled"]
    # The instance those settings make (on the production storage) has the limits.
    config = {"storage": PRODUCTION["storage"], **values["additionalInstanceConfig"], "telemetry": values["telemetry"]}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    with dg.DagsterInstance.from_config(str(tmp_path)) as loaded:
        assert_dev_limits(loaded)
