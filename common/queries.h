/* queries.h - the SQL of the registry's hot read and write paths
 *
 * One definition shared by the commands (through common/listing.c for
 * the listings, common/lookup.c for the small reads) and by 'mreg bench',
 * which must measure exactly what the commands run.  Every value is a $n
 * parameter.  Which named filter feeds each $n of a listing, and its
 * result columns, are written once, in listing.c's table (the comments
 * here describe it; test/unit/test-listing.c checks the table against the
 * server's description of each statement).
 *
 * Optional filters are written "($n IS NULL OR ...)".  The commands run
 * these statements unnamed (PQexecParams), so the planner sees the
 * parameter values and folds the unused branches away: each call gets the
 * plan of the query it would have written by hand, with its index.  (A
 * prepared statement gets the same custom plans; its generic plan would
 * be far costlier, so the plan cache keeps choosing custom ones.)
 *
 * Times are returned as text in ISO 8601 UTC with microseconds
 * ("2026-11-23T11:30:00.123456Z"), whatever the session's DateStyle and
 * TimeZone: stable for JSON/CSV and exact when a cursor feeds one back.
 */
#ifndef MREG_QUERIES_H
#define MREG_QUERIES_H

#define MREG_SQL_ISO(expr)                                                   \
	"to_char((" expr ") AT TIME ZONE 'UTC',"                             \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* $1 type -> one row: "provider/name" of that type's default, or none. */
#define MREG_SQL_GET_DEFAULT                                                 \
	"SELECT p.name || '/' || m.name"                                     \
	"  FROM mreg.model_defaults d"                                       \
	"  JOIN mreg.models m ON m.id = d.model_id"                          \
	"  JOIN mreg.providers p ON p.id = m.provider_id"                    \
	" WHERE d.type = $1"

/* ---- the model object ------------------------------------------------------
 * One model as mreg-json(7) describes it, as columns in the order of the
 * object's keys: model ("provider/name"), id, provider, name, type,
 * version, active, display_name, description, tags and synonyms (JSON
 * arrays), default (is it its type's default?), config, metadata (JSON
 * objects), created_at, updated_at.  m is the model's row (mreg.models, or
 * a subquery with its columns) and prov the SQL of its provider's name.
 * Every command that prints a model selects these columns (list, search,
 * show, default, set-default), and listing.c's model columns name them
 * (test-listing checks the two against the server's description), so a
 * model is the same object wherever it appears.
 */
#define MREG_SQL_MODEL_FIELDS(prov)                                          \
	prov " || '/' || m.name AS model, m.id, " prov " AS provider,"       \
	"       m.name, m.type, m.version, m.active, m.display_name,"        \
	"       m.description, to_json(m.tags) AS tags,"                     \
	"       to_json(m.synonyms) AS synonyms,"                            \
	"       EXISTS (SELECT 1 FROM mreg.model_defaults d"                 \
	"                WHERE d.model_id = m.id) AS \"default\","           \
	"       m.config, m.metadata, "                                      \
	MREG_SQL_ISO("m.created_at") " AS created_at, "                      \
	MREG_SQL_ISO("m.updated_at") " AS updated_at"

/* $1 type -> the model object (MREG_SQL_MODEL_FIELDS) of that type's
 * default, or no row (mreg default -o json). */
#define MREG_SQL_GET_DEFAULT_MODEL                                           \
	"SELECT " MREG_SQL_MODEL_FIELDS("p.name")                            \
	"  FROM mreg.model_defaults dd"                                      \
	"  JOIN mreg.models m ON m.id = dd.model_id"                         \
	"  JOIN mreg.providers p ON p.id = m.provider_id"                    \
	" WHERE dd.type = $1"

/* $1 provider, $2 name -> the model object, or no row. */
#define MREG_SQL_GET_MODEL                                                   \
	"SELECT " MREG_SQL_MODEL_FIELDS("p.name")                            \
	"  FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id" \
	" WHERE p.name = $1 AND m.name = $2"

/* ---- mreg list [models] ----------------------------------------------------
 * Parameters (NULL: no filter):
 *   $1 type  $2 provider  $3 tags (text[], all required)
 *   $4 active: true (active only), false (inactive only), NULL (both)
 *   $5 $6 keyset cursor: sort key and id of the last row of the previous
 *         page (name / updated_at text)
 *   $7 limit (NULL: every row; the commands ask for one row more than
 *         the page to learn whether there is a next page)
 * Columns: the model object (MREG_SQL_MODEL_FIELDS).  The active and
 * inactive halves are merged from two ordered index scans (a Merge
 * Append), so --all pages and streams in index order too.
 */
