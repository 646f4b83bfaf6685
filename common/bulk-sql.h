/* bulk-sql.h - the statements of a bulk-update batch (bulk-apply.c runs
 * them; the steps are described there).  Not an API. */
#ifndef MREG_BULK_SQL_H
#define MREG_BULK_SQL_H

#define ITEMS_TABLE                                                          \
	"CREATE TEMP TABLE bulk_items ("                                     \
	"  seq bigint NOT NULL, line bigint NOT NULL, idx bigint,"           \
	"  provider text, name text,"                                        \
	"  w_provider text, w_type text, w_tag text, w_active boolean,"      \
	"  set_default boolean NOT NULL, item jsonb NOT NULL,"               \
	"  cm_null boolean NOT NULL, mm_null boolean NOT NULL,"             \
	"  s jsonb GENERATED ALWAYS AS (item -> 'set') STORED"               \
	") ON COMMIT DROP"

#define ITEMS_COPY                                                           \
	"COPY bulk_items (seq, line, idx, provider, name, w_provider,"       \
	" w_type, w_tag, w_active, set_default, item, cm_null, mm_null)"     \
	" FROM STDIN"

/*
 * bulk_targets: (item, model) pairs and each pair's round.  The selectors
 * are grouped by which conditions they give (their "shape"), and each
 * shape present gets its own branch with plain equality joins (and the
 * tags containment the GIN index serves): a generic "x IS NULL OR ..."
 * join would test every selector against every model.
 */
#define TARGETS_HEAD                                                         \
	"CREATE TEMP TABLE bulk_targets ON COMMIT DROP AS "                  \
	"SELECT x.seq, x.model_id,"                                          \
	"       row_number() OVER (PARTITION BY x.model_id"                  \
	"                          ORDER BY x.seq) AS round"                 \
	"  FROM (SELECT i.seq, m.id AS model_id"                             \
	"          FROM bulk_items i"                                        \
	"          JOIN mreg.providers p ON p.name = i.provider"             \
	"          JOIN mreg.models m"                                       \
	"            ON m.provider_id = p.id AND m.name = i.name"            \
	"         WHERE i.provider IS NOT NULL"

#define TARGETS_TAIL ") x"

#define SHAPE_EXPR                                                           \
	"((w_provider IS NOT NULL)::int + 2 * (w_type IS NOT NULL)::int"     \
	" + 4 * (w_tag IS NOT NULL)::int + 8 * (w_active IS NOT NULL)::int)"

#define SHAPES_SQL                                                           \
	"SELECT DISTINCT " SHAPE_EXPR " FROM bulk_items"                     \
	" WHERE provider IS NULL"

#define UNKNOWN_SQL                                                          \
	"SELECT i.line, i.idx, i.provider || '/' || i.name,"                 \
	"       count(*) OVER ()"                                            \
	"  FROM bulk_items i"                                                \
	" WHERE i.provider IS NOT NULL"                                      \
	"   AND NOT EXISTS (SELECT 1 FROM bulk_targets t"                    \
	"                    WHERE t.seq = i.seq)"                           \
	" ORDER BY i.seq LIMIT 5"

/* Default rows of the types whose default this batch may affect. */
#define LOCK_DEFAULTS_SQL                                                    \
	"SELECT count(*) FROM ("                                             \
	"  SELECT 1 FROM mreg.model_defaults d"                              \
	"   WHERE d.type IN (SELECT m.type"                                  \
	"                      FROM bulk_targets t"                          \
	"                      JOIN bulk_items i ON i.seq = t.seq"           \
	"                      JOIN mreg.models m ON m.id = t.model_id"      \
	"                     WHERE i.set_default OR i.s ? 'active')"        \
	"   ORDER BY d.type FOR UPDATE OF d) l"

#define LOCK_MODELS_SQL                                                      \
	"SELECT count(*) FROM ("                                             \
	"  SELECT 1 FROM mreg.models m"                                      \
	"   WHERE m.id IN (SELECT model_id FROM bulk_targets)"               \
	"   ORDER BY m.id FOR UPDATE OF m) l"

