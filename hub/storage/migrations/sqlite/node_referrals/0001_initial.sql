-- A borough node's received referrals and sent-referral statuses (adapters/referral/sqlite.py).
-- IF NOT EXISTS: files made before migrations existed are adopted unchanged.
CREATE TABLE IF NOT EXISTS received (
    referral_id   TEXT PRIMARY KEY,
    referrer      TEXT NOT NULL,
    service_id    TEXT NOT NULL,
    received_at   REAL NOT NULL,
    granted_level TEXT NOT NULL,
    digest        BLOB NOT NULL,
    referral      BLOB NOT NULL,
    forward       BLOB NOT NULL,
    receipt       BLOB NOT NULL,
    status        TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sent (
    referral_id TEXT PRIMARY KEY,
    target      TEXT NOT NULL,
    service_id  TEXT NOT NULL,
    sent_at     REAL NOT NULL,
    referral    BLOB NOT NULL,
    receipt     BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sent_event (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL UNIQUE,
    referral_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    at          REAL NOT NULL,
    detail      TEXT,
    signed      BLOB NOT NULL,
    ack         BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sent_event_by_referral ON sent_event (referral_id, seq);
