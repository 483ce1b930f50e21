-- The audit log: every mutation attempt, who, when, what, on what, and how it ended.
-- Kept in lock-step with ../postgres/0002_audit_log.sql.

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    occurred_at   TEXT NOT NULL,
    actor         TEXT NOT NULL,
    actor_role    TEXT,
    actor_region  TEXT,
    operation     TEXT NOT NULL,
    target        TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('SUCCEEDED', 'DENIED', 'FAILED')),
    error_code    TEXT,
    detail        TEXT,
    created_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_operation ON audit_log (operation, id);