/* The new value of each field after item i, from the current row n. */
#define E_ACTIVE                                                             \
	"CASE WHEN i.s ? 'active' THEN (i.s ->> 'active')::boolean"          \
	" ELSE n.active END"

#define E_TEXT(col)                                                          \
	"CASE WHEN i.s ? '" col "' THEN i.s ->> '" col "' ELSE n." col " END"

/* JSON array of strings -> text[] in order */
#define STRINGS(expr)                                                        \
	"ARRAY(SELECT e FROM jsonb_array_elements_text(" expr ")"            \
	" WITH ORDINALITY a(e, o) ORDER BY o)"

/* tags_remove drops every copy; tags_add appends what is missing */
#define E_TAGS                                                               \
	"CASE WHEN i.s ? 'tags' THEN " STRINGS("i.s -> 'tags'")              \
	" ELSE CASE WHEN i.s ? 'tags_remove' THEN"                           \
	"   ARRAY(SELECT e FROM unnest(n.tags) WITH ORDINALITY a(e, o)"      \
	"          WHERE NOT ((i.s -> 'tags_remove') ? e) ORDER BY o)"       \
	"   ELSE n.tags END"                                                 \
	" || CASE WHEN i.s ? 'tags_add' THEN"                                \
	"   ARRAY(SELECT e FROM jsonb_array_elements_text(i.s -> 'tags_add')"\
	"          WITH ORDINALITY a(e, o)"                                  \
	"          WHERE NOT (e = ANY (n.tags)) ORDER BY o)"                 \
	"   ELSE '{}' END END"

#define E_SYNONYMS                                                           \
	"CASE WHEN i.s ? 'synonyms' THEN " STRINGS("i.s -> 'synonyms'")      \
	" ELSE n.synonyms END"

/*
 * Shallow merge; a JSON null in the merge removes the key (has_null,
 * computed by the client, spares the key scan when there is none).
 */
#define E_OBJECT(col, merge, has_null)                                       \
	"CASE WHEN i.s ? '" col "' THEN i.s -> '" col "'"                    \
	" WHEN i.s ? '" merge "' THEN CASE WHEN i." has_null " THEN"         \
	"   (n." col " || (i.s -> '" merge "'))"                             \
	"   - ARRAY(SELECT k FROM jsonb_each(i.s -> '" merge "') e(k, v)"    \
	"            WHERE v = 'null'::jsonb)"                               \
	"   ELSE n." col " || (i.s -> '" merge "') END"                      \
	" ELSE n." col " END"

/*
 * bulk_new: the targeted models with their values before the batch
 * (old_*) and after it, starting with each model's first item (every
 * targeted model has one).
 */
#define NEW_SQL                                                              \
	"CREATE TEMP TABLE bulk_new ON COMMIT DROP AS "                      \
	"SELECT n.id, p.name AS provider, n.name, n.type,"                   \
	" n.active AS old_active, n.display_name AS old_display_name,"       \
	" n.description AS old_description, n.version AS old_version,"       \
	" n.tags AS old_tags, n.synonyms AS old_synonyms,"                   \
	" n.config AS old_config, n.metadata AS old_metadata,"               \
	" " E_ACTIVE " AS active,"                                           \
	" " E_TEXT("display_name") " AS display_name,"                       \
	" " E_TEXT("description") " AS description,"                         \
	" " E_TEXT("version") " AS version,"                                 \
	" " E_TAGS " AS tags,"                                               \
	" " E_SYNONYMS " AS synonyms,"                                       \
	" " E_OBJECT("config", "config_merge", "cm_null") " AS config,"      \
	" " E_OBJECT("metadata", "metadata_merge", "mm_null")                \
	" AS metadata"                                                       \
	"  FROM bulk_targets t"                                              \
	"  JOIN mreg.models n ON n.id = t.model_id"                          \
	"  JOIN mreg.providers p ON p.id = n.provider_id"                    \
	"  JOIN bulk_items i ON i.seq = t.seq"                               \
	" WHERE t.round = 1"

