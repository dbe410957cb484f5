-- Group commit, and a leaner append_events().
--
-- append_events() loses the block that caught an event id already in the log: that block was a
-- subtransaction on every append, and the case it caught (the ids stored otherwise, or by a
-- concurrent append) is rare. The insert's unique violation now ends the statement, nothing of
-- it stays, and EventStore.append asks stored_batch() for the outcome, as 0005 did inside. The
-- positions come from the loop that hashes instead of a query. Everything else is as in
-- 0005_append_probe_on_conflict.sql; grants and ownership are kept by CREATE OR REPLACE.
CREATE OR REPLACE FUNCTION append_events(
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
    v_positions bigint[] := '{}';
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

    -- Optimistic concurrency on the stream's row, before any global position is taken (see
    -- 0001_event_store.sql). A retried batch always fails this check: the stream has moved on.
    IF p_expected_version = 0 THEN
        INSERT INTO streams (stream_id, version) VALUES (p_stream_id, n)
        ON CONFLICT (stream_id) DO NOTHING;
    ELSE
        UPDATE streams SET version = version + n
        WHERE stream_id = p_stream_id AND version = p_expected_version;
    END IF;
    IF NOT FOUND THEN
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

    -- Gap safety: the log head's row lock, held to commit (see 0001_event_store.sql).
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
        v_positions := array_append(v_positions, v_first_position + i - 1);
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

    RETURN QUERY SELECT 'appended', p_expected_version + n, v_positions, NULL::uuid;
END
$$;

