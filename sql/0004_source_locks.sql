-- 0004_source_locks.sql: import-dir's source lock as a row, not a session
-- advisory lock.
--
-- A session advisory lock cannot work behind a transaction-mode pooler
-- (PgBouncer hands each transaction to any server connection: the unlock
-- runs on another one and the lock leaks until that connection closes).
-- A row works through any pooler: taking it is one INSERT ... ON CONFLICT
-- in autocommit, the holder beats its heartbeat_at while it runs, and a
-- lock whose heartbeat is older than ttl_s is stale and may be taken over.
-- host_id identifies the holder's pid namespace (hostname, boot id and pid
-- namespace of the client), so a client on the same machine can tell that
-- a holder process died (kill -9) and take its lock at once.  token fences
-- the holder: the heartbeat and the release touch only the row they took.
-- Not registry data: not audited.

CREATE TABLE mreg.source_locks (
    source       text PRIMARY KEY,
    token        uuid NOT NULL DEFAULT gen_random_uuid(),
    host         text NOT NULL,     -- the client's hostname, for people
    host_id      text NOT NULL,     -- hostname, boot id, pid namespace
    pid          integer NOT NULL,  -- the client's process id
    application  text NOT NULL,
    db_role      text NOT NULL DEFAULT current_user,
    ttl_s        integer NOT NULL CHECK (ttl_s > 0),
    acquired_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    heartbeat_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
