"""Tamper evidence: each stream's hash chain and signed checkpoints over the whole log.

Triggers make the log append-only for every role, but a superuser can switch them off. What
remains is to detect a change: `verify` recomputes every event's hash from its stored bytes and
checks that the signed checkpoints still match the events they cover, and names the first place
where something differs.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import asyncpg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from caseflow.settings import Settings
from store import statements as sql
from store.errors import IntegrityViolation
from store.events import StoredEvent, stored_event

ZERO_HASH: Final = bytes(32)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
_CHECKPOINT_DOMAIN: Final = b"caseflow checkpoint v1\x00"
_LAST_POSITION: Final = 2**63 - 1
_FETCH: Final = 1000


def event_hash(previous: bytes, event: StoredEvent) -> bytes:
    """The hash chaining `event` to the previous event of its stream.

    sha256 over, in this order:
      previous    32 bytes: the hash of the stream's previous version (32 zero bytes at version 1)
      stream_id   text
      version     int8
      event_id    16 bytes (RFC 4122 byte order)
      type        text
      schema_ver  int4
      data        text
      metadata    text
      recorded_at int8: microseconds since 1970-01-01 00:00 UTC
    where int4 and int8 are signed big-endian, and text is its UTF-8 bytes preceded by their
    length as int4. The database computes the same bytes in event_hash() of
    store/migrations/0001_event_store.sql when it appends.
    """
    digest = hashlib.sha256(previous)
    digest.update(_text(event.stream_id))
    digest.update(event.version.to_bytes(8, "big", signed=True))
    digest.update(event.event_id.bytes)
    digest.update(_text(event.type))
    digest.update(event.schema_version.to_bytes(4, "big", signed=True))
    digest.update(_text(event.data))
    digest.update(_text(event.metadata))
    micros = (event.recorded_at - _EPOCH) // _MICROSECOND
    digest.update(micros.to_bytes(8, "big", signed=True))
    return digest.digest()


def _text(value: str) -> bytes:
    encoded = value.encode("utf-8")
    return len(encoded).to_bytes(4, "big", signed=True) + encoded


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: "the log's positions 1..up_to_position hash to `digest`".

    digest = sha256(previous_digest || position int8 || hash, for every event after the
    previous checkpoint up to up_to_position, in position order); the first checkpoint's
    previous_digest is 32 zero bytes. The signature covers sequence_no, up_to_position,
    event_count and both digests (see `signed_bytes`); key_id names the public key.
    """

    sequence_no: int
    up_to_position: int
    event_count: int
    digest: bytes
    previous_digest: bytes
    signature: bytes
    key_id: str
    created_at: datetime

    def signed_bytes(self) -> bytes:
        return checkpoint_message(
            self.sequence_no,
            self.up_to_position,
            self.event_count,
            self.previous_digest,
            self.digest,
        )


