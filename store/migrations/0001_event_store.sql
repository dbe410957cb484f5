-- The event store: one append-only log of events, the heads that order it, signed checkpoints
-- over it, and the application role that may read it and append to it only through
-- append_events(). Everything lives in schema public.

DO $$
BEGIN
    IF current_setting('server_version_num')::integer < 140000 THEN
        RAISE EXCEPTION 'the caseflow event store needs PostgreSQL 14 or later';
    END IF;
END
$$;

-- The role the processes connect as. Roles belong to the server, not to one database, so it may
-- exist already (another caseflow database on the same server, or created by an operator).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'caseflow_app') THEN
        CREATE ROLE caseflow_app LOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created meanwhile by a migration of another database on this server
END
$$;

-- One row per stream, its version: appends check and lock it before they take any global
-- position.
CREATE TABLE streams (
    stream_id text PRIMARY KEY,
    version bigint NOT NULL CHECK (version > 0)
);

-- The single head of the global log: the last position given out and the last recorded time.
-- See append_events() for why every append updates it.
CREATE TABLE log_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position bigint NOT NULL,
    recorded_at timestamptz NOT NULL
);
INSERT INTO log_head (position, recorded_at) VALUES (0, '-infinity');

-- data and metadata are json, not jsonb: json keeps the exact text it was given, so the bytes
-- hashed are the bytes stored.
CREATE TABLE events (
    position bigint NOT NULL,
    stream_id text NOT NULL,
    version bigint NOT NULL CHECK (version > 0),
    event_id uuid NOT NULL,
    type text NOT NULL,
    schema_version integer NOT NULL,
    data json NOT NULL,
    metadata json NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    hash bytea NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (position),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

CREATE TABLE checkpoints (
    sequence_no bigint PRIMARY KEY CHECK (sequence_no > 0),
    up_to_position bigint NOT NULL,
    event_count bigint NOT NULL,
    digest bytea NOT NULL,
    previous_digest bytea NOT NULL,
    signature bytea NOT NULL,
    key_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The canonical encoding of an event for its hash; store/integrity.py event_hash() documents it
-- and must compute exactly the same bytes.
CREATE FUNCTION event_hash_field(value text) RETURNS bytea
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT int4send(octet_length(convert_to(value, 'UTF8'))) || convert_to(value, 'UTF8') $$;

CREATE FUNCTION event_hash(
    previous bytea,
    stream_id text,
    version bigint,
    event_id uuid,
    type text,
    schema_version integer,
    data text,
    metadata text,
    recorded_at timestamptz
) RETURNS bytea
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    SELECT sha256(
        previous
        || event_hash_field(stream_id)
        || int8send(version)
        || uuid_send(event_id)
        || event_hash_field(type)
        || int4send(schema_version)
        || event_hash_field(data)
        || event_hash_field(metadata)
        || int8send((extract(epoch FROM recorded_at) * 1000000)::bigint)
    )
$$;

-- The batch p_event_ids if it is already stored: outcome 'already_appended' when every id is in
-- p_stream_id at consecutive versions in the given order, 'duplicate_event_id' when any id is
-- stored otherwise (conflict_event_id names the first), no row when none is stored.
CREATE FUNCTION stored_batch(p_stream_id text, p_event_ids uuid[])
RETURNS TABLE (outcome text, stream_version bigint, positions bigint[], conflict_event_id uuid)
LANGUAGE sql STABLE
SET search_path = public, pg_temp
AS $$
    WITH found AS (
        SELECT e.stream_id, e.version, e.position, e.event_id, ids.ord
        FROM unnest(p_event_ids) WITH ORDINALITY AS ids (event_id, ord)
        JOIN events AS e ON e.event_id = ids.event_id
    )
    SELECT
        CASE
            WHEN count(*) = cardinality(p_event_ids)
                AND bool_and(stream_id = p_stream_id)
                AND count(DISTINCT version - ord) = 1
            THEN 'already_appended'
            ELSE 'duplicate_event_id'
        END,
        max(version),
        array_agg(position ORDER BY ord),
        (array_agg(event_id ORDER BY ord))[1]
    FROM found
    HAVING count(*) > 0
$$;

-- Append a batch of events to one stream in one statement. Returns one row: outcome
-- 'appended' or 'already_appended' with the stream's version after the batch and the batch's
-- positions, 'wrong_expected_version' with the stream's actual version, or 'duplicate_event_id'.
CREATE FUNCTION append_events(
    p_stream_id text,
    p_expected_version bigint,
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data text[],
    p_metadata text[]
) RETURNS TABLE (outcome text, stream_version bigint, positions bigint[], conflict_event_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    n constant integer := coalesce(cardinality(p_event_ids), 0);
    v_hash bytea;
    v_hashes bytea[] := '{}';
    v_first_position bigint;
    v_recorded_at timestamptz;
BEGIN
    IF n = 0 OR p_expected_version IS NULL OR p_expected_version < 0
        OR coalesce(cardinality(p_types), 0) <> n
        OR coalesce(cardinality(p_schema_versions), 0) <> n
        OR coalesce(cardinality(p_data), 0) <> n
        OR coalesce(cardinality(p_metadata), 0) <> n
    THEN
        RAISE EXCEPTION 'append_events needs one or more events with all their fields'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF EXISTS (SELECT FROM events WHERE event_id = ANY (p_event_ids)) THEN
        RETURN QUERY SELECT * FROM stored_batch(p_stream_id, p_event_ids);
        RETURN;
    END IF;

    -- Optimistic concurrency on the stream's row, before any global position is taken. A
    -- concurrent append to the same stream holds this row until it commits; we then see the
    -- version it left, and match nothing.
    IF p_expected_version = 0 THEN
        INSERT INTO streams (stream_id, version) VALUES (p_stream_id, n)
        ON CONFLICT (stream_id) DO NOTHING;
    ELSE
        UPDATE streams SET version = version + n
        WHERE stream_id = p_stream_id AND version = p_expected_version;
    END IF;
    IF NOT FOUND THEN
        -- The same batch may have committed while we waited for the row: a retry, not a conflict.
        RETURN QUERY SELECT * FROM stored_batch(p_stream_id, p_event_ids);
        IF NOT FOUND THEN
            RETURN QUERY SELECT
                'wrong_expected_version',
                coalesce((SELECT version FROM streams WHERE stream_id = p_stream_id), 0),
                NULL::bigint[],
                NULL::uuid;
        END IF;
        RETURN;
    END IF;
    IF p_expected_version = 0 THEN
        v_hash := decode(repeat('00', 32), 'hex');
    ELSE
        SELECT hash INTO v_hash
        FROM events WHERE stream_id = p_stream_id AND version = p_expected_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'stream % version % is missing from the log: run verify',
                p_stream_id, p_expected_version
                USING ERRCODE = 'data_corrupted';
        END IF;
    END IF;

    -- Gap safety. Readers of the global log page by position (`WHERE position > $after`), so
    -- position order must be commit order: a reader must never see position p + 1 committed
    -- while p is still in flight, or it moves past p and never returns to it. A plain sequence
    -- does not give that (nextval is taken early and never rolled back, so a transaction that took
    -- p can commit after one that took p + 1), and filtering on "xid older than the snapshot's
    -- xmin" is not enough either (a later position can belong to an older, already committed
    -- transaction while an earlier one is open). So positions come from the single log_head row,
    -- and this UPDATE's row lock is held until this transaction ends: the next append waits here
    -- until we commit or roll back, then continues from the head we left. Consequences:
    --   * every position <= p is committed before p is, so `position > $after` never skips;
    --   * a rolled-back append gives its positions back, so positions are dense (1, 2, 3, ...),
    --     and verify treats any missing position as a deleted event;
    --   * recorded_at, taken under the same lock, never decreases in position order, so an
    --     as-of time cuts every stream and the global log at a prefix.
    -- The price is that appends to the whole store are serialised from here to commit, which
    -- includes the commit's WAL flush. Everything that can happen earlier (validation,
    -- idempotency, the stream's version check and row lock, the previous hash) has happened
    -- already; only the hashing, the insert and the commit remain under the lock.
    UPDATE log_head
    SET position = position + n,
        recorded_at = greatest(clock_timestamp(), recorded_at)
    RETURNING position - n + 1, recorded_at INTO v_first_position, v_recorded_at;

    FOR i IN 1..n LOOP
        v_hash := event_hash(
            v_hash, p_stream_id, p_expected_version + i, p_event_ids[i], p_types[i],
            p_schema_versions[i], p_data[i], p_metadata[i], v_recorded_at
        );
        v_hashes := array_append(v_hashes, v_hash);
    END LOOP;

    INSERT INTO events (
        position, stream_id, version, event_id, type, schema_version, data, metadata,
        recorded_at, hash
    )
    SELECT
        v_first_position + e.i - 1, p_stream_id, p_expected_version + e.i, e.event_id, e.type,
        e.schema_version, e.data::json, e.metadata::json, v_recorded_at, e.hash
    FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata, v_hashes)
        WITH ORDINALITY AS e (event_id, type, schema_version, data, metadata, hash, i);

    PERFORM pg_notify('caseflow_events', (v_first_position + n - 1)::text);

    RETURN QUERY SELECT
        'appended',
        p_expected_version + n,
        array(SELECT generate_series(v_first_position, v_first_position + n - 1)),
        NULL::uuid;
END
$$;

-- Append-only, for every role including the owner: these triggers refuse any UPDATE, DELETE or
-- TRUNCATE. Only a superuser who disables triggers (session_replication_role = replica) gets
-- past them, and verify() with the signed checkpoints then reports what was changed.
CREATE FUNCTION refuse_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The application role reads everything and appends only through append_events(), which runs
-- as the owner: it cannot write positions, versions or hashes of its own making.
GRANT USAGE ON SCHEMA public TO caseflow_app;
GRANT SELECT ON events, streams, log_head, checkpoints TO caseflow_app;
GRANT INSERT ON checkpoints TO caseflow_app;
REVOKE ALL ON FUNCTION append_events(text, bigint, uuid[], text[], integer[], text[], text[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION append_events(text, bigint, uuid[], text[], integer[], text[], text[])
    TO caseflow_app;
