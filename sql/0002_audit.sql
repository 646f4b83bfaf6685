-- 0002_audit.sql: the database keeps the audit (issue 13).
--
-- Statement-level AFTER triggers with transition tables on models,
-- providers, model_defaults and artifacts write one audit row per changed
-- row, in the writer's transaction, whoever the writer is; one INSERT ...
-- SELECT per statement and one pg_notify('mreg_audit', <highest id>) per
-- statement.  mreg.audit_log becomes append-only: mreg.audit_prune() is
-- the one way to trim it, and every trim is audited.
--
-- Per transaction (set_config(name, value, true): transaction-local):
--   mreg.actor        the audit_log.actor (else current_user)
--   mreg.context      JSON object merged into details of every row
--   mreg.row_context  JSON object {"provider/name": {...}} merged into the
--                     details of that model's rows (and its artifacts')
-- Empty or missing settings mean no context.

-- ---- the new columns, and the old rows converted ---------------------------

-- xid of rows written before 0002 is unknown: 0 (InvalidTransactionId).
ALTER TABLE mreg.audit_log
    ADD COLUMN old jsonb,
    ADD COLUMN new jsonb,
    ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE mreg.audit_log ALTER COLUMN xid SET DEFAULT pg_current_xact_id();

-- The changed fields only: {"old": {...}, "new": {...}} with the keys whose
-- values differ (a key missing on one side counts as null), or NULL.
CREATE FUNCTION mreg.jsonb_changes(old jsonb, new jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN count(*) > 0 THEN jsonb_build_object(
               'old', jsonb_object_agg(k, coalesce($1 -> k, 'null')),
               'new', jsonb_object_agg(k, coalesce($2 -> k, 'null'))) END
      FROM (SELECT jsonb_object_keys(coalesce($1, '{}'))
            UNION SELECT jsonb_object_keys(coalesce($2, '{}'))) keys(k)
     WHERE coalesce($1 -> k, 'null') IS DISTINCT FROM coalesce($2 -> k, 'null')
$$;

-- bulk-update's {"changes": {field: {"old": .., "new": ..}}}
UPDATE mreg.audit_log
   SET old = (SELECT jsonb_object_agg(key, value -> 'old')
                FROM jsonb_each(details -> 'changes')),
       new = (SELECT jsonb_object_agg(key, value -> 'new')
                FROM jsonb_each(details -> 'changes')),
       details = details - 'changes'
 WHERE action = 'model.update' AND jsonb_typeof(details -> 'changes') = 'object';

-- set-default, bulk-update and bench: {"type", "previous", "new",
-- "previous_model_id", "model_id"} -> the default shape
UPDATE mreg.audit_log
   SET old = CASE WHEN details ->> 'previous' IS NOT NULL THEN
                 jsonb_build_object('model', details -> 'previous', 'model_id',
                     coalesce(details -> 'previous_model_id',
                         (SELECT to_jsonb(m.id) FROM mreg.models m
                            JOIN mreg.providers p ON p.id = m.provider_id
                           WHERE p.name || '/' || m.name = details ->> 'previous'
                           LIMIT 1)))
             END,
       new = CASE WHEN jsonb_typeof(details -> 'new') = 'string' THEN
                 jsonb_build_object('model', details -> 'new', 'model_id',
                     coalesce(details -> 'model_id', to_jsonb(model_id)))
             END,
       action = CASE action WHEN 'default.unset' THEN 'default.clear'
                ELSE action END,
       details = details - ARRAY['type', 'previous', 'new',
                                 'previous_model_id', 'model_id']
 WHERE action IN ('default.set', 'default.unset');

-- import-dir, import-dir --prune and bench: {"old": {...}, "new": {...}}
UPDATE mreg.audit_log
   SET old = CASE WHEN action = 'model.update'
                  THEN mreg.jsonb_changes(details -> 'old', details -> 'new') -> 'old'
                  ELSE nullif(details -> 'old', 'null') END,
       new = CASE WHEN action = 'model.update'
                  THEN mreg.jsonb_changes(details -> 'old', details -> 'new') -> 'new'
                  ELSE nullif(details -> 'new', 'null') END,
       action = CASE action WHEN 'model.deactivate' THEN 'model.update'
                ELSE action END,
       details = details - ARRAY['old', 'new']
 WHERE (details ? 'old' OR details ? 'new')
   AND action NOT IN ('default.set', 'default.clear');

CREATE INDEX audit_log_model_time_idx
    ON mreg.audit_log (model_id, logged_at, id);

-- ---- shapes ---------------------------------------------------------------

-- The model as the audit log records it (never id, search_doc, times).
CREATE FUNCTION mreg.model_fields(m mreg.models) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'provider', (SELECT p.name FROM mreg.providers p
                      WHERE p.id = m.provider_id),
        'name', m.name, 'type', m.type, 'version', m.version,
        'display_name', m.display_name, 'description', m.description,
        'tags', to_jsonb(m.tags), 'synonyms', to_jsonb(m.synonyms),
        'active', m.active, 'config', m.config, 'metadata', m.metadata)
