-- 0005_audit_update_cost.sql: the model.update audit rows at a lower cost
-- (issue 13: bulk-update of 100k items within 10% of its time before the
-- triggers).  The rows written are exactly those of 0002.
--
-- Measured on a 100k-row UPDATE of mreg.models (EXPLAIN ANALYZE of the
-- trigger's statement): most of the trigger's time went into building
-- the two jsonb shapes per row.  In 0002 the UPDATE branch passes the
-- transition tables' whole rows to mreg.model_fields_as(), so each of its
-- eleven field references rebuilds the whole row (search_doc included),
-- and jsonb_build_object() looks up the type of its 22 arguments on every
-- call; the list of equal columns was computed again at each of its three
-- uses.  Here each side is one to_jsonb() of a composite of exactly the
-- model shape's fields (mreg.model_shape: same keys, same values, so the
-- same jsonb) in which the equal fields are NULL (cheaper to convert; the
-- "- same" removes their keys anyway), the equal columns are computed once
-- per row (OFFSET 0 keeps the lateral subquery from being folded into each
-- use), and the UPDATE
-- trigger gets a function of its own, mreg.audit_models_update().  The
-- UPDATE branch of mreg.audit_models() is no longer called by any trigger
-- (its INSERT and DELETE branches are, unchanged).

-- The model shape of the audit log (mreg.model_fields), as a row type:
-- to_jsonb() of one gives that jsonb object.
CREATE TYPE mreg.model_shape AS (
    provider     text,
    name         text,
    type         text,
    version      text,
    display_name text,
    description  text,
    tags         text[],
    synonyms     text[],
    active       boolean,
    config       jsonb,
    metadata     jsonb
);

-- model.update rows: old and new hold only the changed fields, with the
-- same keys in both; an update that changes nothing writes no row.
CREATE FUNCTION mreg.audit_models_update() RETURNS trigger
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
        INSERT INTO mreg.audit_log (logged_at, actor, action, resource,
                                    model_id, old, new, details)
        SELECT ts, who, 'model.update',
               'models/' || pn.name || '/' || n.name, n.id,
               to_jsonb(ROW(
                   CASE WHEN NOT s.eq[1] THEN po.name END,
                   CASE WHEN NOT s.eq[2] THEN o.name END,
                   CASE WHEN NOT s.eq[3] THEN o.type END,
                   CASE WHEN NOT s.eq[4] THEN o.version END,
                   CASE WHEN NOT s.eq[5] THEN o.display_name END,
                   CASE WHEN NOT s.eq[6] THEN o.description END,
                   CASE WHEN NOT s.eq[7] THEN o.tags END,
                   CASE WHEN NOT s.eq[8] THEN o.synonyms END,
                   CASE WHEN NOT s.eq[9] THEN o.active END,
                   CASE WHEN NOT s.eq[10] THEN o.config END,
                   CASE WHEN NOT s.eq[11] THEN o.metadata END)::mreg.model_shape)
                   - s.same,
               to_jsonb(ROW(
                   CASE WHEN NOT s.eq[1] THEN pn.name END,
                   CASE WHEN NOT s.eq[2] THEN n.name END,
                   CASE WHEN NOT s.eq[3] THEN n.type END,
                   CASE WHEN NOT s.eq[4] THEN n.version END,
                   CASE WHEN NOT s.eq[5] THEN n.display_name END,
                   CASE WHEN NOT s.eq[6] THEN n.description END,
                   CASE WHEN NOT s.eq[7] THEN n.tags END,
                   CASE WHEN NOT s.eq[8] THEN n.synonyms END,
                   CASE WHEN NOT s.eq[9] THEN n.active END,
                   CASE WHEN NOT s.eq[10] THEN n.config END,
                   CASE WHEN NOT s.eq[11] THEN n.metadata END)::mreg.model_shape)
                   - s.same,
               mreg.audit_details(ctx, rctx, pn.name || '/' || n.name)
          FROM n JOIN o ON o.id = n.id
          JOIN mreg.providers pn ON pn.id = n.provider_id
          JOIN mreg.providers po ON po.id = o.provider_id,
          -- the fields whose columns are equal (eq: in model_shape's
          -- order; same: their keys), once per row
          LATERAL (SELECT ARRAY[
              po.name = pn.name, o.name = n.name, o.type = n.type,
              o.version IS NOT DISTINCT FROM n.version,
              o.display_name IS NOT DISTINCT FROM n.display_name,
              o.description IS NOT DISTINCT FROM n.description,
              o.tags = n.tags, o.synonyms = n.synonyms,
              o.active = n.active, o.config = n.config,
              o.metadata = n.metadata] AS eq,
              array_remove(ARRAY[
              CASE WHEN po.name = pn.name THEN 'provider' END,
              CASE WHEN o.name = n.name THEN 'name' END,
              CASE WHEN o.type = n.type THEN 'type' END,
              CASE WHEN o.version IS NOT DISTINCT FROM n.version
                   THEN 'version' END,
              CASE WHEN o.display_name IS NOT DISTINCT FROM n.display_name
                   THEN 'display_name' END,
              CASE WHEN o.description IS NOT DISTINCT FROM n.description
                   THEN 'description' END,
              CASE WHEN o.tags = n.tags THEN 'tags' END,
              CASE WHEN o.synonyms = n.synonyms THEN 'synonyms' END,
              CASE WHEN o.active = n.active THEN 'active' END,
              CASE WHEN o.config = n.config THEN 'config' END,
              CASE WHEN o.metadata = n.metadata THEN 'metadata' END],
              NULL) AS same OFFSET 0) s
         WHERE cardinality(s.same) < 11
         ORDER BY n.id
        RETURNING id)
    SELECT max(id) INTO top FROM w;
    IF top IS NOT NULL THEN
        PERFORM pg_notify('mreg_audit', top::text);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER audit_models_update ON mreg.models;
CREATE TRIGGER audit_models_update AFTER UPDATE ON mreg.models
    REFERENCING OLD TABLE AS o NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_models_update();
