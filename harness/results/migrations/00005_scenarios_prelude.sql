-- The time of a scenario's prelude (the operation under test that makes
-- the state its faults act on, e.g. a rolling upgrade's waves), apart
-- from the harness's injection it was counted in before. Rows of an older
-- store keep their values: their preludes are inside inject_ns.

-- +goose Up
ALTER TABLE scenarios ADD COLUMN prelude_ns BIGINT NOT NULL DEFAULT 0;

-- No Down: a store is migrated forward, never dropped.
