-- Labels the user gives a run (release=1.4.2), the party image it ran,
-- and per scenario who recovered the cluster and where its time went.
-- Rows of a v1 store keep their values; the new columns start empty.

-- +goose Up
CREATE TABLE run_labels (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX run_labels_key ON run_labels (key, value);
ALTER TABLE runs ADD COLUMN image TEXT NOT NULL DEFAULT '';
ALTER TABLE scenarios ADD COLUMN recovered_by TEXT NOT NULL DEFAULT '';
ALTER TABLE scenarios ADD COLUMN error TEXT NOT NULL DEFAULT '';
ALTER TABLE scenarios ADD COLUMN duration_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scenarios ADD COLUMN reset_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scenarios ADD COLUMN inject_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scenarios ADD COLUMN detect_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scenarios ADD COLUMN observe_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scenarios ADD COLUMN runbook_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scenarios ADD COLUMN recover_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scenarios ADD COLUMN audit_ns BIGINT NOT NULL DEFAULT 0;

-- No Down: a store is migrated forward, never dropped.
