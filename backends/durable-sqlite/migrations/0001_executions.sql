-- The executions of a self-hosted durable execution service.
--
-- `seq` orders executions by creation (listings page on it). The identity
-- and header are the serde documents of `ExecutionIdentity` and
-- `ExecutionHeader`; `status`, `end_timestamp` and `due_at` are the index
-- fields of the last commit. Timestamps are milliseconds since the epoch.
CREATE TABLE executions (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    arn             TEXT    NOT NULL UNIQUE,
    function_name   TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    identity        TEXT    NOT NULL,
    header          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    start_timestamp INTEGER NOT NULL,
    end_timestamp   INTEGER,
    due_at          INTEGER,
    event_count     INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    UNIQUE (function_name, name)
);

-- "Due now": claims scan executions by due time.
CREATE INDEX executions_due_at ON executions (due_at) WHERE due_at IS NOT NULL;

-- One row per operation, at its fixed position in first-start order.
CREATE TABLE operations (
    arn      TEXT    NOT NULL REFERENCES executions (arn),
    id       TEXT    NOT NULL,
    position INTEGER NOT NULL,
    body     TEXT    NOT NULL,
    PRIMARY KEY (arn, id),
    UNIQUE (arn, position)
) WITHOUT ROWID;

-- The history, appended; event ids continue 1, 2, 3… per execution.
CREATE TABLE events (
    arn      TEXT    NOT NULL REFERENCES executions (arn),
    event_id INTEGER NOT NULL,
    body     TEXT    NOT NULL,
    PRIMARY KEY (arn, event_id)
) WITHOUT ROWID;

-- "By callback id": which execution a callback belongs to.
CREATE TABLE callbacks (
    callback_id TEXT NOT NULL PRIMARY KEY,
    arn         TEXT NOT NULL REFERENCES executions (arn)
) WITHOUT ROWID;
