"""What every command model is: a frozen pydantic model named by its `command` literal."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Command(BaseModel):
    """A request to change a case, in the imperative. Subclasses add `command: Literal[...]`, the
    name the API and the workflow's one generic update know it by."""

    model_config = ConfigDict(frozen=True, extra="forbid")
