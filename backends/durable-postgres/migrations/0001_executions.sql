-- The executions of a self-hosted durable execution service, on PostgreSQL.
--
-- Mirrors the SQLite design. `seq` orders executions by creation (listings
-- page on it). The identity, header, operation and event bodies are serde
-- JSON documents kept as text (read back by the backend, which reports
-- unreadable ones as corrupt). Timestamps are milliseconds since the epoch.
CREATE TABLE executions (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    arn             TEXT   NOT NULL UNIQUE,
    function_name   TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    identity        TEXT   NOT NULL,
    header          TEXT   NOT NULL,
    status          TEXT   NOT NULL,
    start_timestamp BIGINT NOT NULL,
    end_timestamp   BIGINT,
    due_at          BIGINT,
    event_count     BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    UNIQUE (function_name, name)
);

-- "Due now": claims scan executions by due time.
CREATE INDEX executions_due_at ON executions (due_at, seq) WHERE due_at IS NOT NULL;

-- One row per operation, at its fixed position in first-start order.
CREATE TABLE operations (
    arn      TEXT   NOT NULL REFERENCES executions (arn),
    id       TEXT   NOT NULL,
    position BIGINT NOT NULL,
    body     TEXT   NOT NULL,
    PRIMARY KEY (arn, id),
    UNIQUE (arn, position)
);

-- The history, appended; event ids continue 1, 2, 3… per execution.
CREATE TABLE events (
    arn      TEXT   NOT NULL REFERENCES executions (arn),
    event_id BIGINT NOT NULL,
    body     TEXT   NOT NULL,
    PRIMARY KEY (arn, event_id)
);

-- "By callback id": which execution a callback belongs to.
CREATE TABLE callbacks (
    callback_id TEXT NOT NULL PRIMARY KEY,
    arn         TEXT NOT NULL REFERENCES executions (arn)
);
