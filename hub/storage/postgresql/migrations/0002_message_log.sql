-- The message log (hub/log/pg_log.py). merkle_size is the one-row head of
-- the tree: appenders lock it FOR UPDATE, so leaves from every instance get
-- one gap-free order.
CREATE TABLE log_leaf (
    idx        BIGINT PRIMARY KEY,
    leaf       BYTEA NOT NULL,
    message_id TEXT NOT NULL
);
CREATE INDEX log_leaf_message_id ON log_leaf (message_id);
CREATE TABLE log_message (idx BIGINT PRIMARY KEY, raw BYTEA NOT NULL);
CREATE TABLE log_pruned (
    idx       BIGINT PRIMARY KEY,
    rule_id   TEXT NOT NULL,
    pruned_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE log_checkpoint (
    size      BIGINT PRIMARY KEY,
    note      BYTEA NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE log_cosignature (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    size        BIGINT NOT NULL,
    witness     TEXT NOT NULL,
    line        BYTEA NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (size, witness)
);
CREATE TABLE merkle_node (
    level SMALLINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE merkle_size (
    id   SMALLINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO merkle_size VALUES (1, 0);
