-- 0001_initial.sql: the registry schema.
--
-- Everything lives in schema mreg (created by the migration engine before
-- the first migration, together with mreg.schema_migrations).
-- Conventions: audit_log.resource is "models/<provider>/<name>",
-- "defaults/<type>", "providers/<name>" or "migrations/<version>".

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE mreg.providers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL
                CONSTRAINT providers_name_key UNIQUE
                CONSTRAINT providers_name_slug
                    CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- array_to_string() is only STABLE; a generated column needs IMMUTABLE.
-- For text[] the conversion cannot depend on any setting.
CREATE FUNCTION mreg.text_array_join(text[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT array_to_string($1, ' ') $$;

CREATE TABLE mreg.models (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id  bigint NOT NULL REFERENCES mreg.providers (id),
    name         text NOT NULL
                 CONSTRAINT models_name_valid
                     CHECK (char_length(name) BETWEEN 1 AND 200
                            AND name !~ '[[:cntrl:]]'),
    type         text NOT NULL
                 CONSTRAINT models_type_slug
                     CHECK (type ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    version      text,
    display_name text,
    description  text,
    tags         text[] NOT NULL DEFAULT '{}',
    synonyms     text[] NOT NULL DEFAULT '{}',
    active       boolean NOT NULL DEFAULT true,
    config       jsonb NOT NULL DEFAULT '{}'
                 CONSTRAINT models_config_object
                     CHECK (jsonb_typeof(config) = 'object'),
    metadata     jsonb NOT NULL DEFAULT '{}'
                 CONSTRAINT models_metadata_object
                     CHECK (jsonb_typeof(metadata) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    search_doc   tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, name), 'A') ||
        setweight(to_tsvector('simple'::regconfig,
                              coalesce(display_name, '')), 'A') ||
        setweight(to_tsvector('simple'::regconfig,
                              mreg.text_array_join(synonyms)), 'B') ||
        setweight(to_tsvector('simple'::regconfig,
                              mreg.text_array_join(tags)), 'B') ||
        setweight(to_tsvector('english'::regconfig,
                              coalesce(description, '')), 'C')) STORED,
    CONSTRAINT models_provider_name_key UNIQUE (provider_id, name),
    -- target of model_defaults' foreign key: the default has that type
    CONSTRAINT models_id_type_key UNIQUE (id, type)
);

-- list: filter by type / provider / active, ordered by name (keyset on
-- name, id); the provider+name unique index serves the provider filter.
CREATE INDEX models_type_active_name_idx
    ON mreg.models (type, active, name, id);
CREATE INDEX models_active_name_idx ON mreg.models (active, name, id);
CREATE INDEX models_active_updated_idx
    ON mreg.models (active, updated_at, id);
CREATE INDEX models_tags_idx ON mreg.models USING gin (tags);
-- search: weighted full text plus trigram similarity on names
CREATE INDEX models_search_idx ON mreg.models USING gin (search_doc);
CREATE INDEX models_name_trgm_idx ON mreg.models USING gin (name gin_trgm_ops);

-- One default model per type.  The composite foreign key guarantees the
-- model exists and has that type; the trigger below that it is active.
-- previous_model_id is the model that was the default before the last
-- change: set-default's upsert copies the old model_id into it, so its
-- RETURNING reports the exact previous default even under concurrency
-- (ON CONFLICT reads the latest row version, not the statement snapshot).
CREATE TABLE mreg.model_defaults (
    type       text PRIMARY KEY,
    model_id   bigint NOT NULL CONSTRAINT model_defaults_model_key UNIQUE,
    previous_model_id bigint,  -- no foreign key: history outlives the model
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT model_defaults_model_fkey FOREIGN KEY (model_id, type)
        REFERENCES mreg.models (id, type)
        ON UPDATE RESTRICT ON DELETE RESTRICT
);

-- A default model must be active, and an active default cannot be
-- deactivated.  Constraint triggers, DEFERRABLE INITIALLY IMMEDIATE, so a
-- batch that moves the default and deactivates the old model in one
-- transaction can defer the check to commit (SET CONSTRAINTS ... DEFERRED).
-- Row locks close the race between a concurrent set-default and a
-- deactivation: FOR SHARE conflicts with the UPDATE of the model row, and
-- in READ COMMITTED each check sees the other side's committed change.
CREATE FUNCTION mreg.check_default_is_active() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    label text;
BEGIN
    PERFORM 1 FROM mreg.models m
      WHERE m.id = NEW.model_id AND m.active FOR SHARE;
    IF NOT FOUND THEN
        SELECT p.name || '/' || m.name INTO label
          FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id
         WHERE m.id = NEW.model_id;
        RAISE EXCEPTION 'model "%" is not active', coalesce(label, NEW.model_id::text)
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'model_defaults_active',
                  HINT = 'Only an active model can be the default for its type.';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER model_defaults_active
    AFTER INSERT OR UPDATE ON mreg.model_defaults
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION mreg.check_default_is_active();

CREATE FUNCTION mreg.check_not_deactivating_default() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    label text;
BEGIN
    IF NOT NEW.active AND EXISTS (SELECT 1 FROM mreg.model_defaults d
                                   WHERE d.model_id = NEW.id) THEN
        SELECT p.name || '/' || NEW.name INTO label
          FROM mreg.providers p WHERE p.id = NEW.provider_id;
        RAISE EXCEPTION 'cannot deactivate "%": it is the default model for type "%"',
                        label, NEW.type
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'models_default_active',
                  HINT = 'Make another model the default first (mreg set-default).';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER models_default_active
    AFTER UPDATE OF active ON mreg.models
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (OLD.active AND NOT NEW.active)
    EXECUTE FUNCTION mreg.check_not_deactivating_default();

CREATE TABLE mreg.artifacts (
    model_id   bigint NOT NULL REFERENCES mreg.models (id) ON DELETE CASCADE,
    path       text NOT NULL,
    size       bigint NOT NULL CHECK (size >= 0),
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (model_id, path)
);

-- The persistent side of the content-hash cache, and the link from a
-- model back to the file it came from.  source is the canonical absolute
-- path of the imported root (or the name given with --source); path is
-- relative to it.  Times are nanoseconds since the epoch; inode and device
-- are stored as the two's complement of the unsigned value.  racy marks
-- an entry recorded too close to its file's timestamps to be trusted:
-- the next run hashes the file again.  error holds why the file was
-- rejected (it is reported again without rereading while unchanged).
CREATE TABLE mreg.source_files (
    source      text NOT NULL,
    path        text NOT NULL,
    size        bigint NOT NULL,
    mtime_ns    bigint NOT NULL,
    ctime_ns    bigint NOT NULL,
    inode       bigint NOT NULL,
    device      bigint NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    racy        boolean NOT NULL DEFAULT false,
    error       text,
    model_id    bigint REFERENCES mreg.models (id) ON DELETE SET NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, path)
);
CREATE INDEX source_files_model_idx ON mreg.source_files (model_id);

CREATE TABLE mreg.audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at  timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    db_role    text NOT NULL DEFAULT current_user,
    action     text NOT NULL,
    resource   text NOT NULL,
    model_id   bigint,  -- no foreign key: history outlives the model
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_logged_at_idx ON mreg.audit_log (logged_at, id);
CREATE INDEX audit_log_actor_idx ON mreg.audit_log (actor, logged_at, id);
CREATE INDEX audit_log_resource_idx
    ON mreg.audit_log (resource, logged_at, id);
CREATE INDEX audit_log_model_idx ON mreg.audit_log (model_id, id);