/* Round $1 (>= 2): each model's $1-th item, applied to its state. */
#define ROUND_SQL                                                            \
	"UPDATE bulk_new n SET"                                              \
	" active = " E_ACTIVE ","                                            \
	" display_name = " E_TEXT("display_name") ","                        \
	" description = " E_TEXT("description") ","                          \
	" version = " E_TEXT("version") ","                                  \
	" tags = " E_TAGS ","                                                \
	" synonyms = " E_SYNONYMS ","                                        \
	" config = " E_OBJECT("config", "config_merge", "cm_null") ","       \
	" metadata = " E_OBJECT("metadata", "metadata_merge", "mm_null")     \
	"  FROM bulk_targets t JOIN bulk_items i ON i.seq = t.seq"           \
	" WHERE t.round = $1 AND n.id = t.model_id AND i.s IS NOT NULL"

/* The last set_default item of each type wins (input order). */
#define DEFAULTS_SQL                                                         \
	"CREATE TEMP TABLE bulk_defaults ON COMMIT DROP AS "                 \
	"SELECT s.type, s.new_id, s.new_label, s.line, s.idx,"               \
	"       d.model_id AS old_id, op.name || '/' || om.name AS old_label"\
	"  FROM (SELECT DISTINCT ON (n.type) n.type, n.id AS new_id,"        \
	"               n.provider || '/' || n.name AS new_label,"           \
	"               i.line, i.idx"                                       \
	"          FROM bulk_items i"                                        \
	"          JOIN bulk_targets t ON t.seq = i.seq"                     \
	"          JOIN bulk_new n ON n.id = t.model_id"                     \
	"         WHERE i.set_default"                                       \
	"         ORDER BY n.type, i.seq DESC) s"                            \
	"  LEFT JOIN mreg.model_defaults d ON d.type = s.type"               \
	"  LEFT JOIN mreg.models om ON om.id = d.model_id"                   \
	"  LEFT JOIN mreg.providers op ON op.id = om.provider_id"

#define INACTIVE_DEFAULT_SQL                                                 \
	"SELECT b.new_label, b.type, b.line, b.idx"                          \
	"  FROM bulk_defaults b JOIN bulk_new n ON n.id = b.new_id"          \
	" WHERE NOT n.active ORDER BY b.line LIMIT 1"

#define DEACTIVATED_DEFAULT_SQL                                              \
	"SELECT n.provider || '/' || n.name, n.type, w.line, w.idx"          \
	"  FROM bulk_new n"                                                  \
	"  JOIN mreg.model_defaults d ON d.model_id = n.id"                  \
	"  LEFT JOIN LATERAL (SELECT i.line, i.idx"                          \
	"                       FROM bulk_targets t"                         \
	"                       JOIN bulk_items i ON i.seq = t.seq"          \
	"                      WHERE t.model_id = n.id"                      \
	"                        AND i.s -> 'active' = 'false'::jsonb"       \
	"                      ORDER BY i.seq DESC LIMIT 1) w ON true"       \
	" WHERE n.old_active AND NOT n.active"                                   \
	"   AND NOT EXISTS (SELECT 1 FROM bulk_defaults b"                   \
	"                    WHERE b.type = n.type AND b.new_id <> n.id)"    \
	" ORDER BY w.line LIMIT 1"

/* {"field": {"old": .., "new": ..}} when the field changed, else {} */
#define CHANGE(f)                                                            \
	"CASE WHEN n.old_" f " IS DISTINCT FROM n." f                         \
	" THEN jsonb_build_object('" f "', jsonb_build_object("               \
	"'old', n.old_" f ", 'new', n." f ")) ELSE '{}'::jsonb END"

