-- The signed bytes of each ISP version in force, shared by every hub
-- instance, so that all of them enforce the same version of each authority.
CREATE TABLE isp_in_force (
    authority TEXT PRIMARY KEY,
    document  BYTEA NOT NULL,
    kept_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
