"""Static checks of the container deployment: docker-compose.yml, Dockerfile and .dockerignore.

No Docker engine is needed: the files are parsed (PyYAML, tomllib, a small Dockerfile reader) and
checked against the code they must agree with: the names the Settings model reads, the console
script pyproject declares, the packages the wheel ships and the hash-pinned lock.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from pydantic import AliasChoices, AliasPath

from caseflow.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"
LOCKFILE = ROOT / "requirements.lock"
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"

TEMPORAL = "temporal"
TEMPORAL_UI = "temporal-ui"
EVENTSTORE = "eventstore"
# caseflow's own services and the `caseflow` subcommand each one runs.
OUR_SERVICES = {
    "migrate": "migrate",
    "worker": "worker",
    "api": "api",
    "projector": "projector",
}
ENV_ANCHOR = "x-caseflow-env"
# What a container's API must bind to be reachable through its published port.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _alias_names(alias: object) -> list[str]:
    if isinstance(alias, str):
        return [alias]
    if isinstance(alias, AliasPath):
        return [alias.path[0]] if isinstance(alias.path[0], str) else []
    if isinstance(alias, AliasChoices):
        return [name for choice in alias.choices for name in _alias_names(choice)]
    return []


def settings_env_names() -> dict[str, str]:
    """Every environment variable name the Settings model reads, mapped to its field.

    As pydantic-settings resolves them: a field with an alias is read under its alias names
    only; any other field under env_prefix + field name. Names are upper-cased when the model
    is case-insensitive (its default).
    """
    prefix = Settings.model_config.get("env_prefix", "")
    case_sensitive = Settings.model_config.get("case_sensitive", False)
    names: dict[str, str] = {}
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        choices = _alias_names(alias) if alias is not None else [prefix + field_name]
        for choice in choices:
            names[choice if case_sensitive else choice.upper()] = field_name
    return names


def _norm(name: str) -> str:
    return name if Settings.model_config.get("case_sensitive", False) else name.upper()


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: str) -> str:
    """Compose's variable interpolation, for an environment that holds only required secrets.

    `${VAR:-default}` gives the default, `${VAR:?message}` (a variable compose insists on) a
    stand-in value, a plain `${VAR}` nothing (compose substitutes an empty string), `$$` a `$`.
    """

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("name") or match.group("bare")
        op = match.group("op") or ""
        if op.endswith("-"):
            return match.group("arg")
        if op.endswith("?"):
            return f"secret-{name.lower().replace('_', '-')}"
        return ""

    return _VARIABLE.sub(substitute, value)


def referenced_variables(value: str) -> set[str]:
    return {
        m.group("name") or m.group("bare")
        for m in _VARIABLE.finditer(value)
        if not m.group("escaped")
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as raw (not interpolated) strings."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {key: "" if value is None else str(value) for key, value in env.items()}


def argv(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def host_port(address: str) -> tuple[str | None, int | None]:
    parts = urlsplit(address if "://" in address else f"//{address}")
    return parts.hostname, parts.port


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line = (pending + line).strip()
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    if pending:
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def exec_form(arguments: str) -> list[str]:
    """A CMD/ENTRYPOINT's argv; only the JSON (exec) form is accepted: it gets the signals."""
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError:
        parsed = None
    assert isinstance(parsed, list), f"use the exec (JSON) form, not: {arguments}"
    assert all(isinstance(item, str) for item in parsed)
    return parsed


def env_assignments(arguments: str) -> dict[str, str]:
    """The variables an `ENV k=v k2=v2` instruction sets (the legacy `ENV k v` form too)."""
    words = shlex.split(arguments)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words)


def base_image(arguments: str, args: dict[str, str]) -> str:
    image = arguments.split()[0]
    if image.startswith("--platform"):
        image = arguments.split()[1]
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = compose.get("services")
    assert isinstance(result, dict), "docker-compose.yml has no services mapping"
    assert result, "docker-compose.yml defines no services"
    return result


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text())


# --------------------------------------------------------------------------------------------
# the helpers themselves
# --------------------------------------------------------------------------------------------


