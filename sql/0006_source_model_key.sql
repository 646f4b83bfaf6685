-- 0006_source_model_key.sql: the provider/name each recorded file defined.
--
-- import-dir's cache (common/source.c) needs, for every file a source
-- recorded, the model the file defined, so that a changed file claiming
-- the same provider/name as an unchanged one is caught.  It used to join
-- mreg.models for it, which made an unchanged re-import read every model
-- row (the wide ones, with their search documents) to learn 10,000 names.
-- The batch writer now records the name with the file; the cache trusts it
-- only while model_id still links the file to its model (a rename or a
-- delete unlinks it, as before).  Not registry data: not audited.

ALTER TABLE mreg.source_files ADD COLUMN model_key text;

UPDATE mreg.source_files s SET model_key = p.name || '/' || m.name
  FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id
 WHERE m.id = s.model_id;
