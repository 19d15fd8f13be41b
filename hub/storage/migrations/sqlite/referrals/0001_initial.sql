-- Hub referrals, statuses and the outbox (hub/store/referrals.py).
-- IF NOT EXISTS: files made before migrations existed are adopted unchanged.
CREATE TABLE IF NOT EXISTS referral (
    message_id      TEXT PRIMARY KEY,
    referrer        TEXT NOT NULL,
    target          TEXT NOT NULL,
    service_id      TEXT NOT NULL,
    digest          BLOB NOT NULL,
    received_at     REAL NOT NULL,
    deliver_by      REAL NOT NULL,
    granted_level   TEXT NOT NULL,
    decision_digest TEXT NOT NULL,
    referral        BLOB NOT NULL,
    receipt         BLOB NOT NULL,
    state           TEXT NOT NULL,
    node_receipt    BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS referral_status (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL UNIQUE,
    referral_id TEXT NOT NULL REFERENCES referral (message_id),
    status      TEXT NOT NULL,
    at          REAL NOT NULL,
    received_at REAL NOT NULL,
    digest      BLOB NOT NULL,
    body        BLOB NOT NULL,
    signed      BLOB NOT NULL,
    ack         BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS referral_status_by_referral ON referral_status (referral_id, seq);
CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    message_id   TEXT NOT NULL UNIQUE,
    payload      BLOB NOT NULL,
    deadline     REAL NOT NULL,
    created      REAL NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    lease_owner  TEXT,
    lease_until  REAL,
    last_attempt REAL,
    last_error   TEXT,
    answer       BLOB
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt);
