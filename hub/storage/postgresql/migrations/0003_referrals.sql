-- Referrals, their statuses and the outbox (hub/store/pg_referrals.py), and
-- the service catalogues (hub/store/pg_catalogues.py): the tables of
-- hub/store/referrals.py and hub/store/catalogues.py, times as TIMESTAMPTZ.
-- Hub instances claim outbox rows with FOR UPDATE SKIP LOCKED, so each row
-- is attempted by one instance at a time.
CREATE TABLE referral (
    message_id      TEXT PRIMARY KEY,
    referrer        TEXT NOT NULL,
    target          TEXT NOT NULL,
    service_id      TEXT NOT NULL,
    digest          BYTEA NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    deliver_by      TIMESTAMPTZ NOT NULL,
    granted_level   TEXT NOT NULL,
    decision_digest TEXT NOT NULL,
    referral        BYTEA NOT NULL,
    receipt         BYTEA NOT NULL,
    state           TEXT NOT NULL,
    node_receipt    BYTEA
);
CREATE TABLE referral_status (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  TEXT NOT NULL UNIQUE,
    referral_id TEXT NOT NULL REFERENCES referral (message_id),
    status      TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    digest      BYTEA NOT NULL,
    body        BYTEA NOT NULL,
    signed      BYTEA NOT NULL,
    ack         BYTEA NOT NULL
);
CREATE INDEX referral_status_by_referral ON referral_status (referral_id, seq);
CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    referral_id  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    message_id   TEXT NOT NULL UNIQUE,
    payload      BYTEA NOT NULL,
    deadline     TIMESTAMPTZ NOT NULL,
    created      TIMESTAMPTZ NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TIMESTAMPTZ NOT NULL,
    lease_owner  TEXT,
    lease_until  TIMESTAMPTZ,
    last_attempt TIMESTAMPTZ,
    last_error   TEXT,
    answer       BYTEA
);
CREATE INDEX outbox_due ON outbox (next_attempt, id) WHERE state = 'pending';
CREATE TABLE catalogue (
    authority   TEXT PRIMARY KEY,
    published   TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    message_id  TEXT NOT NULL,
    signed      BYTEA NOT NULL,
    receipt     BYTEA NOT NULL
);