$$;

-- The same shape with the provider's name given (the triggers join it).
CREATE FUNCTION mreg.model_fields_as(m mreg.models, provider text)
    RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'provider', provider,
        'name', m.name, 'type', m.type, 'version', m.version,
        'display_name', m.display_name, 'description', m.description,
        'tags', to_jsonb(m.tags), 'synonyms', to_jsonb(m.synonyms),
        'active', m.active, 'config', m.config, 'metadata', m.metadata)
$$;

-- ---- actor, context, time -------------------------------------------------

CREATE FUNCTION mreg.audit_actor() RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('mreg.actor', true), ''),
                    current_user::text)
$$;

-- a JSON object setting, or {} when missing, empty or not an object
CREATE FUNCTION mreg.audit_setting(name text) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    v jsonb := nullif(current_setting(name, true), '')::jsonb;
BEGIN
    IF jsonb_typeof(v) = 'object' THEN
        RETURN v;
    END IF;
    RETURN '{}'::jsonb;
END $$;

-- details of one row: the context, then that model's row context
CREATE FUNCTION mreg.audit_details(ctx jsonb, rctx jsonb, model text)
    RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof($2 -> $3) = 'object'
                THEN $1 || ($2 -> $3) ELSE $1 END
$$;

-- The time of the transaction's audit rows: taken at its first audit
-- write (after the row locks of that statement, so concurrent writers of
-- one row are logged in the order they wrote it) and shared by every row
-- the transaction writes after it.
CREATE FUNCTION mreg.audit_time() RETURNS timestamptz
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ts text := nullif(current_setting('mreg.audit_time', true), '');
BEGIN
    IF ts IS NULL THEN
        ts := clock_timestamp()::text;
        PERFORM set_config('mreg.audit_time', ts, true);
    END IF;
    RETURN ts::timestamptz;
END $$;

-- The resource of a model, also once the row is gone (the artifacts of a
-- deleted model are deleted by the cascade before the model's own row is
-- audited): its last audit row tells.
CREATE FUNCTION mreg.audit_model_resource(id bigint) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT 'models/' || p.name || '/' || m.name FROM mreg.models m
           JOIN mreg.providers p ON p.id = m.provider_id WHERE m.id = $1),
        (SELECT a.resource FROM mreg.audit_log a
          WHERE a.model_id = $1 AND a.resource LIKE 'models/%'
          ORDER BY a.model_id, a.id DESC LIMIT 1),
        'models/#' || $1)
$$;

-- ---- the triggers ---------------------------------------------------------