def checkpoint_message(
    sequence_no: int, up_to_position: int, event_count: int, previous_digest: bytes, digest: bytes
) -> bytes:
    return b"".join(
        (
            _CHECKPOINT_DOMAIN,
            sequence_no.to_bytes(8, "big", signed=True),
            up_to_position.to_bytes(8, "big", signed=True),
            event_count.to_bytes(8, "big", signed=True),
            previous_digest,
            digest,
        )
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    events_checked: int
    checkpoints_checked: int
    first_problem: str | None


class _Problem(Exception):
    """The first thing found wrong; ends a verification."""


class _MissingPosition(_Problem):
    def __init__(self, position: int, note: str | None = None) -> None:
        self.position = position
        super().__init__(f"position {position} is missing" + (f" ({note})" if note else ""))


async def verify(
    pool: asyncpg.Pool,
    *,
    stream_id: str | None = None,
    public_key: Ed25519PublicKey | None,
) -> VerifyReport:
    """Check the stored log against its hashes, heads and (for the whole log) checkpoints.

    With `stream_id`, only that stream's hash chain and head. Without `public_key`, checkpoints
    are checked against the events but their signatures are not.
    """
    checker = _LogChecker()
    # One snapshot for everything read, so concurrent appends cannot look like damage.
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        try:
            if stream_id is not None:
                await _verify_stream(connection, checker, stream_id)
            else:
                await _verify_log(connection, checker, public_key)
            await _verify_heads(connection, stream_id)
        except _Problem as problem:
            return VerifyReport(False, checker.events, checker.checkpoints, str(problem))
    return VerifyReport(True, checker.events, checker.checkpoints, None)


async def write_checkpoint(pool: asyncpg.Pool, signing_key: Ed25519PrivateKey) -> Checkpoint | None:
    """Sign a checkpoint over the log up to its current head; None if nothing new since the last.

    The events it adds are verified first: a checkpoint never vouches for a broken chain.
    """
    async with pool.acquire() as connection:
        await connection.execute(sql.LOCK_CHECKPOINTS, sql.CHECKPOINT_LOCK_KEY)
        try:
            async with connection.transaction(isolation="repeatable_read"):
                return await _write_checkpoint(connection, signing_key)
        finally:
            await connection.execute(sql.UNLOCK_CHECKPOINTS, sql.CHECKPOINT_LOCK_KEY)


async def _write_checkpoint(
    connection: asyncpg.pool.PoolConnectionProxy, signing_key: Ed25519PrivateKey
) -> Checkpoint | None:
    last_row = await connection.fetchrow(sql.SELECT_LAST_CHECKPOINT)
    last = _checkpoint(last_row) if last_row is not None else None
    after = last.up_to_position if last is not None else 0
    head: int = await connection.fetchval(sql.SELECT_LOG_HEAD)
    if head <= after:
        return None
    previous_digest = last.digest if last is not None else ZERO_HASH
    checker = _LogChecker(after=after, digest=previous_digest)
    try:
        async for event_row in _log_rows(connection, after=after, up_to=head):
            checker.check(event_row)
        checker.check_reached(head, f"the log head is at {head}")
    except _Problem as problem:
        raise IntegrityViolation(f"no checkpoint written: {problem}") from None
    count = (last.event_count if last is not None else 0) + checker.events
    sequence_no = (last.sequence_no if last is not None else 0) + 1
    digest = checker.digest.digest()
    message = checkpoint_message(sequence_no, head, count, previous_digest, digest)
    row = await connection.fetchrow(
        sql.INSERT_CHECKPOINT,
        sequence_no,
        head,
        count,
        digest,
        previous_digest,
        signing_key.sign(message),
        key_id(signing_key.public_key()),
    )
    assert row is not None
    return _checkpoint(row)


class _LogChecker:
    """Checks events one by one in position (or version) order and digests them."""

    def __init__(self, *, after: int = 0, digest: bytes = ZERO_HASH) -> None:
        self.position = after
        self.recorded_at: datetime | None = None
        self.digest = hashlib.sha256(digest)
        self.events = 0
        self.checkpoints = 0

    def check(self, row: asyncpg.Record) -> None:
        event = stored_event(row)
        where = f"stream {event.stream_id} version {event.version} (position {event.position})"
        if event.position != self.position + 1:
            raise _MissingPosition(self.position + 1)
        if self.recorded_at is not None and event.recorded_at < self.recorded_at:
            raise _Problem(
                f"{where} is recorded earlier than position {self.position}: events were reordered"
            )
        self.check_chain(event, row["previous_hash"], row["previous_position"])
        self.position = event.position
        self.recorded_at = event.recorded_at
        self.digest.update(event.position.to_bytes(8, "big", signed=True) + event.hash)
        self.events += 1

    def check_chain(
        self, event: StoredEvent, previous_hash: bytes | None, previous_position: int | None
    ) -> None:
        where = f"stream {event.stream_id} version {event.version} (position {event.position})"
        if event.version > 1 and previous_hash is None:
            raise _Problem(f"stream {event.stream_id} version {event.version - 1} is missing")
        if previous_position is not None and previous_position > event.position:
            raise _Problem(
                f"{where} comes before version {event.version - 1} (position "
                f"{previous_position}): events were reordered"
            )
        if event_hash(previous_hash or ZERO_HASH, event) != event.hash:
            raise _Problem(
                f"{where}: hash does not match its stored bytes and its previous event's hash"
            )

    def check_reached(self, position: int, note: str) -> None:
        if self.position < position:
            raise _MissingPosition(self.position + 1, note)


async def _verify_stream(
    connection: asyncpg.pool.PoolConnectionProxy, checker: _LogChecker, stream_id: str
) -> None:
    version = 0
    for row in await connection.fetch(sql.SELECT_STREAM_WITH_PREVIOUS, stream_id):
        event = stored_event(row)
        if event.version != version + 1:
            raise _Problem(f"stream {stream_id} version {version + 1} is missing")
        checker.check_chain(event, row["previous_hash"], row["previous_position"])
        version = event.version
        checker.events += 1


async def _verify_log(
    connection: asyncpg.pool.PoolConnectionProxy,
    checker: _LogChecker,
    public_key: Ed25519PublicKey | None,
) -> None:
    head: int = await connection.fetchval(sql.SELECT_LOG_HEAD)
    checkpoints = [_checkpoint(row) for row in await connection.fetch(sql.SELECT_CHECKPOINTS)]
    _check_checkpoint_chain(checkpoints, public_key)
    pending = iter(checkpoints)
    current = next(pending, None)
    async for row in _log_rows(connection, after=0, up_to=_LAST_POSITION):
        try:
            checker.check(row)
        except _MissingPosition as missing:
            if current is None:
                raise
            raise _MissingPosition(
                missing.position, f"covered by checkpoint {current.sequence_no}"
            ) from None
        if checker.position > head:
            raise _Problem(f"position {checker.position} is beyond the log head ({head})")
        if current is not None and checker.position == current.up_to_position:
            _check_covered(current, checker)
            checker.digest = hashlib.sha256(current.digest)
            current = next(pending, None)
    if current is not None:
        checker.check_reached(
            current.up_to_position, f"covered by checkpoint {current.sequence_no}"
        )
    checker.check_reached(head, f"the log head is at {head}")


def _check_checkpoint_chain(
    checkpoints: list[Checkpoint], public_key: Ed25519PublicKey | None
) -> None:
    previous: Checkpoint | None = None
    expected_key = key_id(public_key) if public_key is not None else None
    for checkpoint in checkpoints:
        number = checkpoint.sequence_no
        if number != (previous.sequence_no + 1 if previous else 1):
            raise _Problem(f"checkpoint {number - 1} is missing")
        if checkpoint.previous_digest != (previous.digest if previous else ZERO_HASH):
            raise _Problem(
                f"checkpoint {number}: its previous digest is not checkpoint {number - 1}'s digest"
            )
        if previous is not None and checkpoint.up_to_position <= previous.up_to_position:
            raise _Problem(f"checkpoint {number} does not cover more than checkpoint {number - 1}")
        if public_key is not None:
            if checkpoint.key_id != expected_key:
                raise _Problem(
                    f"checkpoint {number} is signed with key {checkpoint.key_id}, not with the "
                    f"given key {expected_key}"
                )
            try:
                public_key.verify(checkpoint.signature, checkpoint.signed_bytes())
            except InvalidSignature:
                raise _Problem(f"checkpoint {number}: its signature does not verify") from None
        previous = checkpoint


def _check_covered(checkpoint: Checkpoint, checker: _LogChecker) -> None:
    number, up_to = checkpoint.sequence_no, checkpoint.up_to_position
    if checker.digest.digest() != checkpoint.digest:
        raise _Problem(
            f"checkpoint {number} (up to position {up_to}): the events it covers no longer "
            f"produce its digest (an event was altered, removed or moved)"
        )
    if checker.events != checkpoint.event_count:
        raise _Problem(
            f"checkpoint {number} (up to position {up_to}) covers {checkpoint.event_count} "
            f"events, the log now holds {checker.events}"
        )
    checker.checkpoints += 1


async def _verify_heads(
    connection: asyncpg.pool.PoolConnectionProxy, stream_id: str | None
) -> None:
    row = await connection.fetchrow(sql.SELECT_STREAM_HEAD_MISMATCH, stream_id)
    if row is None:
        return
    stream, head, last = row["stream_id"], row["head_version"], row["last_version"]
    if head is None:
        raise _Problem(f"stream {stream} has events but no head row")
    if last is None or head > last:
        raise _Problem(f"stream {stream} version {head} is missing (its head is at version {head})")
    raise _Problem(f"stream {stream} has version {last} beyond its head (version {head})")


async def _log_rows(
    connection: asyncpg.pool.PoolConnectionProxy, *, after: int, up_to: int
) -> AsyncIterator[asyncpg.Record]:
    cursor = connection.cursor(sql.SELECT_LOG_WITH_PREVIOUS, after, up_to, prefetch=_FETCH)
    async for row in cursor:
        yield row


def _checkpoint(row: asyncpg.Record) -> Checkpoint:
    return Checkpoint(
        sequence_no=row["sequence_no"],
        up_to_position=row["up_to_position"],
        event_count=row["event_count"],
        digest=row["digest"],
        previous_digest=row["previous_digest"],
        signature=row["signature"],
        key_id=row["key_id"],
        created_at=row["created_at"],
    )


def load_or_create_signing_key(settings_value: str | None, key_file: Path) -> Ed25519PrivateKey:
    """The checkpoint signing key: from settings if set, else from `key_file`, made on first use.

    The file holds the hex of the 32-byte seed, readable by its owner only (0600).
    """
    if settings_value is not None:
        return _key_from_hex(settings_value, "CASEFLOW_CHECKPOINT_SIGNING_KEY")
    try:
        return _key_from_hex(key_file.read_text(), str(key_file))
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # Write a private temporary file, then link it into place: a concurrent first start either
    # wins the link or reads the winner's complete key.
    temporary = key_file.with_name(f".{key_file.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(key.private_bytes_raw().hex() + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, key_file)
    except FileExistsError:
        return _key_from_hex(key_file.read_text(), str(key_file))
    finally:
        temporary.unlink(missing_ok=True)
    return key


def _key_from_hex(value: str, source: str) -> Ed25519PrivateKey:
    try:
        seed = bytes.fromhex(value.strip())
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise ValueError(f"{source} must be the hex of a 32-byte Ed25519 seed (64 hex digits)")
    return Ed25519PrivateKey.from_private_bytes(seed)


def signing_key_for(settings: Settings) -> Ed25519PrivateKey:
    """The key that signs the log's checkpoints: `CASEFLOW_CHECKPOINT_SIGNING_KEY`, or the key
    file of the data folder (made on first use). Whatever writes or checks checkpoints uses it."""
    return load_or_create_signing_key(
        settings.checkpoint_signing_key, settings.data_dir / "keys" / "checkpoint-signing-key"
    )
