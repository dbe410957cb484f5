-- The directory: the area tree and the users who work in it.
-- Areas use the significant prefix of their administrative division code (see domain/areas.py),
-- so "inside" is a prefix test and needs no recursive query.
CREATE TABLE IF NOT EXISTS areas (
    code   text PRIMARY KEY CHECK (code ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
    name   text NOT NULL,
    level  text NOT NULL CHECK (level IN ('province', 'prefecture', 'county', 'township', 'village')),
    parent text REFERENCES areas (code)
);

-- Bearer tokens are stored only as their SHA-256: they are long random secrets, so a fast hash
-- is enough and a stolen table does not let anyone sign in.
CREATE TABLE IF NOT EXISTS users (
    user_id      text PRIMARY KEY,
    display_name text NOT NULL,
    role         text NOT NULL CHECK (role IN ('caseworker', 'supervisor', 'auditor', 'admin')),
    area         text NOT NULL REFERENCES areas (code),
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

GRANT SELECT, INSERT, UPDATE ON areas, users TO caseflow_app;
