-- The message log (hub/log/sqlite_log.py): leaves, message bytes, pruning
-- records, checkpoints, cosignatures and the Merkle tree's perfect subtrees.
-- IF NOT EXISTS: logs made before migrations existed are adopted unchanged.
CREATE TABLE IF NOT EXISTS log_leaf (
    idx        INTEGER PRIMARY KEY,
    leaf       BLOB NOT NULL,
    message_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_leaf_message_id ON log_leaf (message_id);
CREATE TABLE IF NOT EXISTS log_message (idx INTEGER PRIMARY KEY, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS log_pruned (
    idx       INTEGER PRIMARY KEY,
    rule_id   TEXT NOT NULL,
    pruned_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_checkpoint (
    size      INTEGER PRIMARY KEY,
    note      BLOB NOT NULL,
    signed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_cosignature (
    size        INTEGER NOT NULL,
    witness     TEXT NOT NULL,
    line        BLOB NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (size, witness)
);
CREATE TABLE IF NOT EXISTS merkle_node (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS merkle_size (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO merkle_size VALUES (1, 0) ON CONFLICT DO NOTHING;