#define MREG_SQL_MODELS_COLUMNS                                              \
	"SELECT " MREG_SQL_MODEL_FIELDS("m.provider")

#define MREG_SQL_MODELS_BRANCH                                               \
	"SELECT m.id, p.name AS provider, m.name, m.type, m.version,"        \
	"       m.active, m.display_name, m.description, m.tags,"            \
	"       m.synonyms, m.config, m.metadata, m.created_at,"             \
	"       m.updated_at"                                                \
	"  FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id"

#define MREG_SQL_MODELS_FILTER                                               \
	"   AND ($1::text IS NULL OR m.type = $1::text)"                     \
	"   AND ($2::text IS NULL OR m.provider_id ="                        \
	"        (SELECT p.id FROM mreg.providers p WHERE p.name = $2::text))" \
	"   AND ($3::text[] IS NULL OR m.tags @> $3::text[])"

/* ... ordered by name, id */
#define MREG_SQL_LIST_MODELS_BY_NAME                                         \
	MREG_SQL_MODELS_COLUMNS                                              \
	"  FROM ((" MREG_SQL_MODELS_BRANCH                                   \
	"          WHERE m.active AND coalesce($4::boolean, true)"           \
	MREG_SQL_MODELS_FILTER                                               \
	"            AND ($5::text IS NULL OR (m.name, m.id) >"              \
	"                 ($5::text, $6::bigint))"                           \
	"          ORDER BY m.name, m.id LIMIT $7::bigint)"                  \
	"        UNION ALL"                                                  \
	"        (" MREG_SQL_MODELS_BRANCH                                   \
	"          WHERE NOT m.active AND NOT coalesce($4::boolean, false)"  \
	MREG_SQL_MODELS_FILTER                                               \
	"            AND ($5::text IS NULL OR (m.name, m.id) >"              \
	"                 ($5::text, $6::bigint))"                           \
	"          ORDER BY m.name, m.id LIMIT $7::bigint)) m"               \
	" ORDER BY m.name, m.id LIMIT $7::bigint"

/* ... ordered by updated_at, id, newest first */
#define MREG_SQL_LIST_MODELS_BY_UPDATED                                      \
	MREG_SQL_MODELS_COLUMNS                                              \
	"  FROM ((" MREG_SQL_MODELS_BRANCH                                   \
	"          WHERE m.active AND coalesce($4::boolean, true)"           \
	MREG_SQL_MODELS_FILTER                                               \
	"            AND ($5::text IS NULL OR (m.updated_at, m.id) <"        \
	"                 ($5::timestamptz, $6::bigint))"                    \
	"          ORDER BY m.updated_at DESC, m.id DESC LIMIT $7::bigint)"  \
	"        UNION ALL"                                                  \
	"        (" MREG_SQL_MODELS_BRANCH                                   \
	"          WHERE NOT m.active AND NOT coalesce($4::boolean, false)"  \
	MREG_SQL_MODELS_FILTER                                               \
	"            AND ($5::text IS NULL OR (m.updated_at, m.id) <"        \
	"                 ($5::timestamptz, $6::bigint))"                    \
	"          ORDER BY m.updated_at DESC, m.id DESC LIMIT $7::bigint)) m" \
	" ORDER BY m.updated_at DESC, m.id DESC LIMIT $7::bigint"

/* --count: $1-$4 as above -> one row, the number of matching models.
 * Run in the same REPEATABLE READ transaction as the page. */
#define MREG_SQL_COUNT_MODELS                                                \
	"SELECT count(*) FROM mreg.models m"                                 \
	" WHERE ($4::boolean IS NULL OR m.active = $4::boolean)"             \
	MREG_SQL_MODELS_FILTER

/* ---- mreg list providers ---------------------------------------------------
 * $1 cursor (last name), $2 limit -> name, models (active), all_models,
 * created_at */
#define MREG_SQL_LIST_PROVIDERS                                              \
	"SELECT p.name,"                                                     \
	"       (SELECT count(*) FROM mreg.models m"                         \
	"         WHERE m.provider_id = p.id AND m.active) AS active_models," \
	"       (SELECT count(*) FROM mreg.models m"                         \
	"         WHERE m.provider_id = p.id) AS models, "                   \
	MREG_SQL_ISO("p.created_at") " AS created_at"                        \
	"  FROM mreg.providers p"                                            \
	" WHERE ($1::text IS NULL OR p.name > $1::text)"                     \
	" ORDER BY p.name LIMIT $2::bigint"