CREATE FUNCTION mreg.audit_models() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    -- once per statement (audit_time: once per transaction)
    ts   timestamptz := mreg.audit_time();
    who  text := mreg.audit_actor();
    ctx  jsonb := mreg.audit_setting('mreg.context');
    rctx jsonb := mreg.audit_setting('mreg.row_context');
    top  bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH w AS (
            INSERT INTO mreg.audit_log
                   (logged_at, actor, action, resource, model_id, new, details)
            SELECT ts, who, 'model.create',
                   'models/' || p.name || '/' || n.name, n.id,
                   mreg.model_fields_as(n, p.name),
                   mreg.audit_details(ctx, rctx, p.name || '/' || n.name)
              FROM n JOIN mreg.providers p ON p.id = n.provider_id
             ORDER BY n.id
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    ELSIF TG_OP = 'UPDATE' THEN
        -- the changed fields: both sides' model_fields without the keys
        -- whose columns are equal (what mreg.jsonb_changes gives, without
        -- a function call per row)
        WITH c AS (
            SELECT n.id, pn.name || '/' || n.name AS label,
                   mreg.model_fields_as(o, po.name) - s.same AS old_f,
                   mreg.model_fields_as(n, pn.name) - s.same AS new_f,
                   cardinality(s.same) AS nsame
              FROM n JOIN o ON o.id = n.id
              JOIN mreg.providers pn ON pn.id = n.provider_id
              JOIN mreg.providers po ON po.id = o.provider_id,
              LATERAL (SELECT array_remove(ARRAY[
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
                  NULL) AS same) s),
        w AS (
            INSERT INTO mreg.audit_log (logged_at, actor, action, resource,
                                        model_id, old, new, details)
            SELECT ts, who, 'model.update',
                   'models/' || c.label, c.id, c.old_f, c.new_f,
                   mreg.audit_details(ctx, rctx, c.label)
              FROM c WHERE c.nsame < 11
             ORDER BY c.id
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    ELSE
        WITH w AS (
            INSERT INTO mreg.audit_log
                   (logged_at, actor, action, resource, model_id, old, details)
            SELECT ts, who, 'model.delete',
                   'models/' || p.name || '/' || o.name, o.id,
                   mreg.model_fields_as(o, p.name),
                   mreg.audit_details(ctx, rctx, p.name || '/' || o.name)
              FROM o JOIN mreg.providers p ON p.id = o.provider_id
             ORDER BY o.id
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    END IF;
    IF top IS NOT NULL THEN
        PERFORM pg_notify('mreg_audit', top::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_models_insert AFTER INSERT ON mreg.models
    REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_models();
CREATE TRIGGER audit_models_update AFTER UPDATE ON mreg.models
    REFERENCING OLD TABLE AS o NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_models();
CREATE TRIGGER audit_models_delete AFTER DELETE ON mreg.models
    REFERENCING OLD TABLE AS o
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_models();

CREATE FUNCTION mreg.audit_providers() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    -- once per statement (audit_time: once per transaction)
    ts   timestamptz := mreg.audit_time();
    who  text := mreg.audit_actor();
    ctx jsonb := mreg.audit_setting('mreg.context');
    top bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH w AS (
            INSERT INTO mreg.audit_log
                   (logged_at, actor, action, resource, new, details)
            SELECT ts, who, 'provider.create',
                   'providers/' || n.name, jsonb_build_object('name', n.name),
                   ctx
              FROM n ORDER BY n.id
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    ELSIF TG_OP = 'UPDATE' THEN
        WITH w AS (
            INSERT INTO mreg.audit_log
                   (logged_at, actor, action, resource, old, new, details)
            SELECT ts, who, 'provider.update',
                   'providers/' || n.name, jsonb_build_object('name', o.name),
                   jsonb_build_object('name', n.name), ctx
              FROM n JOIN o ON o.id = n.id
             WHERE o.name IS DISTINCT FROM n.name
             ORDER BY n.id
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    ELSE
        WITH w AS (
            INSERT INTO mreg.audit_log
                   (logged_at, actor, action, resource, old, details)
            SELECT ts, who, 'provider.delete',
                   'providers/' || o.name, jsonb_build_object('name', o.name),
                   ctx
              FROM o ORDER BY o.id
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    END IF;
    IF top IS NOT NULL THEN
        PERFORM pg_notify('mreg_audit', top::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_providers_insert AFTER INSERT ON mreg.providers
    REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_providers();
CREATE TRIGGER audit_providers_update AFTER UPDATE ON mreg.providers
    REFERENCING OLD TABLE AS o NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_providers();
CREATE TRIGGER audit_providers_delete AFTER DELETE ON mreg.providers
    REFERENCING OLD TABLE AS o
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_providers();

-- {"model": "provider/name", "model_id": N}
CREATE FUNCTION mreg.audit_default_shape(model_id bigint) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('model',
        (SELECT p.name || '/' || m.name FROM mreg.models m
           JOIN mreg.providers p ON p.id = m.provider_id WHERE m.id = $1),
        'model_id', $1)
$$;

CREATE FUNCTION mreg.audit_defaults() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    -- once per statement (audit_time: once per transaction)
    ts   timestamptz := mreg.audit_time();
    who  text := mreg.audit_actor();
    ctx jsonb := mreg.audit_setting('mreg.context');
    top bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH w AS (
            INSERT INTO mreg.audit_log (logged_at, actor, action, resource,
                                        model_id, new, details)
            SELECT ts, who, 'default.set',
                   'defaults/' || n.type, n.model_id,
                   mreg.audit_default_shape(n.model_id), ctx
              FROM n ORDER BY n.type
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    ELSIF TG_OP = 'UPDATE' THEN
        WITH w AS (
            INSERT INTO mreg.audit_log (logged_at, actor, action, resource,
                                        model_id, old, new, details)
            SELECT ts, who, 'default.set',
                   'defaults/' || n.type, n.model_id,
                   mreg.audit_default_shape(o.model_id),
                   mreg.audit_default_shape(n.model_id), ctx
              FROM n JOIN o ON o.type = n.type
             WHERE o.model_id IS DISTINCT FROM n.model_id
             ORDER BY n.type
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    ELSE
        WITH w AS (
            INSERT INTO mreg.audit_log (logged_at, actor, action, resource,
                                        model_id, old, details)
            SELECT ts, who, 'default.clear',
                   'defaults/' || o.type, o.model_id,
                   mreg.audit_default_shape(o.model_id), ctx
              FROM o ORDER BY o.type
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    END IF;
    IF top IS NOT NULL THEN
        PERFORM pg_notify('mreg_audit', top::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_defaults_insert AFTER INSERT ON mreg.model_defaults
    REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_defaults();
CREATE TRIGGER audit_defaults_update AFTER UPDATE ON mreg.model_defaults
    REFERENCING OLD TABLE AS o NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_defaults();
CREATE TRIGGER audit_defaults_delete AFTER DELETE ON mreg.model_defaults
    REFERENCING OLD TABLE AS o
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_defaults();

CREATE FUNCTION mreg.audit_artifacts() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    -- once per statement (audit_time: once per transaction)
    ts   timestamptz := mreg.audit_time();
    who  text := mreg.audit_actor();
    ctx  jsonb := mreg.audit_setting('mreg.context');
    rctx jsonb := mreg.audit_setting('mreg.row_context');
    top  bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH r AS (SELECT model_id, mreg.audit_model_resource(model_id) AS res
                     FROM (SELECT DISTINCT model_id FROM n) d),
        w AS (
            INSERT INTO mreg.audit_log (logged_at, actor, action, resource,
                                        model_id, new, details)
            SELECT ts, who, 'artifact.create',
                   r.res, n.model_id,
                   jsonb_build_object('path', n.path, 'size', n.size,
                                      'sha256', n.sha256),
                   mreg.audit_details(ctx, rctx, substr(r.res, 8))
              FROM n JOIN r ON r.model_id = n.model_id
             ORDER BY n.model_id, n.path
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    ELSIF TG_OP = 'UPDATE' THEN
        WITH c AS (
            SELECT n.model_id, n.path,
                   mreg.jsonb_changes(
                       jsonb_build_object('path', o.path, 'size', o.size,
                                          'sha256', o.sha256),
                       jsonb_build_object('path', n.path, 'size', n.size,
                                          'sha256', n.sha256)) AS ch,
                   o.path AS old_path
              FROM n JOIN o ON o.model_id = n.model_id AND o.path = n.path
             WHERE (o.size, o.sha256) IS DISTINCT FROM (n.size, n.sha256)),
        r AS (SELECT model_id, mreg.audit_model_resource(model_id) AS res
                FROM (SELECT DISTINCT model_id FROM c) d),
        w AS (
            INSERT INTO mreg.audit_log (logged_at, actor, action, resource,
                                        model_id, old, new, details)
            SELECT ts, who, 'artifact.update',
                   r.res, c.model_id,
                   jsonb_build_object('path', c.old_path) || (c.ch -> 'old'),
                   jsonb_build_object('path', c.path) || (c.ch -> 'new'),
                   mreg.audit_details(ctx, rctx, substr(r.res, 8))
              FROM c JOIN r ON r.model_id = c.model_id
             WHERE c.ch IS NOT NULL
             ORDER BY c.model_id, c.path
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    ELSE
        WITH r AS (SELECT model_id, mreg.audit_model_resource(model_id) AS res
                     FROM (SELECT DISTINCT model_id FROM o) d),
        w AS (
            INSERT INTO mreg.audit_log (logged_at, actor, action, resource,
                                        model_id, old, details)
            SELECT ts, who, 'artifact.delete',
                   r.res, o.model_id,
                   jsonb_build_object('path', o.path, 'size', o.size,
                                      'sha256', o.sha256),
                   mreg.audit_details(ctx, rctx, substr(r.res, 8))
              FROM o JOIN r ON r.model_id = o.model_id
             ORDER BY o.model_id, o.path
            RETURNING id)
        SELECT max(id) INTO top FROM w;
    END IF;
    IF top IS NOT NULL THEN
        PERFORM pg_notify('mreg_audit', top::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_artifacts_insert AFTER INSERT ON mreg.artifacts
    REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_artifacts();
CREATE TRIGGER audit_artifacts_update AFTER UPDATE ON mreg.artifacts
    REFERENCING OLD TABLE AS o NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_artifacts();
CREATE TRIGGER audit_artifacts_delete AFTER DELETE ON mreg.artifacts
    REFERENCING OLD TABLE AS o
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_artifacts();

-- ---- append-only ----------------------------------------------------------

-- Every UPDATE, DELETE and TRUNCATE of any role, the owner included, is
-- refused; a DELETE passes only while mreg.audit_pruning is on (set by
-- mreg.audit_prune, or by hand), and is then audited below.  Only the
-- table's owner (or a superuser) could remove the guard (ALTER TABLE ...
-- DISABLE TRIGGER, or session_replication_role = replica).
CREATE FUNCTION mreg.audit_log_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('mreg.audit_pruning', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'mreg.audit_log is append-only'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Old entries are trimmed with mreg audit prune --before TIME.';
END $$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON mreg.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_log_guard();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON mreg.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_log_guard();

-- Every trim leaves one audit.prune row: details.before (when given),
-- deleted, first_id, last_id.
CREATE FUNCTION mreg.audit_log_pruned() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    -- once per statement (audit_time: once per transaction)
    ts   timestamptz := mreg.audit_time();
    who  text := mreg.audit_actor();
    before text := nullif(current_setting('mreg.audit_prune_before', true), '');
    top    bigint;
BEGIN
    WITH w AS (
        INSERT INTO mreg.audit_log (logged_at, actor, action, resource, details)
        SELECT ts, who, 'audit.prune',
               'audit_log',
               mreg.audit_setting('mreg.context')
               || jsonb_strip_nulls(jsonb_build_object(
                      'before', before::timestamptz,
                      'deleted', count(*), 'first_id', min(o.id),
                      'last_id', max(o.id)))
          FROM o
        HAVING count(*) > 0 OR before IS NOT NULL
        RETURNING id)
    SELECT max(id) INTO top FROM w;
    IF top IS NOT NULL THEN
        PERFORM pg_notify('mreg_audit', top::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_log_pruned AFTER DELETE ON mreg.audit_log
    REFERENCING OLD TABLE AS o
    FOR EACH STATEMENT EXECUTE FUNCTION mreg.audit_log_pruned();

-- The one way to trim: deletes the rows logged before `before`, returns
-- their count (the audit.prune row it leaves is not counted).
CREATE FUNCTION mreg.audit_prune(before timestamptz) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    IF before IS NULL THEN
        RAISE EXCEPTION 'mreg.audit_prune: before must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM set_config('mreg.audit_pruning', 'on', true);
    PERFORM set_config('mreg.audit_prune_before', before::text, true);
    DELETE FROM mreg.audit_log WHERE logged_at < before;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('mreg.audit_pruning', 'off', true);
    PERFORM set_config('mreg.audit_prune_before', '', true);
    RETURN n;
END $$;