def test_settings_env_names_follow_pydantic_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    names = settings_env_names()
    assert {"DATABASE_URL", "TEMPORAL_ADDRESS", "CASEFLOW_API_HOST"} <= set(names)
    assert "API_HOST" not in names
    assert "CASEFLOW_DATA_DIR" in names
    # Each derived name really is read by the model.
    for name, field in names.items():
        info = Settings.model_fields[field]
        if info.annotation not in (str, str | None) or info.metadata:
            continue  # only free-form strings take an arbitrary probe value
        for other in list(os.environ):
            if _norm(other) in names:
                monkeypatch.delenv(other)
        monkeypatch.setenv(name, "probe-value")
        assert getattr(Settings(), field) == "probe-value", name
        monkeypatch.delenv(name)


def test_interpolate_mirrors_compose() -> None:
    assert interpolate("${A:-x}/${B-y}/$${C}/${D}/$E") == "x/y/${C}//"
    assert interpolate("u:${PW:?set PW (see docs)}@h") == "u:secret-pw@h"
    assert referenced_variables("${A:?m} $$B ${C:-d}") == {"A", "C"}


# --------------------------------------------------------------------------------------------
# docker-compose.yml
# --------------------------------------------------------------------------------------------


def test_every_service_the_stack_needs_exists(services: dict[str, dict[str, Any]]) -> None:
    needed = {TEMPORAL, TEMPORAL_UI, EVENTSTORE, *OUR_SERVICES}
    assert needed <= set(services), f"missing: {sorted(needed - set(services))}"
    temporal_db = environment(services[TEMPORAL]).get("POSTGRES_SEEDS")
    assert temporal_db in services, "Temporal's POSTGRES_SEEDS must name its database service"


