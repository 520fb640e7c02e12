-- Where the run's HTML report was written (an absolute path, as the
-- machine that ran it saw it), for the trends page to link each point to
-- its run's report. Runs recorded before, and runs without a report (a
-- `runbook run`), keep ''.

-- +goose Up
ALTER TABLE runs ADD COLUMN report TEXT NOT NULL DEFAULT '';

-- No Down: a store is migrated forward, never dropped.
