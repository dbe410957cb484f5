"""Connecting to Temporal the same way from every process (worker, API, CLI, tests).

Every client encrypts its payloads (caseflow.codec): what reaches the Temporal server, and so its
UI, is ciphertext. A worker built on such a client inherits its data converter.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.converter import DataConverter

from caseflow.codec import encrypted_data_converter, load_or_create_payload_keys
from caseflow.settings import Settings


def data_converter(settings: Settings) -> DataConverter:
    """The pydantic converter, encrypting with the payload keys of `settings`."""
    return encrypted_data_converter(load_or_create_payload_keys(settings))


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.resolved_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
    )
