"""What the event store refuses, in the caller's terms.

Messages name streams, versions, positions and event ids only: event data and metadata hold
children's personal data and never appear in an error.
"""

from __future__ import annotations

from uuid import UUID


class StoreError(Exception):
    """Base of every error the event store raises."""


class WrongExpectedVersion(StoreError):
    """The stream is not at the version the caller decided on: someone else appended first."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id} is at version {actual}, not the expected version {expected}: "
            f"read the stream again and decide anew"
        )


class DuplicateEventId(StoreError):
    """An event id of the batch is already stored, but not as this same batch of this stream."""

    def __init__(self, stream_id: str, event_id: UUID) -> None:
        self.stream_id = stream_id
        self.event_id = event_id
        super().__init__(
            f"event {event_id} appended to stream {stream_id} is already stored, but not as "
            f"this same batch of this stream: event ids must be new, or the whole batch a retry"
        )


class InvalidEvent(StoreError):
    """A batch the store cannot take as it is, e.g. data or metadata that is not JSON."""


class IntegrityViolation(StoreError):
    """The stored log no longer matches its hashes or its signed checkpoints."""


class MigrationError(StoreError):
    """The migrations on disk and the ones recorded in the database disagree."""
