-- 0007_audit_create_cost.sql: model.create and model.delete rows at a
-- lower cost (issue 16: the first import of 10,000 files).  The rows
-- written are exactly those of 0002.
--
-- As 0005 found for updates, mreg.model_fields_as() on a transition
-- table's whole row rebuilds that row (search document included) for each
-- field it reads; a first import paid it for every model it created.  Each
-- row's shape is now one to_jsonb() of a mreg.model_shape composite (0005),
-- and inserts and deletes get one trigger function of their own.  The
-- INSERT/DELETE branches of mreg.audit_models() are no longer called by
-- any trigger.

-- One function for both: each trigger names its transition table r (the
-- new rows of an insert, the old rows of a delete).
CREATE FUNCTION mreg.audit_models_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    -- once per statement (audit_time: once per transaction)
    ts   timestamptz := mreg.audit_time();
    who  text := mreg.audit_actor();
    ctx  jsonb := mreg.audit_setting('mreg.context');
    rctx jsonb := mreg.audit_setting('mreg.row_context');
    ins  boolean := TG_OP = 'INSERT';
    top  bigint;
BEGIN
    WITH w AS (
        INSERT INTO mreg.audit_log (logged_at, actor, action, resource,
                                    model_id, old, new, details)
        SELECT ts, who, CASE WHEN ins THEN 'model.create'
                             ELSE 'model.delete' END,
               'models/' || p.name || '/' || r.name, r.id,
               CASE WHEN NOT ins THEN s.shape END,
               CASE WHEN ins THEN s.shape END,
               mreg.audit_details(ctx, rctx, p.name || '/' || r.name)
          FROM r JOIN mreg.providers p ON p.id = r.provider_id,
          LATERAL (SELECT to_jsonb(ROW(p.name, r.name, r.type, r.version,
                                       r.display_name, r.description, r.tags,
                                       r.synonyms, r.active, r.config,
                                       r.metadata)::mreg.model_shape) AS shape
                   OFFSET 0) s
         ORDER BY r.id
        RETURNING id)
    SELECT max(id) INTO top FROM w;
    IF top IS NOT NULL THEN
        PERFORM pg_notify('mreg_audit', top::text);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER audit_models_insert ON mreg.models;
CREATE TRIGGER audit_models_insert AFTER INSERT ON mreg.models
    REFERENCING NEW TABLE AS r
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_models_rows();
DROP TRIGGER audit_models_delete ON mreg.models;
CREATE TRIGGER audit_models_delete AFTER DELETE ON mreg.models
    REFERENCING OLD TABLE AS r
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_models_rows();