/* The models of bulk_new whose fields change. */
#define CHANGED_FILTER                                                       \
	" WHERE (n.old_active, n.old_display_name, n.old_description,"       \
	"        n.old_version, n.old_tags, n.old_synonyms, n.old_config,"   \
	"        n.old_metadata)"                                            \
	"       IS DISTINCT FROM"                                            \
	"       (n.active, n.display_name, n.description, n.version, n.tags,"\
	"        n.synonyms, n.config, n.metadata)"

/*
 * bulk_changes: the changed models with each changed field's old and new
 * value, for a dry run's report.  A real run needs only their ids (the
 * audit rows are the database's: built there from the rows written).
 */
#define CHANGES_SQL                                                          \
	"CREATE TEMP TABLE bulk_changes ON COMMIT DROP AS "                  \
	"SELECT n.id, n.provider, n.name,"                                   \
	"       " CHANGE("active") " || " CHANGE("display_name") " || "      \
	CHANGE("description") " || " CHANGE("version") " || "                \
	CHANGE("tags") " || " CHANGE("synonyms") " || "                      \
	CHANGE("config") " || " CHANGE("metadata") " AS changes"             \
	"  FROM bulk_new n" CHANGED_FILTER

#define CHANGED_IDS_SQL                                                      \
	"CREATE TEMP TABLE bulk_changes ON COMMIT DROP AS "                  \
	"SELECT n.id FROM bulk_new n" CHANGED_FILTER

#define COUNTS_SQL                                                           \
	"SELECT (SELECT count(*) FROM bulk_new),"                            \
	"       (SELECT count(*) FROM bulk_changes),"                        \
	"       (SELECT count(*) FROM bulk_defaults"                         \
	"         WHERE old_id IS DISTINCT FROM new_id)"

#define LIST_CHANGES_SQL                                                     \
	"SELECT c.provider || '/' || c.name, e.key,"                         \
	"       (e.value -> 'old')::text, (e.value -> 'new')::text"          \
	"  FROM bulk_changes c, jsonb_each(c.changes) e"                     \
	" ORDER BY c.provider, c.name, e.key"

#define LIST_DEFAULTS_SQL                                                    \
	"SELECT type, old_label, new_label FROM bulk_defaults"               \
	" WHERE old_id IS DISTINCT FROM new_id ORDER BY type"

/*
 * The UPDATE sets only the fields bulk_new changes in some model (and
 * updated_at), so that a batch that changes none of the columns search_doc
 * is generated from (name, display_name, synonyms, tags, description) does
 * not recompute it for every row, and one that leaves active alone queues
 * no default-check trigger events.  bulk-apply.c builds both statements
 * from its list of the columns: "SELECT " then, per column c,
 * CHANGED_COLUMN_HEAD c CHANGED_COLUMN_MID c CHANGED_COLUMN_TAIL, comma
 * separated, then CHANGED_COLUMNS_FROM.
 */
#define CHANGED_COLUMN_HEAD "coalesce(bool_or(n.old_"
#define CHANGED_COLUMN_MID " IS DISTINCT FROM n."
#define CHANGED_COLUMN_TAIL "), false)"
#define CHANGED_COLUMNS_FROM " FROM bulk_new n"

/* UPDATE_HEAD, then ", <column> = n.<column>" for each changed column */
#define UPDATE_HEAD "UPDATE mreg.models m SET updated_at = now()"

#define UPDATE_TAIL                                                          \
	"  FROM bulk_changes c JOIN bulk_new n ON n.id = c.id"               \
	" WHERE m.id = c.id"

#define SET_DEFAULTS_SQL                                                     \
	"INSERT INTO mreg.model_defaults (type, model_id, updated_at)"       \
	"SELECT type, new_id, now() FROM bulk_defaults"                      \
	" WHERE old_id IS DISTINCT FROM new_id "                             \
	"ON CONFLICT (type) DO UPDATE"                                       \
	"   SET model_id = EXCLUDED.model_id, updated_at = EXCLUDED.updated_at"

#endif
