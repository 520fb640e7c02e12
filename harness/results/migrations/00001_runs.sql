-- The first store (kmschaos before labels and phases): a run and its
-- scenarios' verdicts. Times are nanoseconds, instants nanoseconds since
-- the Unix epoch, so SQLite and PostgreSQL hold the same numbers.

-- +goose Up
CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    started_ns  BIGINT NOT NULL,
    duration_ns BIGINT NOT NULL,
    seed        BIGINT NOT NULL,
    backend     TEXT NOT NULL,
    n           INTEGER NOT NULL,
    t           INTEGER NOT NULL,
    commit_sha  TEXT NOT NULL,
    machine     TEXT NOT NULL
);
CREATE INDEX runs_started ON runs (started_ns);

CREATE TABLE scenarios (
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    section    TEXT NOT NULL,
    verdict    TEXT NOT NULL,
    ttd_ns     BIGINT NOT NULL,
    ttr_ns     BIGINT NOT NULL,
    ops_ok     INTEGER NOT NULL,
    ops_failed INTEGER NOT NULL,
    ops_wrong  INTEGER NOT NULL,
    keys       TEXT NOT NULL,
    defects    TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX scenarios_name ON scenarios (name, run_id);

-- No Down: a store is migrated forward, never dropped.