#define MREG_SQL_COUNT_PROVIDERS "SELECT count(*) FROM mreg.providers"

/* ---- mreg list defaults ----------------------------------------------------
 * $1 cursor (last type), $2 limit -> type, model, model_id, updated_at */
#define MREG_SQL_LIST_DEFAULTS                                               \
	"SELECT d.type, p.name || '/' || m.name AS model, d.model_id, "      \
	MREG_SQL_ISO("d.updated_at") " AS updated_at"                        \
	"  FROM mreg.model_defaults d"                                       \
	"  JOIN mreg.models m ON m.id = d.model_id"                          \
	"  JOIN mreg.providers p ON p.id = m.provider_id"                    \
	" WHERE ($1::text IS NULL OR d.type > $1::text)"                     \
	" ORDER BY d.type LIMIT $2::bigint"

#define MREG_SQL_COUNT_DEFAULTS "SELECT count(*) FROM mreg.model_defaults"

/* ---- mreg list audit ---------------------------------------------------------
 * Newest first.  $1 since, $2 until (timestamptz text), $3 actor,
 * $4 action, $5 $6 model provider and name (entries whose resource is
 * that model or whose model_id is its id), $7 $8 cursor (logged_at text,
 * id), $9 limit.
 * Columns: id, logged_at, actor, db_role, action, resource, model_id,
 * details, old, new (JSON). */
#define MREG_SQL_AUDIT_FILTER                                                \
	" WHERE ($1::timestamptz IS NULL OR a.logged_at >= $1::timestamptz)" \
	"   AND ($2::timestamptz IS NULL OR a.logged_at < $2::timestamptz)"  \
	"   AND ($3::text IS NULL OR a.actor = $3::text)"                    \
	"   AND ($4::text IS NULL OR a.action = $4::text)"                   \
	"   AND ($5::text IS NULL"                                           \
	"        OR a.resource = 'models/' || $5::text || '/' || $6::text"   \
	"        OR a.model_id IN (SELECT m.id FROM mreg.models m"           \
	"                            JOIN mreg.providers p"                  \
	"                              ON p.id = m.provider_id"              \
	"                           WHERE p.name = $5::text"                 \
	"                             AND m.name = $6::text))"

#define MREG_SQL_LIST_AUDIT                                                  \
	"SELECT a.id, " MREG_SQL_ISO("a.logged_at") " AS logged_at,"         \
	"       a.actor, a.db_role, a.action, a.resource, a.model_id,"       \
	"       a.details, a.old, a.new"                                     \
	"  FROM mreg.audit_log a"                                            \
	MREG_SQL_AUDIT_FILTER                                                \
	"   AND ($7::timestamptz IS NULL OR (a.logged_at, a.id) <"           \
	"        ($7::timestamptz, $8::bigint))"                             \
	" ORDER BY a.logged_at DESC, a.id DESC LIMIT $9::bigint"

#define MREG_SQL_COUNT_AUDIT                                                 \
	"SELECT count(*) FROM mreg.audit_log a" MREG_SQL_AUDIT_FILTER

/* ---- mreg show provider/name -------------------------------------------------
 * $1 provider, $2 name, $3 audit entries -> no row, or one row: the model
 * object (MREG_SQL_MODEL_FIELDS), then three JSON columns: artifacts,
 * source (the file it was last imported from, or NULL) and audit (its
 * last $3 entries, newest first). */
