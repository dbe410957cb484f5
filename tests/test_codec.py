"""The payload codec: AES-256-GCM per payload, key ids for rotation, keys from settings or file."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from pydantic import BaseModel
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes
from temporalio.exceptions import ApplicationError

from caseflow.codec import (
    ENCODING,
    KEY_ID_METADATA,
    NONCE_BYTES,
    EncryptionCodec,
    Keys,
    PayloadDecryptionError,
    PayloadKeyError,
    encrypted_data_converter,
    load_or_create_payload_keys,
    new_key_entry,
    payload_keys_file,
)
from caseflow.settings import Settings
from caseflow.temporal import data_converter

OLD = Keys("old", {"old": bytes(range(32))})
NEW = Keys("new", {"new": bytes(range(32, 64))})
SECRET = b'{"name": "Secret Child"}'


class Named(BaseModel):
    name: str


def plain(data: bytes = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


async def test_a_payload_round_trips_and_is_stored_as_ciphertext() -> None:
    codec = EncryptionCodec(OLD)
    original = plain()
    [sealed] = await codec.encode([original])

    assert sealed.metadata["encoding"] == ENCODING.encode()
    assert sealed.metadata[KEY_ID_METADATA] == b"old"
    assert b"Secret Child" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()  # metadata is sealed too
    assert await codec.decode([sealed]) == [original]


async def test_each_payload_gets_its_own_nonce() -> None:
    codec = EncryptionCodec(OLD)
    first, second = await codec.encode([plain(), plain()])
    assert first.data[:NONCE_BYTES] != second.data[:NONCE_BYTES]
    assert first.data != second.data


@pytest.mark.parametrize("position", [0, NONCE_BYTES, -1])
async def test_a_tampered_payload_fails_to_decode(position: int) -> None:
    codec = EncryptionCodec(OLD)
    [sealed] = await codec.encode([plain()])
    data = bytearray(sealed.data)
    data[position] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(data))

    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([tampered])


async def test_a_truncated_payload_fails_to_decode() -> None:
    codec = EncryptionCodec(OLD)
    [sealed] = await codec.encode([plain()])
    for data in (b"", sealed.data[:NONCE_BYTES], sealed.data[:-1]):
        with pytest.raises(PayloadDecryptionError, match="failed authentication"):
            await codec.decode([Payload(metadata=dict(sealed.metadata), data=data)])


async def test_a_payload_relabelled_with_another_key_id_fails() -> None:
    # Both keys are configured: the key id is authenticated with the ciphertext.
    both = EncryptionCodec(OLD.rotated(NEW))
    [sealed] = await EncryptionCodec(OLD).encode([plain()])
    relabelled = Payload(
        metadata={"encoding": ENCODING.encode(), KEY_ID_METADATA: b"new"}, data=sealed.data
    )
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await both.decode([relabelled])


async def test_an_unknown_key_id_fails_naming_only_the_key_id() -> None:
    [sealed] = await EncryptionCodec(NEW).encode([plain()])

    with pytest.raises(PayloadDecryptionError) as refused:
        await EncryptionCodec(OLD).decode([sealed])

    message = str(refused.value)
    assert "'new'" in message
    assert "CASEFLOW_PAYLOAD_KEYS" in message
    for secret in (NEW.current, OLD.current):
        assert base64.b64encode(secret).decode() not in message
        assert secret.hex() not in message


async def test_an_unencrypted_payload_is_refused() -> None:
    with pytest.raises(PayloadDecryptionError, match="not encrypted"):
        await EncryptionCodec(OLD).decode([plain()])
    missing_id = Payload(metadata={"encoding": ENCODING.encode()}, data=b"x" * 40)
    with pytest.raises(PayloadDecryptionError, match=KEY_ID_METADATA):
        await EncryptionCodec(OLD).decode([missing_id])


async def test_after_rotation_old_payloads_decode_and_new_ones_use_the_new_key() -> None:
    [before] = await EncryptionCodec(OLD).encode([plain(b'"before"')])
    rotated = Keys.parse(f"{NEW.serialize()},{OLD.serialize()}")
    assert rotated == OLD.rotated(NEW)
    codec = EncryptionCodec(rotated)

    [after] = await codec.encode([plain(b'"after"')])

    assert after.metadata[KEY_ID_METADATA] == b"new"
    assert [p.data for p in await codec.decode([before, after])] == [b'"before"', b'"after"']
    with pytest.raises(PayloadDecryptionError, match="'new'"):
        await EncryptionCodec(OLD).decode([after])


def test_keys_parse_and_serialize_round_trip() -> None:
    text = f"{NEW.serialize()},\n{OLD.serialize()}"
    keys = Keys.parse(text)
    assert keys.current_id == "new"
    assert set(keys.by_id) == {"new", "old"}
    assert Keys.parse(keys.serialize()) == keys
    assert Keys.parse(new_key_entry("fresh")).current_id == "fresh"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no-separator",
        ":" + base64.b64encode(bytes(32)).decode(),
        "short:" + base64.b64encode(bytes(16)).decode(),
        "bad:not base64!",
        "dup:{k},dup:{k}",
        "bad id:" + base64.b64encode(bytes(32)).decode(),
    ],
)
def test_malformed_keys_are_refused_without_quoting_key_material(text: str) -> None:
    text = text.format(k=base64.b64encode(bytes(32)).decode())
    with pytest.raises(PayloadKeyError) as refused:
        Keys.parse(text)
    assert base64.b64encode(bytes(32)).decode() not in str(refused.value)
    assert "base64!" not in str(refused.value)


def test_keys_never_show_in_repr() -> None:
    assert base64.b64encode(OLD.current).decode() not in repr(OLD)
    assert str(list(OLD.current)) not in repr(OLD)
    settings = Settings(payload_keys=OLD.serialize())
    assert OLD.serialize() not in repr(settings)
    assert "payload_keys" not in repr(settings)


def test_keys_come_from_the_setting_when_it_is_set(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, payload_keys=f"{NEW.serialize()},{OLD.serialize()}")
    assert load_or_create_payload_keys(settings) == OLD.rotated(NEW)
    assert not payload_keys_file(settings).exists()


def test_the_embedded_default_makes_one_private_key_file_and_reuses_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    made = load_or_create_payload_keys(settings)
    key_file = payload_keys_file(settings)

    assert key_file == tmp_path / "keys" / "payload-keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_or_create_payload_keys(settings) == made
    assert load_or_create_payload_keys(Settings(data_dir=tmp_path)) == made
    assert list(key_file.parent.iterdir()) == [key_file]  # no temporary file left behind


def test_a_corrupt_key_file_is_reported_with_its_path(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    payload_keys_file(settings).parent.mkdir(parents=True)
    payload_keys_file(settings).write_text("garbage")
    with pytest.raises(PayloadKeyError, match=str(payload_keys_file(settings))):
        load_or_create_payload_keys(settings)


async def test_the_data_converter_seals_values_and_failures(tmp_path: Path) -> None:
    converter = data_converter(Settings(data_dir=tmp_path, payload_keys=OLD.serialize()))
    assert converter.failure_converter_class is DefaultFailureConverterWithEncodedAttributes
    child = Named(name="Secret Child")

    [payload] = await converter.encode([child])
    assert b"Secret Child" not in payload.SerializeToString()
    assert await converter.decode([payload], [Named]) == [child]

    failure = Failure()
    await converter.encode_failure(ApplicationError("Secret Child is refused"), failure)
    assert b"Secret Child" not in failure.SerializeToString()
    decoded = await converter.decode_failure(failure)
    assert "Secret Child is refused" in str(decoded)


async def test_the_converter_of_one_key_set_cannot_read_another() -> None:
    [payload] = await encrypted_data_converter(NEW).encode(["Secret Child"])
    with pytest.raises(PayloadDecryptionError):
        await encrypted_data_converter(OLD).decode([payload], [str])
