-- The latest service catalogue of each authority (hub/store/catalogues.py).
-- IF NOT EXISTS: files made before migrations existed are adopted unchanged.
CREATE TABLE IF NOT EXISTS catalogue (
    authority   TEXT PRIMARY KEY,
    published   REAL NOT NULL,
    received_at REAL NOT NULL,
    message_id  TEXT NOT NULL,
    signed      BLOB NOT NULL,
    receipt     BLOB NOT NULL
) WITHOUT ROWID;
