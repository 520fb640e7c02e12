-- Scenarios by section: `history --section` and `compare --section`, and
-- the section names an unknown one is matched against, read this index
-- instead of every scenario row (seconds at 10,000 runs × 60 scenarios).
-- Version 4: version 3 is another change's (the report's path).

-- +goose Up
CREATE INDEX scenarios_section ON scenarios (section, name);

-- No Down: a store is migrated forward, never dropped.
