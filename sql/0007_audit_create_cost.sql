-- 0007_audit_create_cost.sql: model.create and model.delete rows at a
-- lower cost (issue 16: the first import of 10,000 files).  The rows
-- written are exactly those of 0002.
--
-- As 0005 found for updates, mreg.model_fields_as() on a transition
-- table's whole row rebuilds that row (search document included) for each
-- field it reads; a first import paid it for every model it created.  Each
-- row's shape is now one to_jsonb() of a mreg.model_shape composite (0005),
-- and inserts and deletes get trigger functions of their own.  The
-- INSERT/DELETE branches of mreg.audit_models() are no longer called by
-- any trigger.

CREATE FUNCTION mreg.audit_models_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    -- once per statement (audit_time: once per transaction)
    ts   timestamptz := mreg.audit_time();
    who  text := mreg.audit_actor();
    ctx  jsonb := mreg.audit_setting('mreg.context');
    rctx jsonb := mreg.audit_setting('mreg.row_context');
    top  bigint;
BEGIN
    WITH w AS (
        INSERT INTO mreg.audit_log
               (logged_at, actor, action, resource, model_id, new, details)
        SELECT ts, who, 'model.create',
               'models/' || p.name || '/' || n.name, n.id,
               to_jsonb(ROW(p.name, n.name, n.type, n.version,
                            n.display_name, n.description, n.tags,
                            n.synonyms, n.active, n.config,
                            n.metadata)::mreg.model_shape),
               mreg.audit_details(ctx, rctx, p.name || '/' || n.name)
          FROM n JOIN mreg.providers p ON p.id = n.provider_id
         ORDER BY n.id
        RETURNING id)
    SELECT max(id) INTO top FROM w;
    IF top IS NOT NULL THEN
        PERFORM pg_notify('mreg_audit', top::text);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION mreg.audit_models_delete() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    ts   timestamptz := mreg.audit_time();
    who  text := mreg.audit_actor();
    ctx  jsonb := mreg.audit_setting('mreg.context');
    rctx jsonb := mreg.audit_setting('mreg.row_context');
    top  bigint;
BEGIN
    WITH w AS (
        INSERT INTO mreg.audit_log
               (logged_at, actor, action, resource, model_id, old, details)
        SELECT ts, who, 'model.delete',
               'models/' || p.name || '/' || o.name, o.id,
               to_jsonb(ROW(p.name, o.name, o.type, o.version,
                            o.display_name, o.description, o.tags,
                            o.synonyms, o.active, o.config,
                            o.metadata)::mreg.model_shape),
               mreg.audit_details(ctx, rctx, p.name || '/' || o.name)
          FROM o JOIN mreg.providers p ON p.id = o.provider_id
         ORDER BY o.id
        RETURNING id)
    SELECT max(id) INTO top FROM w;
    IF top IS NOT NULL THEN
        PERFORM pg_notify('mreg_audit', top::text);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER audit_models_insert ON mreg.models;
CREATE TRIGGER audit_models_insert AFTER INSERT ON mreg.models
    REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_models_insert();
DROP TRIGGER audit_models_delete ON mreg.models;
CREATE TRIGGER audit_models_delete AFTER DELETE ON mreg.models
    REFERENCING OLD TABLE AS o
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_models_delete();
