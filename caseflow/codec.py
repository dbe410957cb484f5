"""Encryption of every Temporal payload, so Temporal's server and UI hold only ciphertext.

Each payload (the whole serialised `Payload`, its metadata included) is sealed with AES-256-GCM
under a fresh random 12-byte nonce. The sealed payload says which key sealed it
(`encryption-key-id`) and that it is `binary/encrypted`; its data is the nonce followed by the
ciphertext and tag, authenticated together with the key id.

Keys rotate: several may be configured, the first is current. New payloads are sealed with the
current key; a payload is opened with whichever configured key its metadata names, so histories
written under an older key stay readable for as long as that key stays configured.

Only sealed payloads are accepted on the way in: something written to Temporal by a client
without the keys (a plaintext signal from a CLI, say) fails to decode instead of reaching a
workflow, so nobody with bare access to the Temporal server can put input into a case.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from caseflow.settings import Settings

ENCODING = "binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
SETTING = "CASEFLOW_PAYLOAD_KEYS"
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class PayloadKeyError(ValueError):
    """The configured payload keys are missing or malformed. Never quotes key material."""


class PayloadDecryptionError(ValueError):
    """A payload could not be opened. Names at most the key id, never any content."""


@dataclass(frozen=True, slots=True)
class Keys:
    """Payload keys by id; `current_id` names the one that seals new payloads."""

    current_id: str
    by_id: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.current_id not in self.by_id:
            raise PayloadKeyError(f"the current key id {self.current_id!r} has no key")
        for key_id, key in self.by_id.items():
            if not _KEY_ID.fullmatch(key_id):
                raise PayloadKeyError(
                    f"key id {key_id!r} must be 1-64 letters, digits, '.', '_' or '-'"
                )
            if len(key) != KEY_BYTES:
                raise PayloadKeyError(f"key {key_id!r} must be {KEY_BYTES} bytes (AES-256)")
        object.__setattr__(self, "by_id", MappingProxyType(dict(self.by_id)))

    @property
    def current(self) -> bytes:
        return self.by_id[self.current_id]

    @classmethod
    def generate(cls, key_id: str | None = None) -> Keys:
        """One new random key, current."""
        key_id = key_id or new_key_id()
        return cls(key_id, {key_id: AESGCM.generate_key(bit_length=8 * KEY_BYTES)})

    @classmethod
    def parse(cls, text: str, *, source: str = SETTING) -> Keys:
        """Keys from `id1:base64key,id2:base64key` (commas or newlines); the first is current."""
        by_id: dict[str, bytes] = {}
        entries = [entry.strip() for entry in re.split(r"[,\n]", text) if entry.strip()]
        if not entries:
            raise PayloadKeyError(f"{source} holds no key; expected 'id:base64key[,id:base64key]'")
        for entry in entries:
            key_id, separator, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not separator or not key_id:
                raise PayloadKeyError(
                    f"{source}: each key must be written 'id:base64key' (entry {len(by_id) + 1})"
                )
            if key_id in by_id:
                raise PayloadKeyError(f"{source}: key id {key_id!r} appears twice")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except binascii.Error:
                key = b""
            if len(key) != KEY_BYTES:
                raise PayloadKeyError(
                    f"{source}: key {key_id!r} must be the base64 of {KEY_BYTES} random bytes"
                )
            by_id[key_id] = key
        return cls(entries[0].partition(":")[0].strip(), by_id)

    def serialize(self) -> str:
        """The `CASEFLOW_PAYLOAD_KEYS` form of these keys, current first. It is the secret."""
        ordered = [self.current_id, *(k for k in self.by_id if k != self.current_id)]
        return ",".join(f"{k}:{base64.b64encode(self.by_id[k]).decode()}" for k in ordered)

    def rotated(self, new: Keys) -> Keys:
        """`new`'s current key becomes current; every key of both still opens payloads."""
        return Keys(new.current_id, {**self.by_id, **new.by_id})


def new_key_id() -> str:
    """A fresh key id: the day it was made and a random suffix, e.g. `20250301-9f2a1c3b`."""
    return f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"


def new_key_entry(key_id: str | None = None) -> str:
    """One new key as a `CASEFLOW_PAYLOAD_KEYS` entry: put it first to rotate to it."""
    return Keys.generate(key_id).serialize()


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over whole payloads, with key ids for rotation."""

    def __init__(self, keys: Keys) -> None:
        self._keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.by_id.items()}

    @property
    def keys(self) -> Keys:
        return self._keys

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._keys.current_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING.encode(), KEY_ID_METADATA: key_id.encode()},
            data=nonce + sealed,
        )

    @staticmethod
    def is_encrypted(payload: Payload) -> bool:
        return payload.metadata.get("encoding") == ENCODING.encode()

    def decrypt(self, payload: Payload) -> Payload:
        if not self.is_encrypted(payload):
            raise PayloadDecryptionError(
                "the payload is not encrypted; only payloads sealed with the payload keys "
                f"({SETTING}) are accepted"
            )
        raw_key_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_key_id is None:
            raise PayloadDecryptionError(f"the encrypted payload names no {KEY_ID_METADATA}")
        key_id = raw_key_id.decode("utf-8", errors="replace")[:64]
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"the payload was encrypted with key id {key_id!r}, which is not one of the "
                f"configured payload keys ({SETTING})"
            )
        data = payload.data
        try:
            opened = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], raw_key_id)
            return Payload.FromString(opened)
        except (InvalidTag, ValueError, DecodeError):
            raise PayloadDecryptionError(
                f"the payload encrypted with key id {key_id!r} failed authentication: it was "
                "altered, or sealed with a different key of the same id"
            ) from None


def encrypted_data_converter(keys: Keys) -> DataConverter:
    """caseflow's converter (pydantic) with every payload and failure sealed by `keys`."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys),
        # Failure messages and stack traces move into an encoded (so encrypted) payload too.
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def payload_keys_file(settings: Settings) -> Path:
    return settings.data_dir / "keys" / "payload-keys"


def load_or_create_payload_keys(settings: Settings) -> Keys:
    """The payload keys: `CASEFLOW_PAYLOAD_KEYS` if set, else the key file of the data folder.

    The file (`<data_dir>/keys/payload-keys`, mode 0600, in the same format as the setting) is
    made with one key on first use and then reused: every process of `caseflow up` shares the data
    folder, so they all read the same key. Processes that share a Temporal server but not a data
    folder (containers, several machines) must all be given the same `CASEFLOW_PAYLOAD_KEYS`.
    """
    if settings.payload_keys is not None:
        return Keys.parse(settings.payload_keys, source=SETTING)
    key_file = payload_keys_file(settings)
    try:
        return Keys.parse(key_file.read_text(), source=str(key_file))
    except FileNotFoundError:
        pass
    keys = Keys.generate()
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Write a private temporary file, then link it into place: of processes starting together,
    # one wins the link and the others read the winner's complete file.
    temporary = key_file.with_name(f".{key_file.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(keys.serialize() + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, key_file)
    except FileExistsError:
        return Keys.parse(key_file.read_text(), source=str(key_file))
    finally:
        temporary.unlink(missing_ok=True)
    return keys
