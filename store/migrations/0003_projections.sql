-- Projections: read models built from the event log by the projector (store/projections/).
-- Each projection stores how far into the log it has read in projection_positions, in the same
-- transaction as its read-model changes, so each event is applied exactly once. Everything here
-- can be thrown away and rebuilt from the log: none of it is a record in its own right.

CREATE TABLE projection_positions (
    name text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0 CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO projection_positions (name)
VALUES ('caseload'), ('approvals_inbox'), ('assistance_ledger'), ('program_report');

-- Each projection's own fold of every case (domain.state.apply over the case's events up to the
-- projection's position), so that a projection derives its rows from the one fold and can be
-- rebuilt alone. The state holds the report as corrected, personal data included, like the log.
CREATE TABLE projected_cases (
    projection text NOT NULL REFERENCES projection_positions (name),
    case_id uuid NOT NULL,
    version bigint NOT NULL CHECK (version > 0),
    position bigint NOT NULL,
    state jsonb NOT NULL,
    PRIMARY KEY (projection, case_id)
);

-- Area codes are compared by prefix (domain/areas.py): "C" collation lets a btree index serve
-- `LIKE '5306%'` whatever the database's locale.

-- caseload: one row per case, derived from its folded state. No names: the caseworker UI shows
-- a case's child by reading that one case, which the API checks access to.
CREATE TABLE caseload (
    case_id uuid PRIMARY KEY,
    status text NOT NULL,
    priority text,
    risk_level text,
    assessment_due_at timestamptz,
    assessment_overdue boolean NOT NULL,
    approvals_overdue integer NOT NULL,
    referrals_overdue integer NOT NULL,
    visit_missed boolean NOT NULL,
    overdue boolean NOT NULL,
    next_visit_due timestamptz,
    next_deadline timestamptz,
    village text COLLATE "C" NOT NULL,
    township text COLLATE "C" NOT NULL,
    county text COLLATE "C" NOT NULL,
    assigned_to text NOT NULL,
    opened_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version bigint NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX caseload_village ON caseload (village);
CREATE INDEX caseload_next_deadline ON caseload (next_deadline, opened_at, case_id);

-- approvals_inbox: every approval ever requested, as it stands; the inbox is the pending ones.
-- `area` is the area whose supervisors decide it at its current level.
CREATE TABLE approvals_inbox (
    approval_id uuid PRIMARY KEY,
    case_id uuid NOT NULL,
    kind text NOT NULL,
    subject_id uuid NOT NULL,
    level text NOT NULL,
    area text COLLATE "C" NOT NULL,
    village text COLLATE "C" NOT NULL,
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    emergency boolean NOT NULL,
    escalated boolean NOT NULL,
    timed_out boolean NOT NULL,
    status text NOT NULL,
    decided_by text,
    decided_at timestamptz,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX approvals_inbox_pending ON approvals_inbox (area, requested_at, approval_id)
    WHERE status = 'pending';
CREATE INDEX approvals_inbox_case ON approvals_inbox (case_id);

-- assistance_ledger: one row per delivery.
CREATE TABLE assistance_ledger (
    delivery_id uuid PRIMARY KEY,
    case_id uuid NOT NULL,
    request_id uuid NOT NULL,
    kind text NOT NULL,
    assistance_group text NOT NULL,
    quantity integer NOT NULL,
    unit text NOT NULL,
    value_yuan bigint NOT NULL,
    delivered_on date NOT NULL,
    village text COLLATE "C" NOT NULL,
    county text COLLATE "C" NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    position bigint NOT NULL UNIQUE
);
CREATE INDEX assistance_ledger_case ON assistance_ledger (case_id, position);
CREATE INDEX assistance_ledger_county ON assistance_ledger (county, delivered_on);

-- program_report: every figure is a count of fact rows, and every fact row names the event
-- behind it. Facts that happen on a day (a delivery, a registration, ...) are counted in the year
-- of that day; children covered are counted from coverage periods (a case open with a category,
-- from the event that began it until the event that ended it), once per child, category and year.
CREATE TABLE program_report_facts (
    year integer NOT NULL,
    county text COLLATE "C" NOT NULL,
    figure text NOT NULL,
    case_id uuid NOT NULL,
    event_id uuid NOT NULL,
    position bigint NOT NULL,
    occurred_on date NOT NULL,
    PRIMARY KEY (year, county, figure, event_id)
);
CREATE TABLE program_report_coverage (
    case_id uuid NOT NULL,
    category text NOT NULL,
    county text COLLATE "C" NOT NULL,
    from_on date NOT NULL,
    until_on date,
    event_id uuid NOT NULL,
    position bigint NOT NULL,
    ended_by_event_id uuid,
    ended_by_position bigint,
    PRIMARY KEY (case_id, category, position)
);
CREATE INDEX program_report_coverage_county ON program_report_coverage (county, category, from_on);

-- The application role runs the projector and `caseflow projections rebuild`: it writes these
-- tables, TRUNCATE included (a rebuild empties a projection's tables before replaying the log).
-- They are read models, not the record: the log stays append-only for every role.
GRANT SELECT, INSERT, UPDATE ON projection_positions TO caseflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON
    projected_cases, caseload, approvals_inbox, assistance_ledger, program_report_facts,
    program_report_coverage
TO caseflow_app;
