"""Static checks of deploy/: no Docker engine runs here, so check what can be checked.

YAML parses; compose has the services and wiring; Kubernetes manifests have their required
fields and a termination grace period longer than the worker's drain; the Dockerfile's COPY
sources exist; ``docker compose config`` validates when a compose client is present.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def _manifests() -> dict[str, dict[str, Any]]:
    return {
        p.name: doc
        for p in sorted(K8S.glob("*.yaml"))
        for doc in yaml.safe_load_all(p.read_text())
        if doc
    }


def _drain_seconds(args: list[str]) -> float:
    return float(args[args.index("--drain-seconds") + 1])


def test_every_yaml_file_parses() -> None:
    files = [*DEPLOY.glob("*.yml"), *DEPLOY.glob("*.yaml"), *K8S.glob("*.yaml")]
    assert len(files) >= 8
    for path in files:
        assert list(yaml.safe_load_all(path.read_text())), path


def test_compose_has_temporal_ui_postgres_and_worker() -> None:
    services = _compose()["services"]
    assert {"postgresql", "temporal", "temporal-ui", "worker", "migrate", "emulator"} <= set(
        services
    )
    worker = services["worker"]
    env = worker["environment"]
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    grace = int(worker["stop_grace_period"].rstrip("s"))
    assert grace > _drain_seconds(worker["command"])
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / services["migrate"]["build"]["context"]).resolve() == ROOT


def test_k8s_manifests_have_required_fields() -> None:
    docs = _manifests()
    for name, doc in docs.items():
        if name == "kustomization.yaml":
            continue
        assert {"apiVersion", "kind", "metadata"} <= set(doc), name
        assert doc["metadata"].get("name"), name
    kustomize = docs["kustomization.yaml"]
    for resource in kustomize["resources"]:
        assert (K8S / resource).exists(), resource
    assert "secret.example.yaml" not in kustomize["resources"]  # real secrets come from outside


def test_worker_deployment_drains_before_it_is_killed() -> None:
    deployment = _manifests()["worker-deployment.yaml"]
    assert deployment["kind"] == "Deployment"
    spec = deployment["spec"]
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] and container["args"][0] == "worker"
    assert pod["terminationGracePeriodSeconds"] > _drain_seconds(container["args"])
    sources = {next(iter(ref)): ref[next(iter(ref))]["name"] for ref in container["envFrom"]}
    assert sources == {"configMapRef": "letta-batch-config", "secretRef": "letta-batch-secrets"}


def test_hpa_targets_the_worker_and_secret_template_has_the_keys() -> None:
    docs = _manifests()
    hpa = docs["worker-hpa.yaml"]
    assert (
        hpa["spec"]["scaleTargetRef"]["name"] == docs["worker-deployment.yaml"]["metadata"]["name"]
    )
    assert hpa["spec"]["minReplicas"] >= 1 <= hpa["spec"]["maxReplicas"]
    secret = docs["secret.example.yaml"]
    assert {"DATABASE_URL", "ANTHROPIC_API_KEY"} <= set(secret["stringData"])
    assert "TEMPORAL_ADDRESS" in docs["configmap.yaml"]["data"]


def test_dockerfile_copy_sources_exist() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    copies = re.findall(r"^COPY\s+(?!--from)(.+)$", text, flags=re.MULTILINE)
    assert copies
    for line in copies:
        *sources, _dest = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY source {source} missing"
    assert "uv sync --frozen" in text
    assert re.search(r'^ENTRYPOINT \["letta-batch"\]', text, flags=re.MULTILINE)


def test_readme_explains_temporal_cloud_and_existing_clusters() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for word in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_TLS",
                 "terminationGracePeriodSeconds", "Temporal Cloud"):  # fmt: skip
        assert word in readme, word


def _compose_command() -> list[str] | None:
    """``docker compose`` (v2 plugin) or ``docker-compose`` (v1), whichever works here."""
    candidates = []
    if docker := shutil.which("docker"):
        candidates.append([docker, "compose"])
    if legacy := shutil.which("docker-compose"):
        candidates.append([legacy])
    for command in candidates:
        probe = subprocess.run([*command, "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return command
    return None


COMPOSE = _compose_command()


@pytest.mark.skipif(COMPOSE is None, reason="no docker compose client here")
def test_docker_compose_config_validates() -> None:
    # `config` only parses, validates and interpolates: it needs no engine.
    assert COMPOSE is not None
    result = subprocess.run(
        [*COMPOSE, "-f", str(DEPLOY / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
