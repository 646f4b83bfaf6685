-- 0010_toast_target.sql: model and audit rows of a few KB stay as they
-- are written (issue 16: the first import of 10,000 files).
--
-- PostgreSQL compresses a row's largest values once the row passes about
-- 2 KB, until it fits in that again.  A model with a paragraph of
-- description, its search document, config and metadata is about that
-- size, and so is the audit row that records its creation: on a first
-- import of the peers' 10,000 files a third of the model rows and some
-- of the audit rows went through pglz, ~2.5% of the import's CPU (perf,
-- heap_toast_insert_or_update), to save a few hundred bytes a row.  Rows
-- are now compressed or moved out of line only past 8160 bytes (a page
-- minus its header); larger values are still.  The setting applies to rows
-- written from now on: nothing is rewritten, and rows stored compressed
-- read back exactly as before.

ALTER TABLE mreg.models SET (toast_tuple_target = 8160);
ALTER TABLE mreg.audit_log SET (toast_tuple_target = 8160);
