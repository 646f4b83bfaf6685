-- 0003: the stat of each artifact a model file lists, in the content-hash
-- cache, so that import-dir notices an artifact changed or deleted behind
-- its back without --rehash (issue 14).
--
-- artifacts is a JSON array, one object per artifact the file lists:
--   {"path": as listed in the model file, "size": bytes, "sha256": hex,
--    "mtime_ns", "ctime_ns", "inode", "device": as the file's own columns,
--    "racy": recorded too close to its timestamps to be trusted}
-- NULL: not recorded (a row written before this migration, or a rejected
-- file): the next import reads the model file and its artifacts once.
-- It lives in the file's own row, so it is written in the same statement
-- and goes with the row (prune, a deleted source) without a key of its own
-- (artifact paths may be as long as the tree allows: no btree limit).
ALTER TABLE mreg.source_files ADD COLUMN artifacts jsonb
    CHECK (artifacts IS NULL OR jsonb_typeof(artifacts) = 'array');