def test_temporal_runs_on_its_own_postgresql(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    temporal = services[TEMPORAL]
    env = environment(temporal)
    assert str(temporal["image"]).startswith("temporalio/auto-setup:")
    assert env.get("DB") in {"postgres12", "postgres12_pgx"}
    db_name = env["POSTGRES_SEEDS"]
    assert db_name != EVENTSTORE, "Temporal and the event store need separate PostgreSQL servers"
    db = services[db_name]
    db_env = environment(db)
    assert str(db["image"]).startswith("postgres:")
    assert env.get("DB_PORT", "5432") == "5432"
    assert env["POSTGRES_USER"] == db_env["POSTGRES_USER"]
    # The same secret on both sides, never a literal.
    assert referenced_variables(env["POSTGRES_PWD"]) == referenced_variables(
        db_env["POSTGRES_PASSWORD"]
    )
    assert referenced_variables(env["POSTGRES_PWD"])
    assert TEMPORAL in {d for d in (services[TEMPORAL_UI].get("depends_on") or {})}

    def data_volume(service: dict[str, Any]) -> str:
        for volume in service.get("volumes") or []:
            source, _, target = str(volume).partition(":")
            if target.startswith("/var/lib/postgresql"):
                return source
        raise AssertionError("no data volume")

    temporal_volume, eventstore_volume = data_volume(db), data_volume(services[EVENTSTORE])
    assert temporal_volume != eventstore_volume
    declared = set(compose.get("volumes") or {})
    assert {temporal_volume, eventstore_volume} <= declared, "data must live on named volumes"


def test_eventstore_is_postgresql(services: dict[str, dict[str, Any]]) -> None:
    eventstore = services[EVENTSTORE]
    assert str(eventstore["image"]).startswith("postgres:")
    assert "build" not in eventstore


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_our_services_build_from_the_dockerfile(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    build = services[name].get("build")
    assert build is not None, f"{name} must be built from the Dockerfile"
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (COMPOSE_FILE.parent / context / dockerfile).resolve() == DOCKERFILE


def test_our_services_share_one_image(services: dict[str, dict[str, Any]]) -> None:
    images = {services[name].get("image") for name in OUR_SERVICES}
    assert len(images) == 1, f"one image for every caseflow process, got {images}"


@pytest.mark.parametrize(("name", "subcommand"), sorted(OUR_SERVICES.items()))
def test_our_services_run_their_caseflow_subcommand(
    services: dict[str, dict[str, Any]],
    dockerfile: list[tuple[str, str]],
    pyproject: dict[str, Any],
    name: str,
    subcommand: str,
) -> None:
    stage = final_stage(dockerfile)
    image_entrypoint = [exec_form(a) for k, a in stage if k == "ENTRYPOINT"]
    image_cmd = [exec_form(a) for k, a in stage if k == "CMD"]
    service = services[name]
    if "entrypoint" in service:
        entrypoint, command = argv(service["entrypoint"]), argv(service.get("command"))
    else:
        entrypoint = image_entrypoint[-1] if image_entrypoint else []
        command = argv(service["command"]) if "command" in service else image_cmd[-1]
    effective = entrypoint + command
    scripts = pyproject["project"]["scripts"]
    assert "caseflow" in scripts
    assert effective[:1] == ["caseflow"]
    assert effective[1:] == [subcommand]


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_environment_names_are_read_by_settings(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    accepted = settings_env_names()
    env = environment(services[name])
    unknown = sorted(key for key in env if _norm(key) not in accepted)
    assert not unknown, f"{name} sets variables Settings does not read: {unknown}"
    for key, value in (services[name].get("environment") or {}).items():
        plain = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
        assert plain, f"{name}: quote {key}'s value (YAML made it {value!r})"


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_settings_without_container_fallback_are_set(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    # A field whose default is None falls back to a server embedded in the process (PostgreSQL,
    # Temporal): nothing a container of the stack may use. Each must be set, and not empty.
    env = {_norm(key): interpolate(value) for key, value in environment(services[name]).items()}
    names = settings_env_names()
    embedded = {f for f, info in Settings.model_fields.items() if info.default is None}
    assert {"database_url", "temporal_address"} <= embedded
    for field in embedded:
        set_names = [n for n, f in names.items() if f == field and env.get(n)]
        assert set_names, f"{name} must set {field} (one of its variables, not empty)"


def test_our_services_share_the_env_anchor(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    shared = compose.get(ENV_ANCHOR)
    assert isinstance(shared, dict), f"{ENV_ANCHOR} must be a mapping"
    assert shared, f"{ENV_ANCHOR} is empty"
    shared_env = {key: str(value) for key, value in shared.items()}
    for name in OUR_SERVICES:
        env = environment(services[name])
        assert shared_env.items() <= env.items(), f"{name} does not use {ENV_ANCHOR}"
    expected = {
        "DATABASE_URL",
        "TEMPORAL_ADDRESS",
        "CASEFLOW_TEMPORAL_NAMESPACE",
        "CASEFLOW_TASK_QUEUE",
        "CASEFLOW_API_HOST",
        "CASEFLOW_API_PORT",
        "CASEFLOW_LOAD_DEMO",
        "CASEFLOW_LOG_LEVEL",
    }
    assert expected <= set(shared_env)
    assert interpolate(shared_env["CASEFLOW_API_HOST"]) == ALL_INTERFACES


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_compose_environment_parses_into_settings(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    accepted = settings_env_names()
    for key in list(os.environ):
        if _norm(key) in accepted:
            monkeypatch.delenv(key)
    for key, value in environment(services[name]).items():
        monkeypatch.setenv(key, interpolate(value))
    settings = Settings()
    assert not settings.embedded_database
    assert not settings.embedded_temporal
    assert settings.api_host == ALL_INTERFACES
    assert settings.load_demo is False, "a production stack must not load the demo data"


def test_database_url_points_at_the_eventstore(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    eventstore_env = environment(services[EVENTSTORE])
    for name in OUR_SERVICES:
        raw = environment(services[name])["DATABASE_URL"]
        url = urlsplit(interpolate(raw))
        assert url.scheme in {"postgresql", "postgres"}
        assert url.hostname == EVENTSTORE
        assert url.port in {None, 5432}
        assert url.username == eventstore_env["POSTGRES_USER"]
        database = eventstore_env.get("POSTGRES_DB", eventstore_env["POSTGRES_USER"])
        assert unquote(url.path.lstrip("/")) == database
        password_vars = referenced_variables(eventstore_env["POSTGRES_PASSWORD"])
        assert password_vars, "the event store's password must come from a variable"
        assert password_vars <= referenced_variables(raw), (
            "DATABASE_URL must carry the event store's password variable, not a literal"
        )


def test_temporal_addresses_point_at_the_temporal_service(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in [*OUR_SERVICES, TEMPORAL_UI]:
        address = interpolate(environment(services[name])["TEMPORAL_ADDRESS"])
        assert host_port(address) == (TEMPORAL, 7233), f"{name}: {address}"


def test_workers_use_the_namespace_temporal_creates(
    services: dict[str, dict[str, Any]],
) -> None:
    created = interpolate(environment(services[TEMPORAL]).get("DEFAULT_NAMESPACE", "default"))
    for name in OUR_SERVICES:
        env = environment(services[name])
        used = interpolate(env.get("CASEFLOW_TEMPORAL_NAMESPACE", "")) or str(
            Settings.model_fields["temporal_namespace"].default
        )
        assert used == created, f"{name} uses namespace {used!r}, Temporal creates {created!r}"


def test_depends_on_is_consistent(services: dict[str, dict[str, Any]]) -> None:
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        depends_on = service.get("depends_on") or {}
        if isinstance(depends_on, list):
            depends_on = {d: {"condition": "service_started"} for d in depends_on}
        for dependency, spec in depends_on.items():
            assert dependency in services, f"{name} depends on undefined {dependency}"
            condition = (spec or {}).get("condition", "service_started")
            assert condition in conditions
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
            if condition == "service_completed_successfully":
                assert str(services[dependency].get("restart", "no")) == "no", (
                    f"{dependency} is waited on to finish: it must not restart"
                )


def _condition(services: dict[str, dict[str, Any]], name: str, dependency: str) -> str | None:
    depends_on = services[name].get("depends_on") or {}
    if isinstance(depends_on, list):
        return "service_started" if dependency in depends_on else None
    spec = depends_on.get(dependency)
    return None if spec is None else str((spec or {}).get("condition", "service_started"))


def test_start_order(services: dict[str, dict[str, Any]]) -> None:
    temporal_db = environment(services[TEMPORAL])["POSTGRES_SEEDS"]
    assert _condition(services, TEMPORAL, temporal_db) == "service_healthy"
    assert _condition(services, "migrate", EVENTSTORE) == "service_healthy"
    for name in ("worker", "api", "projector"):
        assert _condition(services, name, "migrate") == "service_completed_successfully"
    for name in ("worker", "api"):
        assert _condition(services, name, TEMPORAL) == "service_healthy"


def test_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    temporal_db = environment(services[TEMPORAL])["POSTGRES_SEEDS"]
    for name in (temporal_db, EVENTSTORE, TEMPORAL, "api"):
        check = services[name].get("healthcheck")
        assert check, f"{name} needs a healthcheck"
        assert not check.get("disable"), f"{name}'s healthcheck is disabled"
        assert argv(check["test"])[0] in {"CMD", "CMD-SHELL"}
    api_check = " ".join(argv(services["api"]["healthcheck"]["test"]))
    assert "/healthz" in api_check
    port = interpolate(environment(services["api"])["CASEFLOW_API_PORT"])
    assert port in api_check or "CASEFLOW_API_PORT" in api_check


def test_api_is_published_on_its_port(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    port = int(interpolate(environment(api)["CASEFLOW_API_PORT"]))
    targets = set()
    for mapping in api.get("ports") or []:
        if isinstance(mapping, dict):
            targets.add(int(mapping["target"]))
        else:
            targets.add(int(str(mapping).split("/")[0].rsplit(":", 1)[-1]))
    assert port in targets
    assert interpolate(environment(api)["CASEFLOW_API_HOST"]) == ALL_INTERFACES


def test_worker_can_be_scaled(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker
    assert not worker.get("ports")
    assert "deploy" not in worker or "replicas" not in (worker["deploy"] or {})


def test_no_secret_is_written_in_the_file(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in environment(service).items():
            if re.search(r"PASSWORD|PWD|SECRET|KEY", key):
                assert re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}", value), (
                    f"{name}.{key} must come from the environment as ${{VAR:?message}}"
                )
            if key == "DATABASE_URL":
                password = urlsplit(interpolate(value)).password
                assert password, f"{name}: DATABASE_URL has no password"
                assert password.startswith("secret-"), f"{name}: literal password"


def test_third_party_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue
        image = str(service["image"])
        _, _, tag = image.rpartition(":")
        assert tag, f"{name}: pin {image}"
        assert "/" not in tag, f"{name}: pin {image}"
        assert tag != "latest", f"{name}: pin {image}"


# --------------------------------------------------------------------------------------------
# Dockerfile and .dockerignore
# --------------------------------------------------------------------------------------------


def test_dockerfile_base_is_python_311_slim(dockerfile: list[tuple[str, str]]) -> None:
    args: dict[str, str] = {}
    for keyword, arguments in dockerfile:
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in arguments:
            key, value = arguments.split("=", 1)
            args[key.strip()] = value.strip()
    bases = [base_image(a, args) for k, a in dockerfile if k == "FROM"]
    stage_names = {a.split()[-1] for k, a in dockerfile if k == "FROM" and " AS " in a.upper()}
    external = [base for base in bases if base not in stage_names]
    assert external, bases
    assert all(base == "python:3.11-slim" for base in external), bases


def test_dockerfile_installs_from_the_hashed_lock(dockerfile: list[tuple[str, str]]) -> None:
    runs = [arguments for keyword, arguments in dockerfile if keyword == "RUN"]
    locked = [
        i
        for i, run in enumerate(runs)
        if "pip install" in run and "--require-hashes" in run and "-r requirements.lock" in run
    ]
    project = [i for i, run in enumerate(runs) if re.search(r"pip install --no-deps \.(\s|$)", run)]
    assert locked, "dependencies must be installed with --require-hashes -r requirements.lock"
    assert project, "caseflow itself must be installed with pip install --no-deps ."
    assert locked[0] < project[0]
    copied = " ".join(a for k, a in dockerfile if k in {"COPY", "ADD"})
    assert "requirements.lock" in copied.split() or re.search(r"(^|\s)\.\s", copied)


def test_lock_is_hash_pinned() -> None:
    requirement = re.compile(r"^([A-Za-z0-9_.-]+)==\S+")
    entries = LOCKFILE.read_text().split("\n")
    pinned = [i for i, line in enumerate(entries) if requirement.match(line)]
    assert pinned, "requirements.lock lists no pinned requirement"
    for i in pinned:
        assert entries[i + 1].strip().startswith("--hash=sha256:"), entries[i]


def test_dockerfile_copies_everything_the_wheel_needs(
    dockerfile: list[tuple[str, str]], pyproject: dict[str, Any]
) -> None:
    sources: set[str] = set()
    for keyword, arguments in dockerfile:
        if keyword in {"COPY", "ADD"} and "--from=" not in arguments:
            words = [w for w in arguments.split() if not w.startswith("--")]
            sources.update(w.rstrip("/") for w in words[:-1])
    if "." in sources:
        return
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    needed = {"pyproject.toml", *packages}
    readme = pyproject["project"].get("readme")
    if isinstance(readme, str):
        needed.add(readme)
    assert needed <= sources, f"not copied into the image: {sorted(needed - sources)}"


def test_dockerfile_runs_as_a_non_root_user(dockerfile: list[tuple[str, str]]) -> None:
    users = [arguments for keyword, arguments in final_stage(dockerfile) if keyword == "USER"]
    assert users, "the image must switch to an unprivileged user"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_dockerfile_default_command_is_the_api(
    dockerfile: list[tuple[str, str]], pyproject: dict[str, Any]
) -> None:
    stage = final_stage(dockerfile)
    entrypoints = [exec_form(a) for k, a in stage if k == "ENTRYPOINT"]
    commands = [exec_form(a) for k, a in stage if k == "CMD"]
    assert commands or entrypoints
    effective = (entrypoints[-1] if entrypoints else []) + (commands[-1] if commands else [])
    assert effective[0] in pyproject["project"]["scripts"], "use the declared console script"
    assert effective == ["caseflow", "api"]


def test_dockerfile_environment_is_settings_and_listens_everywhere(
    dockerfile: list[tuple[str, str]],
) -> None:
    env: dict[str, str] = {}
    for keyword, arguments in final_stage(dockerfile):
        if keyword == "ENV":
            env.update(env_assignments(arguments))
    assert env.get("CASEFLOW_API_HOST") == ALL_INTERFACES
    accepted = settings_env_names()
    ours = [key for key in env if key.upper().startswith("CASEFLOW_")]
    assert all(_norm(key) in accepted for key in ours), ours


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".tools", ".caseflow", ".env", ".git"} <= patterns
    assert any("__pycache__" in p for p in patterns)
    assert not {"requirements.lock", "pyproject.toml", "README.md"} & patterns


# --------------------------------------------------------------------------------------------
# docs/deployment.md
# --------------------------------------------------------------------------------------------


def test_deployment_doc_lists_every_setting() -> None:
    text = DEPLOYMENT_DOC.read_text()
    missing = sorted(name for name in settings_env_names() if f"`{name}`" not in text)
    assert not missing, f"docs/deployment.md does not document {missing}"
