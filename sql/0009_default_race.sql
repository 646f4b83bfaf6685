-- 0009_default_race.sql: two first set-defaults of one model never fail.
--
-- model_defaults had a UNIQUE constraint on model_id besides its primary
-- key on type.  set-default (and bulk-update's default step) upsert with
-- ON CONFLICT (type): only the arbiter's conflicts are resolved there, a
-- conflict on any other unique index is raised.  Two sessions setting the
-- same model as the first default of its type could both pass the
-- arbiter's pre-check before either row was in; the second then met the
-- first's row in model_defaults_model_key, waited for it to commit and
-- failed with "duplicate key value violates unique constraint" instead of
-- finding the default already set.
--
-- The constraint said nothing the other rules do not: the foreign key
-- (model_id, type) -> models (id, type) gives each model_id exactly one
-- type, and the primary key one row per type, so a model is in at most
-- one row.  A plain index on model_id keeps what the unique index served:
-- the lookups by model (the deactivation check, history, the foreign
-- key's checks when a model is deleted).

ALTER TABLE mreg.model_defaults DROP CONSTRAINT model_defaults_model_key;
CREATE INDEX model_defaults_model_idx ON mreg.model_defaults (model_id, type);
