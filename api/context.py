"""The long-lived clients a request handler uses, made once per API process."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from temporalio.client import Client

from caseflow.settings import Settings
from store.directory import Directory
from store.events import EventStore


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    temporal: Client
    events: EventStore
    directory: Directory


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
