-- Seen (sender, MessageID) pairs with the digest of the bytes first seen
-- (hub/replay.py). IF NOT EXISTS: files made before migrations existed
-- already hold this table and are adopted unchanged.
CREATE TABLE IF NOT EXISTS seen_message (
    sender     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    digest     BLOB NOT NULL,
    keep_until REAL NOT NULL,
    PRIMARY KEY (sender, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_message_until ON seen_message (keep_until);
