"""The one configuration model of caseflow, read from the environment.

Every process (the stack, the worker, the API server, the CLI) reads the same model, so a variable
means the same thing everywhere. `DATABASE_URL` and `TEMPORAL_ADDRESS` keep their conventional
names; everything else is prefixed `CASEFLOW_`. Leaving `DATABASE_URL` or `TEMPORAL_ADDRESS` unset
selects the embedded default: servers started by `caseflow up` with their data under `data_dir`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    checkpoint_signing_key: str | None = Field(
        default=None,
        repr=False,
        description=(
            "Hex of the 32-byte Ed25519 seed that signs the event log's checkpoints; unset means "
            "a key generated once into data_dir."
        ),
    )
    temporal_namespace: str = "default"
    task_queue: str = "caseflow-cases"

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    postgres_port: int = Field(default=5433, ge=1, le=65535, description="Embedded PostgreSQL.")
    temporal_port: int = Field(default=7233, ge=1, le=65535, description="Embedded Temporal.")
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535, description="Embedded UI.")

    load_demo: bool = Field(default=True, description="Load the demo data set on first start.")
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|console)$")

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
