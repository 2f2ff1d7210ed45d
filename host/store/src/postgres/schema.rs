//! The PostgreSQL schema, as numbered migrations applied in order at start (and by
//! `mageflow store migrate`). Each is applied once, in one transaction with its row in
//! `mageflow_schema`, under an advisory lock so two workers starting together do not both
//! apply it. A database migrated by a newer mageflow is refused, naming both versions.
//!
//! Records are the same JSON sled keeps, in `text` columns (kept byte for byte: a journaled
//! answer is replayed as it was written); the columns beside them are what queries select
//! on. Text keys sort as bytes (`COLLATE "C"`), as sled's do.

use super::pool::Conn;
use crate::{Error, Result};

/// The newest schema version this mageflow knows.
pub const SCHEMA_VERSION: i32 = 2;

/// Locks out a second migrator (an arbitrary number, mageflow's own).
const MIGRATION_LOCK: i64 = 0x6d61_6765_666c_6f77;

/// The migrations, version `i + 1` at index `i`. Never edit one that has shipped: add the
/// next.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    r#"
CREATE SEQUENCE mageflow_ids;

CREATE TABLE runs (
    id bigint PRIMARY KEY,
    status text NOT NULL,
    rev bigint NOT NULL,
    record text NOT NULL
);
CREATE INDEX runs_by_status ON runs (status, id);

CREATE TABLE dedupe (
    key text COLLATE "C" PRIMARY KEY,
    run bigint NOT NULL
);

CREATE TABLE journal (
    run bigint NOT NULL,
    seq bigint NOT NULL,
    record text NOT NULL,
    PRIMARY KEY (run, seq)
);

CREATE TABLE clock (
    run bigint NOT NULL,
    seq bigint NOT NULL,
    nanos text NOT NULL,
    PRIMARY KEY (run, seq)
);

CREATE TABLE state_reads (
    run bigint NOT NULL,
    seq bigint NOT NULL,
    value text,
    PRIMARY KEY (run, seq)
);

CREATE TABLE state (
    workflow text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (workflow, key)
);

CREATE TABLE cursors (
    key text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE plugins (
    hash text COLLATE "C" PRIMARY KEY,
    bytes bytea NOT NULL
);

CREATE TABLE approvals (
    id bigint PRIMARY KEY,
    run bigint NOT NULL,
    request bigint NOT NULL,
    status text NOT NULL,
    rev bigint NOT NULL,
    record text NOT NULL,
    UNIQUE (run, request)
);
CREATE INDEX approvals_by_status ON approvals (status, id);

CREATE TABLE audit (
    id bigint PRIMARY KEY,
    run bigint NOT NULL,
    record text NOT NULL
);
CREATE INDEX audit_by_run ON audit (run, id);

CREATE TABLE tokens (
    id text COLLATE "C" PRIMARY KEY,
    rev bigint NOT NULL,
    record text NOT NULL
);

CREATE TABLE access_events (
    seq bigint PRIMARY KEY,
    record text NOT NULL
);

CREATE TABLE scim_records (
    scope text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    record text NOT NULL,
    PRIMARY KEY (scope, id)
);

CREATE TABLE scim_names (
    scope text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    id text NOT NULL,
    PRIMARY KEY (scope, name)
);

-- One row per store handle: a flush commits a change to it durably.
CREATE TABLE flushes (
    owner text PRIMARY KEY,
    n bigint NOT NULL
);
"#,
    r#"
-- Several workers: a run is claimed under a lease whose fence every claim increments, and is
-- claimable from `due` (Unix seconds; NULL while it waits for people or has ended) once no
-- lease holds it. `lease_until` already includes the holder's grace.
ALTER TABLE runs
    ADD COLUMN workflow text COLLATE "C",
    ADD COLUMN created_at bigint,
    ADD COLUMN due bigint,
    ADD COLUMN fence bigint NOT NULL DEFAULT 0,
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_until timestamptz;
UPDATE runs SET
    workflow = record::json ->> 'workflow',
    created_at = (record::json ->> 'created_at')::bigint,
    due = CASE
        WHEN status IN ('queued', 'running') THEN 0
        WHEN status = 'retrying' THEN coalesce((record::json -> 'retry' ->> 'next_at')::bigint, 0)
        WHEN status = 'awaiting-approval' AND NOT EXISTS (
            SELECT 1 FROM approvals a WHERE a.run = runs.id AND a.status = 'pending') THEN 0
    END;
CREATE INDEX runs_due ON runs (due, id) WHERE due IS NOT NULL;
CREATE INDEX runs_unfinished ON runs (workflow) WHERE status NOT IN ('succeeded', 'failed');

-- A poll's cursor, and jobs one worker at a time does, are leased the same way.
ALTER TABLE cursors
    ALTER COLUMN value DROP NOT NULL,
    ADD COLUMN fence bigint NOT NULL DEFAULT 0,
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_until timestamptz;
"#,
];

/// Brings the schema to [`SCHEMA_VERSION`]. Answers the version found and the version now.
pub(crate) fn migrate(conn: &mut Conn) -> Result<(i32, i32)> {
    conn.transaction(true, |tx| {
        tx.query("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch(
            "CREATE TABLE IF NOT EXISTS mageflow_schema (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text NOT NULL
            )",
        )?;
        let found: i32 = tx
            .query_opt("SELECT max(version) FROM mageflow_schema", &[])?
            .and_then(|row| row.get::<_, Option<i32>>(0))
            .unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(Error::SchemaTooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        let by = format!("mageflow {}", env!("CARGO_PKG_VERSION"));
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = i as i32 + 1;
            tx.batch(sql)
                .map_err(|e| Error::Postgres(format!("migration {version} failed: {e}")))?;
            tx.execute(
                "INSERT INTO mageflow_schema (version, applied_by) VALUES ($1, $2)",
                &[&version, &by],
            )?;
        }
        Ok((found, SCHEMA_VERSION))
    })
}