#define MREG_SQL_SHOW                                                        \
	"SELECT " MREG_SQL_MODEL_FIELDS("p.name") ","                        \
	"  coalesce((SELECT json_agg(json_build_object("                     \
	"        'path', a.path, 'size', a.size, 'sha256', a.sha256)"        \
	"        ORDER BY a.path)"                                           \
	"      FROM mreg.artifacts a WHERE a.model_id = m.id), '[]')"        \
	"    AS artifacts,"                                                  \
	"  (SELECT json_build_object('source', s.source,"                    \
	"        'path', s.path, 'size', s.size, 'sha256', s.sha256,"        \
	"        'recorded_at', " MREG_SQL_ISO("s.recorded_at") ")"          \
	"      FROM mreg.source_files s WHERE s.model_id = m.id"             \
	"      ORDER BY s.recorded_at DESC LIMIT 1) AS source,"              \
	"  coalesce((SELECT json_agg(json_build_object("                     \
	"        'id', x.id, 'logged_at', " MREG_SQL_ISO("x.logged_at") ","  \
	"        'actor', x.actor, 'db_role', x.db_role,"                    \
	"        'action', x.action, 'resource', x.resource,"                \
	"        'details', x.details, 'old', x.old, 'new', x.new)"         \
	"        ORDER BY x.id DESC)"                                        \
	"      FROM ((SELECT * FROM mreg.audit_log a"                        \
	"              WHERE a.model_id = m.id"                              \
	"              ORDER BY a.model_id, a.id DESC LIMIT $3::int)"        \
	"            UNION"                                                  \
	"            (SELECT * FROM mreg.audit_log a"                        \
	"              WHERE a.resource = 'models/' || p.name || '/' || m.name" \
	"              ORDER BY a.resource, a.logged_at DESC, a.id DESC"     \
	"              LIMIT $3::int)"                                       \
	"            ORDER BY id DESC LIMIT $3::int) x), '[]') AS audit"     \
	"  FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id" \
	" WHERE p.name = $1 AND m.name = $2"

/* ---- mreg search QUERY -------------------------------------------------------
 * $1 query text, $2 type, $3 provider, $4 limit.
 * Weighted full text over search_doc (name and display name A, synonyms
 * and tags B, description C), matched with both the 'simple' and the
 * 'english' configuration, plus trigram word similarity on the name so
 * a misspelt name still matches.  Both conditions are GIN-indexed (a
 * BitmapOr, no sequential scan).
 * Columns: the model object (MREG_SQL_MODEL_FIELDS), then score. */
#define MREG_SQL_SEARCH                                                      \
	"SELECT " MREG_SQL_MODEL_FIELDS("(SELECT p.name FROM mreg.providers p" \
					" WHERE p.id = m.provider_id)") ","   \
	"       round((ts_rank(m.search_doc, q.q)"                           \
	"              + word_similarity($1::text, m.name))::numeric, 4)"    \
	"         AS score"                                                  \
	"  FROM mreg.models m,"                                              \
	"       (SELECT websearch_to_tsquery('simple', $1::text)"            \
	"            || websearch_to_tsquery('english', $1::text) AS q) q"   \
	" WHERE (m.search_doc @@ q.q OR $1::text <% m.name)"                 \
	"   AND ($2::text IS NULL OR m.type = $2::text)"                     \
	"   AND ($3::text IS NULL OR m.provider_id ="                        \
	"        (SELECT p.id FROM mreg.providers p WHERE p.name = $3::text))" \
	" ORDER BY score DESC, m.name, m.id LIMIT $4::bigint"

/* ---- the audit's actor and context (audit.h) ----------------------------------
 * An SQL expression setting the transaction-local mreg.actor and
 * mreg.context from two text parameters (say "$3", "$4"; NULL or ''
 * means none); it is true.  Folded into a statement that writes (as a
 * CTE the write reads), it runs before the triggers do at its end. */
#define MREG_SQL_AUDIT_SET(actor, context)                                   \
	"(set_config('mreg.actor', coalesce(" actor "::text, ''), true)"     \
	" IS NOT NULL AND set_config('mreg.context', coalesce(" context      \
	"::text, ''), true) IS NOT NULL)"

/* ---- mreg set-default provider/name -------------------------------------------
 * $1 provider, $2 name, $3 actor, $4 audit context (JSON object text, or
 * NULL).  One statement: set the audit's actor and context (the `audit`
 * CTE, which target reads, so it runs before the write; the database's
 * trigger writes the default.set row at the statement's end), upsert the
 * default, report what happened.  The ON CONFLICT branch locks the type's
 * row and copies the latest committed model_id into previous_model_id, so
 * the "previous" reported is the real previous default even with
 * concurrent callers (a CTE reading the current default would see the
 * statement's snapshot, possibly stale).  Setting the current default
 * again changes nothing and writes no audit row.  An inactive model is
 * not upserted (and the model_defaults_active trigger refuses it anyway
 * if it was deactivated meanwhile).
 * Returns no row for an unknown model, else one row:
 *   model_id, type, active, changed (0/1), previous ("provider/name" or
 *   NULL). */
