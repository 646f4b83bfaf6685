-- 0008_write_cost.sql: the same rules at a lower cost per row written
-- (issue 16: the first import of 10,000 files).
--
-- Checks: PostgreSQL's regular expressions expand a bounded repetition
-- ({64}, {0,63}) into that many states; on a 10,000-file first import the
-- three such checks each row passes (the model's type, the file's
-- sha256, the provider's name) cost more server time than the COPY of the
-- batch.  Each is replaced by the same rule written as a length test and
-- a repetition without bounds (every character they allow is ASCII, so
-- bytes are characters): about 10x cheaper, same rows accepted, same
-- constraint names.  A check added again is validated over the rows
-- already there.

ALTER TABLE mreg.providers
    DROP CONSTRAINT providers_name_slug,
    ADD CONSTRAINT providers_name_slug
        CHECK (octet_length(name) <= 64 AND name ~ '^[a-z0-9][a-z0-9._-]*$');

ALTER TABLE mreg.models
    DROP CONSTRAINT models_type_slug,
    ADD CONSTRAINT models_type_slug
        CHECK (octet_length(type) <= 64 AND type ~ '^[a-z0-9][a-z0-9._-]*$');

ALTER TABLE mreg.artifacts
    DROP CONSTRAINT artifacts_sha256_check,
    ADD CONSTRAINT artifacts_sha256_check
        CHECK (octet_length(sha256) = 64 AND sha256 !~ '[^0-9a-f]');

ALTER TABLE mreg.source_files
    DROP CONSTRAINT source_files_sha256_check,
    ADD CONSTRAINT source_files_sha256_check
        CHECK (octet_length(sha256) = 64 AND sha256 !~ '[^0-9a-f]');

-- The search document joins synonyms and tags with this function.  As a
-- SQL function it is never inlined (array_to_string is only stable, the
-- function immutable), so every row paid a SQL function call, executor
-- and all, twice; PL/pgSQL evaluates the same expression as a simple
-- expression, at about half the cost.  Same text for every array, so
-- the stored search documents stay as they are.
CREATE OR REPLACE FUNCTION mreg.text_array_join(text[]) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RETURN array_to_string($1, ' '); END $$;
