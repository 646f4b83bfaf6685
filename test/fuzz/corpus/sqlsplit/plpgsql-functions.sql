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