#define MREG_SQL_SET_DEFAULT                                                 \
	"WITH audit AS (SELECT " MREG_SQL_AUDIT_SET("$3", "$4") " AS ok),"    \
	" target AS ("                                                       \
	"  SELECT m.id, m.type, m.active FROM mreg.models m"                 \
	"    JOIN mreg.providers p ON p.id = m.provider_id, audit"           \
	"   WHERE p.name = $1::text AND m.name = $2::text AND audit.ok),"    \
	" up AS ("                                                           \
	"  INSERT INTO mreg.model_defaults AS d (type, model_id)"            \
	"  SELECT t.type, t.id FROM target t WHERE t.active"                 \
	"  ON CONFLICT (type) DO UPDATE"                                     \
	"     SET model_id = excluded.model_id,"                             \
	"         previous_model_id = d.model_id, updated_at = now()"        \
	"   WHERE d.model_id IS DISTINCT FROM excluded.model_id"             \
	"  RETURNING d.type, d.model_id, d.previous_model_id)"               \
	"SELECT t.id, t.type, t.active, (SELECT count(*) FROM up) AS changed," \
	"       (SELECT pp.name || '/' || pm.name FROM up"                   \
	"          JOIN mreg.models pm ON pm.id = up.previous_model_id"      \
	"          JOIN mreg.providers pp ON pp.id = pm.provider_id)"        \
	"         AS previous"                                               \
	"  FROM target t"

/* ---- lookups for error messages and completion ---------------------------- */

/* $1 provider, $2 name -> up to 5 close "provider/name" (trigram). */
#define MREG_SQL_SUGGEST_MODELS                                              \
	"SELECT p.name || '/' || m.name FROM mreg.models m"                  \
	"  JOIN mreg.providers p ON p.id = m.provider_id"                    \
	" WHERE m.name % $2::text"                                           \
	" ORDER BY similarity(m.name, $2::text) DESC, p.name = $1::text DESC," \
	"          p.name, m.name LIMIT 5"

/* Every type in use (models and defaults), via a loose index scan so it
 * stays cheap on a large registry; $1 prefix or NULL. */
#define MREG_SQL_TYPES                                                       \
	"WITH RECURSIVE t(type) AS ("                                        \
	"  SELECT min(type) FROM mreg.models"                                \
	"  UNION ALL"                                                        \
	"  SELECT (SELECT min(m.type) FROM mreg.models m WHERE m.type > t.type)" \
	"    FROM t WHERE t.type IS NOT NULL)"                               \
	"SELECT type FROM t WHERE type IS NOT NULL"                          \
	"   AND ($1::text IS NULL OR starts_with(type, $1::text))"           \
	" ORDER BY type"

/* $1 type -> does any model have it? */
#define MREG_SQL_TYPE_EXISTS                                                 \
	"SELECT EXISTS (SELECT 1 FROM mreg.models WHERE type = $1::text)"

/* $1 NULL (the prefix of MREG_SQL_TYPES), $2 type -> up to 5 close
 * types. */
#define MREG_SQL_SUGGEST_TYPES                                               \
	"SELECT type FROM (" MREG_SQL_TYPES ") t"                            \
	" WHERE similarity(type, $2::text) > 0.1"                            \
	"    OR starts_with(type, left($2::text, 3))"                        \
	" ORDER BY similarity(type, $2::text) DESC, type LIMIT 5"

/* $1 provider -> does it exist? */
#define MREG_SQL_PROVIDER_EXISTS                                             \
	"SELECT EXISTS (SELECT 1 FROM mreg.providers WHERE name = $1::text)"

/* $1 provider -> up to 5 close provider names. */
#define MREG_SQL_SUGGEST_PROVIDERS                                           \
	"SELECT name FROM mreg.providers"                                    \
	" WHERE similarity(name, $1::text) > 0.2"                            \
	" ORDER BY similarity(name, $1::text) DESC, name LIMIT 5"

/* $1 prefix or NULL -> provider names. */
#define MREG_SQL_PROVIDER_NAMES                                              \
	"SELECT name FROM mreg.providers"                                    \
	" WHERE $1::text IS NULL OR starts_with(name, $1::text)"             \
	" ORDER BY name LIMIT 500"

/* $1 provider, $2 name prefix -> active "provider/name" for completion. */
#define MREG_SQL_MODEL_NAMES                                                 \
	"SELECT p.name || '/' || m.name FROM mreg.models m"                  \
	"  JOIN mreg.providers p ON p.id = m.provider_id"                    \
	" WHERE p.name = $1::text AND m.active"                              \
	"   AND starts_with(m.name, $2::text)"                               \
	" ORDER BY m.name LIMIT 500"

#endif