-- append_batches(): several appends, to different streams, in one statement and so in one
-- transaction: group commit. Appends serialise from taking their positions on the log_head row
-- until their commit (see append_events() in 0001_event_store.sql for why), so concurrent appends
-- one transaction each commit one WAL flush at a time. EventStore gathers the appends that wait
-- while one is in flight and sends them here together: one log_head lock, one insert, one flush.
--
-- Each batch keeps the guarantees and the outcomes of append_events(): its version is checked on
-- its stream's row before any position is taken, a retried batch gives the first append's result,
-- positions stay dense and in commit order. A refused batch (wrong expected version, or stored
-- already) does not hold the others back. The whole statement fails instead, and EventStore then
-- appends the batches one by one with append_events(), when the database raises for one of them:
-- an event id that is already stored (the unique index), data that is not JSON, a stream whose
-- previous event is missing.
--
-- The batches are given as one array per field of all their events, batch after batch, with
-- p_sizes[b] events in batch b. A stream may appear only once: EventStore holds a second append
-- to the same stream back for the next group (its expected version depends on the first).
CREATE FUNCTION append_batches(
    p_stream_ids text[],
    p_expected_versions bigint[],
    p_sizes integer[],
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data text[],
    p_metadata text[]
) RETURNS TABLE (
    batch integer, outcome text, stream_version bigint, positions bigint[], conflict_event_id uuid
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    batches constant integer := coalesce(cardinality(p_stream_ids), 0);
    n constant integer := coalesce(cardinality(p_event_ids), 0);
    v_starts integer[];  -- v_starts[b]: the index of batch b's first event in the event arrays
    v_previous bytea[] := array_fill(NULL::bytea, ARRAY[batches]);  -- NULL: batch refused
    v_accepted integer := 0;  -- events in the batches that passed their version check
    v_hash bytea;
    v_hashes bytea[] := array_fill(NULL::bytea, ARRAY[n]);
    v_positions bigint[] := array_fill(NULL::bigint, ARRAY[n]);
    v_versions bigint[] := array_fill(NULL::bigint, ARRAY[n]);
    v_streams text[] := array_fill(NULL::text, ARRAY[n]);
    v_position bigint;
    v_recorded_at timestamptz;
    b integer;
    i integer;
BEGIN
    IF batches = 0
        OR coalesce(cardinality(p_expected_versions), 0) <> batches
        OR coalesce(cardinality(p_sizes), 0) <> batches
        OR coalesce(cardinality(p_types), 0) <> n
        OR coalesce(cardinality(p_schema_versions), 0) <> n
        OR coalesce(cardinality(p_data), 0) <> n
        OR coalesce(cardinality(p_metadata), 0) <> n
        OR (SELECT sum(s) FROM unnest(p_sizes) AS s) IS DISTINCT FROM n
        OR EXISTS (SELECT FROM unnest(p_sizes) AS s WHERE s IS NULL OR s < 1)
        OR EXISTS (SELECT FROM unnest(p_expected_versions) AS v WHERE v IS NULL OR v < 0)
        OR (SELECT count(DISTINCT s) FROM unnest(p_stream_ids) AS s) <> batches
    THEN
        RAISE EXCEPTION 'append_batches needs batches of one or more events, each to its own stream'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_starts := array(
        SELECT (sum(s) OVER (ORDER BY ord) - s + 1)::integer
        FROM unnest(p_sizes) WITH ORDINALITY AS t (s, ord)
        ORDER BY ord
    );

    -- The streams' rows are checked and locked in stream id order, and the log head after all of
    -- them, as append_events() does for its one stream: two groups, or a group and a single
    -- append, never wait for each other's rows in a cycle.
    FOR b IN
        SELECT ord::integer FROM unnest(p_stream_ids) WITH ORDINALITY AS t (id, ord) ORDER BY id
    LOOP
        IF p_expected_versions[b] = 0 THEN
            INSERT INTO streams (stream_id, version) VALUES (p_stream_ids[b], p_sizes[b])
            ON CONFLICT (stream_id) DO NOTHING;
        ELSE
            UPDATE streams SET version = version + p_sizes[b]
            WHERE stream_id = p_stream_ids[b] AND version = p_expected_versions[b];
        END IF;
        IF NOT FOUND THEN
            RETURN QUERY SELECT b, s.*
            FROM stored_batch(
                p_stream_ids[b], p_event_ids[v_starts[b]:v_starts[b] + p_sizes[b] - 1]
            ) AS s;
            IF NOT FOUND THEN
                RETURN QUERY SELECT
                    b,
                    'wrong_expected_version',
                    coalesce((SELECT version FROM streams WHERE stream_id = p_stream_ids[b]), 0),
                    NULL::bigint[],
                    NULL::uuid;
            END IF;
            CONTINUE;
        END IF;
        IF p_expected_versions[b] = 0 THEN
            v_previous[b] := decode(repeat('00', 32), 'hex');
        ELSE
            SELECT hash INTO v_hash
            FROM events WHERE stream_id = p_stream_ids[b] AND version = p_expected_versions[b];
            IF NOT FOUND THEN
                RAISE EXCEPTION 'stream % version % is missing from the log: run verify',
                    p_stream_ids[b], p_expected_versions[b]
                    USING ERRCODE = 'data_corrupted';
            END IF;
            v_previous[b] := v_hash;
        END IF;
        v_accepted := v_accepted + p_sizes[b];
    END LOOP;
    IF v_accepted = 0 THEN
        RETURN;
    END IF;

    UPDATE log_head
    SET position = position + v_accepted,
        recorded_at = greatest(clock_timestamp(), recorded_at)
    RETURNING position - v_accepted + 1, recorded_at INTO v_position, v_recorded_at;

    FOR b IN 1..batches LOOP
        CONTINUE WHEN v_previous[b] IS NULL;
        v_hash := v_previous[b];
        FOR i IN v_starts[b]..v_starts[b] + p_sizes[b] - 1 LOOP
            v_streams[i] := p_stream_ids[b];
            v_versions[i] := p_expected_versions[b] + i - v_starts[b] + 1;
            v_positions[i] := v_position;
            v_hash := event_hash(
                v_hash, p_stream_ids[b], v_versions[i], p_event_ids[i], p_types[i],
                p_schema_versions[i], p_data[i], p_metadata[i], v_recorded_at
            );
            v_hashes[i] := v_hash;
            v_position := v_position + 1;
        END LOOP;
        RETURN QUERY SELECT
            b,
            'appended',
            p_expected_versions[b] + p_sizes[b],
            v_positions[v_starts[b]:v_starts[b] + p_sizes[b] - 1],
            NULL::uuid;
    END LOOP;

    INSERT INTO events (
        position, stream_id, version, event_id, type, schema_version, data, metadata,
        recorded_at, hash
    )
    SELECT
        e.position, e.stream_id, e.version, e.event_id, e.type, e.schema_version, e.data::json,
        e.metadata::json, v_recorded_at, e.hash
    FROM unnest(
        v_positions, v_streams, v_versions, p_event_ids, p_types, p_schema_versions, p_data,
        p_metadata, v_hashes
    ) AS e (position, stream_id, version, event_id, type, schema_version, data, metadata, hash)
    WHERE e.position IS NOT NULL;

    PERFORM pg_notify('caseflow_events', (v_position - 1)::text);
END
$$;

-- Like append_events(): the application role appends only through this function.
REVOKE ALL ON FUNCTION append_batches(
    text[], bigint[], integer[], uuid[], text[], integer[], text[], text[]
) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION append_batches(
    text[], bigint[], integer[], uuid[], text[], integer[], text[], text[]
) TO caseflow_app;
