"""Every SQL statement of the event store, built once and named.

The tables and the append function they call are made by `store/migrations/`.
"""

from __future__ import annotations

from typing import Final

# -- migrations -------------------------------------------------------------------------------

# One key for "migrating this database"; advisory locks are per database.
MIGRATION_LOCK_KEY: Final = 7_101_886_233_154_311_001
LOCK_MIGRATIONS: Final = "SELECT pg_advisory_lock($1)"
UNLOCK_MIGRATIONS: Final = "SELECT pg_advisory_unlock($1)"
CREATE_SCHEMA_MIGRATIONS: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    checksum bytea NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
SELECT_APPLIED_MIGRATIONS: Final = "SELECT name, checksum FROM schema_migrations ORDER BY name"
INSERT_APPLIED_MIGRATION: Final = "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)"

# -- events -----------------------------------------------------------------------------------

EVENT_ID_CONSTRAINT: Final = "events_event_id_key"

APPEND_EVENTS: Final = """
SELECT outcome, stream_version, positions, conflict_event_id
FROM append_events($1, $2, $3, $4, $5, $6, $7)
"""
# Several batches, to distinct streams, in one statement: one row per batch, numbered from 1 in
# the order given (see store/group_commit.py).
APPEND_BATCHES: Final = """
SELECT batch, outcome, stream_version, positions, conflict_event_id
FROM append_batches($1, $2, $3, $4, $5, $6, $7, $8)
"""
STORED_BATCH: Final = """
SELECT outcome, stream_version, positions, conflict_event_id FROM stored_batch($1, $2)
"""
SELECT_STREAM: Final = """
SELECT position, stream_id, version, event_id, type, schema_version, data, metadata,
       recorded_at, hash
FROM events
WHERE stream_id = $1
  AND version >= $2
  AND ($3::bigint IS NULL OR version <= $3)
  AND ($4::timestamptz IS NULL OR recorded_at <= $4)
ORDER BY version
"""
# The columns decoding an event needs, for replaying a stream (no position, hash or time).
SELECT_STREAM_PAYLOADS: Final = """
SELECT event_id, type, schema_version, data, metadata
FROM events
WHERE stream_id = $1
  AND ($2::timestamptz IS NULL OR recorded_at <= $2)
ORDER BY version
"""
SELECT_STREAM_VERSION: Final = "SELECT version FROM streams WHERE stream_id = $1"
SELECT_LOG: Final = """
SELECT position, stream_id, version, event_id, type, schema_version, data, metadata,
       recorded_at, hash
FROM events
WHERE position > $1
ORDER BY position
LIMIT $2
"""
SELECT_STREAM_IDS: Final = """
SELECT stream_id FROM streams
WHERE stream_id > $1 AND starts_with(stream_id, $2)
ORDER BY stream_id
LIMIT $3
"""

# -- integrity --------------------------------------------------------------------------------

# Serialises checkpoint writers; taken before the snapshot the checkpoint is computed in.
CHECKPOINT_LOCK_KEY: Final = 7_101_886_233_154_311_002
LOCK_CHECKPOINTS: Final = "SELECT pg_advisory_lock($1)"
UNLOCK_CHECKPOINTS: Final = "SELECT pg_advisory_unlock($1)"
SELECT_LOG_HEAD: Final = "SELECT position FROM log_head"
SELECT_CHECKPOINTS: Final = """
SELECT sequence_no, up_to_position, event_count, digest, previous_digest, signature, key_id,
       created_at
FROM checkpoints
ORDER BY sequence_no
"""
SELECT_LAST_CHECKPOINT: Final = """
SELECT sequence_no, up_to_position, event_count, digest, previous_digest, signature, key_id,
       created_at
FROM checkpoints
ORDER BY sequence_no DESC
LIMIT 1
"""
INSERT_CHECKPOINT: Final = """
INSERT INTO checkpoints (
    sequence_no, up_to_position, event_count, digest, previous_digest, signature, key_id
) VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING sequence_no, up_to_position, event_count, digest, previous_digest, signature, key_id,
       created_at
"""
# Each event with the stored hash and position of its stream's previous version, which its own
# hash chains from.
_WITH_PREVIOUS: Final = """
SELECT e.position, e.stream_id, e.version, e.event_id, e.type, e.schema_version, e.data,
       e.metadata, e.recorded_at, e.hash,
       p.hash AS previous_hash, p.position AS previous_position
FROM events AS e
LEFT JOIN events AS p ON p.stream_id = e.stream_id AND p.version = e.version - 1
"""
SELECT_LOG_WITH_PREVIOUS: Final = (
    f"{_WITH_PREVIOUS} WHERE e.position > $1 AND e.position <= $2 ORDER BY e.position"
)
SELECT_STREAM_WITH_PREVIOUS: Final = f"{_WITH_PREVIOUS} WHERE e.stream_id = $1 ORDER BY e.version"
# The first stream whose head row disagrees with its last stored version (or has none, or
# vice versa).
SELECT_STREAM_HEAD_MISMATCH: Final = """
SELECT stream_id, s.version AS head_version, e.version AS last_version
FROM (SELECT stream_id, version FROM streams WHERE $1::text IS NULL OR stream_id = $1) AS s
FULL JOIN (
    SELECT stream_id, max(version) AS version FROM events
    WHERE $1::text IS NULL OR stream_id = $1
    GROUP BY stream_id
) AS e USING (stream_id)
WHERE s.version IS DISTINCT FROM e.version
ORDER BY stream_id
LIMIT 1
"""
