-- Seen (sender, MessageID) pairs, shared by every hub instance: a replay
-- sent to another instance behind the load balancer is still a replay.
CREATE TABLE seen_message (
    sender     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    digest     BYTEA NOT NULL,
    keep_until TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sender, message_id)
);
CREATE INDEX seen_message_until ON seen_message (keep_until);
