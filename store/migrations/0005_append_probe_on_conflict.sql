-- append_events() looks for an already-stored batch (a retry) only where an append cannot go
-- on: when the stream's version check fails (a retried batch always fails it: the stream has
-- moved on, or its row exists) and when the insert meets an event id already in the log (the
-- events_event_id_key unique index; the steps from the stream row to the insert run in a block
-- that rolls back to its start, so nothing of the refused append stays). Outcomes are those of
-- 0004_append_index_probe.sql, which probed every id on every append; everything else is as
-- there. Grants and ownership are kept by CREATE OR REPLACE.
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
    v_first_position bigint;
    v_recorded_at timestamptz;
    v_constraint text;
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

    -- A batch is probed for ids already stored only when it cannot be appended: no index
    -- probe per id on the way of every append. An id already in the log (the same batch
    -- appended before, or an id another batch used) makes the insert fail on the unique index;
    -- the block then rolls back to its start (stream row, log head: nothing of this append
    -- stays) and the outcome is stored_batch()'s, as when the ids were probed first.
    BEGIN
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
            -- The same batch may have been appended (a retry), before or while we waited for
            -- the row: not a conflict.
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
        -- includes the commit's WAL flush. Everything that can happen earlier (validation, the
        -- stream's version check and row lock, the previous hash) has happened already; only
        -- the hashing, the insert (with its unique-index check of the ids) and the commit remain
        -- under the lock.
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

    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
        IF v_constraint IS DISTINCT FROM 'events_event_id_key' THEN
            RAISE;
        END IF;
        RETURN QUERY SELECT * FROM stored_batch(p_stream_id, p_event_ids);
        IF NOT FOUND THEN
            RAISE;  -- the colliding append is gone again: EventStore.append reports a retry
        END IF;
        RETURN;
    END;

    RETURN QUERY SELECT
        'appended',
        p_expected_version + n,
        array(SELECT generate_series(v_first_position, v_first_position + n - 1)),
        NULL::uuid;
END
$$;
