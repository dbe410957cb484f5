"""The one configuration model of caseflow, read from the environment.

Every process (the stack, the worker, the API server, the CLI) reads the same model, so a variable
means the same thing everywhere. `DATABASE_URL` and `TEMPORAL_ADDRESS` keep their conventional
names; everything else is prefixed `CASEFLOW_`. Leaving `DATABASE_URL` or `TEMPORAL_ADDRESS` unset
selects the embedded default: servers started by `caseflow up` with their data under `data_dir`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEFLOW_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".caseflow"),
        description="Folder holding all embedded data: PostgreSQL, Temporal's SQLite file, logs.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "CASEFLOW_DATABASE_URL"),
        description="PostgreSQL for the event store; unset means the embedded server.",
    )
    temporal_address: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_ADDRESS", "CASEFLOW_TEMPORAL_ADDRESS"),
        description="host:port of a Temporal frontend; unset means the embedded dev server.",
    )
    app_database_password: str | None = Field(
        default=None,
        repr=False,
        description=(
            "Password of the application role (caseflow_app) that the processes connect as; "
            "`caseflow migrate` sets it. Unset suits servers that trust loopback connections."
        ),
    )
    checkpoint_signing_key: str | None = Field(
        default=None,
        repr=False,
        description=(
            "Hex of the 32-byte Ed25519 seed that signs the event log's checkpoints; unset means "
            "a key generated once into data_dir."
        ),
    )
    payload_keys: str | None = Field(
        default=None,
        repr=False,
        description=(
            "Keys that encrypt Temporal payloads (AES-256-GCM), as `id1:base64key,id2:base64key`; "
            "the first encrypts, all decrypt (rotation). Unset means a key generated once into "
            "data_dir: set it wherever processes share a Temporal server but not data_dir."
        ),
    )
    checkpoint_interval_seconds: float = Field(
        default=300,
        gt=0,
        description="How often the projector process signs a checkpoint over the event log.",
    )
    temporal_namespace: str = "default"
    task_queue: str = "caseflow-cases"

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    postgres_port: int = Field(default=5433, ge=1, le=65535, description="Embedded PostgreSQL.")
    temporal_port: int = Field(default=7233, ge=1, le=65535, description="Embedded Temporal.")
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535, description="Embedded UI.")
    codec_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda data: [
            f"http://{host}:{data.get('temporal_ui_port', 8233)}"
            for host in ("127.0.0.1", "localhost")
        ],
        description=(
            "Comma-separated origins of the Temporal UI that may call the payload codec endpoint "
            "(/codec) from a browser; default the embedded UI."
        ),
    )

    civil_affairs_url: str | None = Field(
        default=None,
        description=(
            "Base URL of the civil affairs system; unset means its simulator on "
            "civil_affairs_simulator_port, started by `caseflow up`."
        ),
    )
    school_system_url: str | None = Field(
        default=None,
        description=(
            "Base URL of the school system; unset means its simulator on school_simulator_port, "
            "started by `caseflow up`."
        ),
    )
    civil_affairs_simulator_port: int = Field(default=8091, ge=1, le=65535)
    school_simulator_port: int = Field(default=8092, ge=1, le=65535)
    outside_connect_timeout_seconds: float = Field(
        default=3.0, gt=0, le=60, description="Connecting to civil affairs or the school system."
    )
    outside_call_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description=(
            "How long a call to civil affairs or the school system may wait for its answer before "
            "it counts as failed (and the activity retries it)."
        ),
    )

    load_demo: bool = Field(default=True, description="Load the demo data set on first start.")
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|console)$")

    @field_validator("codec_cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_temporal(self) -> bool:
        return self.temporal_address is None

    @property
    def resolved_database_url(self) -> str:
        """The event store's URL: the configured one, or the embedded server's."""
        if self.database_url is not None:
            return self.database_url
        return f"postgresql://postgres@127.0.0.1:{self.postgres_port}/caseflow"

    @property
    def resolved_temporal_address(self) -> str:
        if self.temporal_address is not None:
            return self.temporal_address
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def embedded_simulators(self) -> bool:
        """Whether `caseflow up` starts the simulators: either outside system left unset."""
        return self.civil_affairs_url is None or self.school_system_url is None

    @property
    def resolved_civil_affairs_url(self) -> str:
        if self.civil_affairs_url is not None:
            return self.civil_affairs_url
        return f"http://127.0.0.1:{self.civil_affairs_simulator_port}"

    @property
    def resolved_school_system_url(self) -> str:
        if self.school_system_url is not None:
            return self.school_system_url
        return f"http://127.0.0.1:{self.school_simulator_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
