/* queries-asof.h - the registry as it was at an instant (--at TIME)
 *
 * Everything here is read from mreg.audit_log (sql/0002_audit.sql), never
 * from the current tables: the database writes one row per changed row
 * (old and new values), so any past state can be rebuilt.  Order of
 * events: (logged_at, id).  Every lookup is an index probe:
 *
 *   a type's default at T   the newest row of resource 'defaults/<type>'
 *                           with logged_at <= T: audit_log_resource_idx
 *                           (resource, logged_at, id), read backwards,
 *                           LIMIT 1.  A default.clear (or the old
 *                           default.unset) means no default.
 *   a model at T            its rows (audit_log_model_idx (model_id, id))
 *                           up to T: the newest model.* row says whether
 *                           it existed (a model.delete ends it); its
 *                           fields are the create row's new, then each
 *                           update's new on top (jsonb_object_agg in
 *                           (logged_at, id) order keeps the last value of
 *                           each key), from the newest create on.
 *   which model was P/N     the newest row of resource 'models/P/N' up to
 *                           T (the resource is the name after the change)
 *                           gives the id; its state at T must then be
 *                           named P/N.
 *   the types with history  a loose index scan (recursive CTE) over the
 *                           'defaults/' resources of the resource index:
 *                           one probe per type, never a scan of the log.
 *
 * $n are text parameters; instants are timestamptz text (mreg_time_format
 * or what MREG_SQL_ASOF_CHECK returned).
 */
#ifndef MREG_QUERIES_ASOF_H
#define MREG_QUERIES_ASOF_H

#include "queries.h"

/* $1 asked -> one row: at (the instant answered: the asked one, or now
 * when it lies in the future), oldest (the oldest logged_at, NULL for an
 * empty log), before (at precedes oldest). */
#define MREG_SQL_ASOF_CHECK                                                  \
	"SELECT " MREG_SQL_ISO("k.at") " AS at, "                            \
	MREG_SQL_ISO("o.oldest") " AS oldest,"                               \
	" o.oldest IS NULL OR k.at < o.oldest AS before"                     \
	" FROM (SELECT least($1::timestamptz, statement_timestamp()) AS at) k," \
	" (SELECT min(logged_at) AS oldest FROM mreg.audit_log) o"

/* The newest row of resource res up to at (a lateral subquery's body). */
#define MREG_SQL_ASOF_LAST(res, at)                                          \
	"SELECT d.action, d.model_id, d.logged_at FROM mreg.audit_log d"     \
	" WHERE d.resource = " res " AND d.logged_at <= " at                 \
	" ORDER BY d.logged_at DESC, d.id DESC LIMIT 1"

/* A default row that names a default (not a clear). */
#define MREG_SQL_ASOF_IS_SET(alias)                                          \
	" " alias ".action = 'default.set'"

/*
 * The state of model id at instant at, as the columns id, at, f (its
 * fields: jsonb, the model shape of mreg.model_fields), created_at (its
 * first create's time; the columns below prefer the row's own created_at
 * while the model exists: the audit keeps no times of its own but
 * logged_at), updated_at (its last change): FROM-clause items, to be
 * preceded by a FROM item k with k.id and k.at.  No row when it did not
 * exist at that instant.
 */
#define MREG_SQL_ASOF_STATE                                                  \
	" CROSS JOIN LATERAL (SELECT h.action, h.logged_at"                  \
	" FROM mreg.audit_log h"                                             \
	" WHERE h.model_id = k.id AND h.logged_at <= k.at"                   \
	" AND h.action LIKE 'model.%'"                                       \
	" ORDER BY h.logged_at DESC, h.id DESC LIMIT 1) l"                   \
	" CROSS JOIN LATERAL (SELECT h.logged_at, h.id"                      \
	" FROM mreg.audit_log h"                                             \
	" WHERE h.model_id = k.id AND h.logged_at <= k.at"                   \
	" AND h.action = 'model.create'"                                     \
	" ORDER BY h.logged_at DESC, h.id DESC LIMIT 1) c"                   \
	" CROSS JOIN LATERAL (SELECT min(h.logged_at) AS created_at,"        \
	" (SELECT jsonb_object_agg(e.key, e.value"                           \
	" ORDER BY u.logged_at, u.id)"                                       \
	" FROM mreg.audit_log u, jsonb_each(u.new) e"                        \
	" WHERE u.model_id = k.id AND u.logged_at <= k.at"                   \
	" AND u.action IN ('model.create', 'model.update')"                  \
	" AND (u.logged_at, u.id) >= (c.logged_at, c.id)) AS f"              \
	" FROM mreg.audit_log h"                                             \
	" WHERE h.model_id = k.id AND h.logged_at <= k.at"                   \
	" AND h.action = 'model.create') s"

#define MREG_SQL_ASOF_EXISTS " l.action <> 'model.delete'"

/* The model object (MREG_SQL_MODEL_FIELDS' columns) of a state, then
 * "at"; default: was it its type's default at that instant? */
#define MREG_SQL_ASOF_FIELDS                                                 \
	"(s.f->>'provider') || '/' || (s.f->>'name') AS model, k.id,"        \
	" s.f->>'provider' AS provider, s.f->>'name' AS name,"               \
	" s.f->>'type' AS type, s.f->>'version' AS version,"                 \
	" (s.f->>'active')::boolean AS active,"                              \
	" s.f->>'display_name' AS display_name,"                             \
	" s.f->>'description' AS description,"                               \
	" coalesce(s.f->'tags', '[]') AS tags,"                              \
	" coalesce(s.f->'synonyms', '[]') AS synonyms,"                      \
	" coalesce((SELECT x.action = 'default.set' AND x.model_id = k.id"   \
	" FROM (" MREG_SQL_ASOF_LAST("'defaults/' || (s.f->>'type')",        \
				    "k.at") ") x), false) AS \"default\","   \
	" coalesce(s.f->'config', '{}') AS config,"                          \
	" coalesce(s.f->'metadata', '{}') AS metadata, "                     \
	MREG_SQL_ISO("coalesce((SELECT mm.created_at FROM mreg.models mm"    \
		     " WHERE mm.id = k.id), s.created_at)") " AS created_at, " \
	MREG_SQL_ISO("l.logged_at") " AS updated_at"

#define MREG_SQL_ASOF_AT_COLUMN " to_json(" MREG_SQL_ISO("k.at") ") AS at"

/* $1 type, $2 at -> the "provider/name" of the type's default then (its
 * name then), or no row. */
#define MREG_SQL_DEFAULT_ASOF                                                \
	"SELECT (s.f->>'provider') || '/' || (s.f->>'name')"                 \
	" FROM (" MREG_SQL_ASOF_LAST("'defaults/' || $1::text",              \
				   "$2::timestamptz") ") dd"                 \
	" CROSS JOIN LATERAL (SELECT dd.model_id AS id,"                     \
	" $2::timestamptz AS at) k"                                          \
	MREG_SQL_ASOF_STATE                                                  \
	" WHERE" MREG_SQL_ASOF_IS_SET("dd") " AND" MREG_SQL_ASOF_EXISTS

/* $1 type, $2 at -> the model object then, and at; or no row. */
#define MREG_SQL_DEFAULT_MODEL_ASOF                                          \
	"SELECT " MREG_SQL_ASOF_FIELDS "," MREG_SQL_ASOF_AT_COLUMN           \
	" FROM (" MREG_SQL_ASOF_LAST("'defaults/' || $1::text",              \
				   "$2::timestamptz") ") dd"                 \
	" CROSS JOIN LATERAL (SELECT dd.model_id AS id,"                     \
	" $2::timestamptz AS at) k"                                          \
	MREG_SQL_ASOF_STATE                                                  \
	" WHERE" MREG_SQL_ASOF_IS_SET("dd") " AND" MREG_SQL_ASOF_EXISTS

/* The id of the model named $1/$2 at $at (see the top), as FROM item k. */
#define MREG_SQL_ASOF_NAMED(at)                                              \
	"(SELECT r.model_id AS id, " at " AS at FROM (" MREG_SQL_ASOF_LAST(  \
		"'models/' || $1::text || '/' || $2::text", at) ") r"        \
	" WHERE r.model_id IS NOT NULL) k"

#define MREG_SQL_ASOF_NAME_MATCHES                                           \
	" s.f->>'provider' = $1::text AND s.f->>'name' = $2::text"

/*
 * The artifacts of model id at instant at, as FROM item t: path, f (its
 * fields, each path's rows folded in order), last (its newest action: an
 * artifact.delete means it was gone).
 */
#define MREG_SQL_ASOF_ARTIFACTS(id, at)                                      \
	"(SELECT g.path, jsonb_object_agg(e.key, e.value"                    \
	" ORDER BY g.logged_at, g.id)"                                       \
	" FILTER (WHERE e.key IS NOT NULL) AS f,"                            \
	" (array_agg(g.action ORDER BY g.logged_at DESC,"                    \
	" g.id DESC))[1] AS last"                                            \
	" FROM (SELECT a.*, coalesce(a.new->>'path', a.old->>'path')"        \
	" AS path"                                                           \
	" FROM mreg.audit_log a"                                             \
	" WHERE a.model_id = " id " AND a.logged_at <= " at                  \
	" AND a.action LIKE 'artifact.%') g"                                 \
	" LEFT JOIN LATERAL jsonb_each(g.new) e ON true"                     \
	" GROUP BY g.path) t"

/*
 * $1 provider, $2 name, $3 audit entries, $4 at -> no row, or the
 * document of mreg show as it was at $4: the model object, artifacts
 * (each path's newest row up to then; a delete removes it), source (the
 * file named by the newest import context up to then: size and
 * recorded_at from the file cache while it still holds that file, else
 * null and the audit row's time), audit (the model's last $3 entries up
 * to then, by its id) and at.
 */
#define MREG_SQL_SHOW_ASOF                                                   \
	"SELECT " MREG_SQL_ASOF_FIELDS ","                                   \
	" coalesce((SELECT json_agg(json_build_object('path', t.path,"       \
	" 'size', (t.f->>'size')::bigint, 'sha256', t.f->>'sha256')"         \
	" ORDER BY t.path)"                                                  \
	" FROM " MREG_SQL_ASOF_ARTIFACTS("k.id", "k.at")                     \
	" WHERE t.last <> 'artifact.delete'), '[]') AS artifacts,"           \
	" (SELECT json_build_object('source', x.d->>'source',"               \
	" 'path', x.d->>'path', 'size', sf.size, 'sha256', x.d->>'sha256',"  \
	" 'recorded_at', " MREG_SQL_ISO("coalesce(sf.recorded_at, x.logged_at)") \
	" ) FROM (SELECT a.details AS d, a.logged_at FROM mreg.audit_log a"  \
	" WHERE a.model_id = k.id AND a.logged_at <= k.at"                   \
	" AND a.action LIKE 'model.%' AND a.details ? 'sha256'"              \
	" AND a.details ? 'source' AND a.details ? 'path'"                   \
	" ORDER BY a.logged_at DESC, a.id DESC LIMIT 1) x"                   \
	" LEFT JOIN mreg.source_files sf ON sf.source = x.d->>'source'"      \
	" AND sf.path = x.d->>'path' AND sf.sha256 = x.d->>'sha256'"         \
	" AND sf.recorded_at <= k.at) AS source,"                            \
	" coalesce((SELECT json_agg(json_build_object("                      \
	" 'id', x.id, 'logged_at', " MREG_SQL_ISO("x.logged_at") ","         \
	" 'actor', x.actor, 'db_role', x.db_role,"                           \
	" 'action', x.action, 'resource', x.resource,"                       \
	" 'details', x.details, 'old', x.old, 'new', x.new) ORDER BY x.id DESC)" \
	" FROM (SELECT * FROM mreg.audit_log a"                              \
	" WHERE a.model_id = k.id AND a.logged_at <= k.at"                   \
	" ORDER BY a.id DESC LIMIT $3::int) x), '[]') AS audit,"             \
	MREG_SQL_ASOF_AT_COLUMN                                              \
	" FROM " MREG_SQL_ASOF_NAMED("$4::timestamptz")                      \
	MREG_SQL_ASOF_STATE                                                  \
	" WHERE" MREG_SQL_ASOF_EXISTS " AND" MREG_SQL_ASOF_NAME_MATCHES

/*
 * mreg list defaults --at: $1 at, $2 cursor (last type), $3 limit ->
 * type, model (its name then), model_id, updated_at (when it became the
 * default).  The types come from the 'defaults/' resources of the log by
 * a loose index scan (one probe per type); the count takes $1.
 */
#define MREG_SQL_DEFAULTS_ASOF_TYPES                                         \
	"WITH RECURSIVE r(resource) AS ("                                    \
	" (SELECT a.resource FROM mreg.audit_log a"                          \
	" WHERE a.resource > 'defaults/' || coalesce($2::text, '')"          \
	" ORDER BY a.resource LIMIT 1)"                                      \
	" UNION ALL"                                                         \
	" SELECT (SELECT a.resource FROM mreg.audit_log a"                   \
	" WHERE a.resource > r.resource"                                     \
	" ORDER BY a.resource LIMIT 1)"                                      \
	" FROM r WHERE starts_with(r.resource, 'defaults/'))"

#define MREG_SQL_DEFAULTS_ASOF_ROWS                                          \
	" FROM r CROSS JOIN LATERAL ("                                       \
	MREG_SQL_ASOF_LAST("r.resource", "$1::timestamptz") ") dd"           \
	" CROSS JOIN LATERAL (SELECT dd.model_id AS id,"                     \
	" $1::timestamptz AS at) k"                                          \
	MREG_SQL_ASOF_STATE                                                  \
	" WHERE starts_with(r.resource, 'defaults/')"                        \
	" AND" MREG_SQL_ASOF_IS_SET("dd") " AND" MREG_SQL_ASOF_EXISTS

#define MREG_SQL_LIST_DEFAULTS_ASOF                                          \
	MREG_SQL_DEFAULTS_ASOF_TYPES                                         \
	"SELECT substr(r.resource, 10) AS type,"                             \
	" (s.f->>'provider') || '/' || (s.f->>'name') AS model,"             \
	" dd.model_id, " MREG_SQL_ISO("dd.logged_at") " AS updated_at"       \
	MREG_SQL_DEFAULTS_ASOF_ROWS                                          \
	" ORDER BY r.resource LIMIT $3::bigint"

/* the count: the same with $2 NULL (the statement must take $1 only) */
#define MREG_SQL_COUNT_DEFAULTS_ASOF                                         \
	"WITH RECURSIVE r(resource) AS ("                                    \
	" (SELECT a.resource FROM mreg.audit_log a"                          \
	" WHERE a.resource > 'defaults/'"                                    \
	" ORDER BY a.resource LIMIT 1)"                                      \
	" UNION ALL"                                                         \
	" SELECT (SELECT a.resource FROM mreg.audit_log a"                   \
	" WHERE a.resource > r.resource"                                     \
	" ORDER BY a.resource LIMIT 1)"                                      \
	" FROM r WHERE starts_with(r.resource, 'defaults/'))"                \
	"SELECT count(*)" MREG_SQL_DEFAULTS_ASOF_ROWS

/* ---- mreg restore PROVIDER/NAME --at TIME ---------------------------------- */

/* The model keys (mreg.model_fields) of a state's fields. */
#define MREG_SQL_ASOF_MODEL_KEYS                                             \
	"'provider', 'name', 'type', 'version', 'display_name',"             \
	" 'description', 'tags', 'synonyms', 'active', 'config', 'metadata'"

/*
 * $1 provider, $2 name, $3 at -> no row (no such model then), or one
 * row: id, exists (the model is in mreg.models now, its row locked),
 * target (its fields at $3: jsonb, the model keys only), changes
 * (mreg.jsonb_changes(now, then): {"old", "new"}, NULL when equal; for a
 * deleted model old is {}), created_at (of its first create, for a
 * re-creation).
 */
#define MREG_SQL_RESTORE_PLAN                                                \
	"SELECT k.id, cur.fields IS NOT NULL AS exists, t.target,"           \
	" mreg.jsonb_changes(coalesce(cur.fields, '{}'), t.target)"          \
	" AS changes, s.created_at"                                          \
	" FROM " MREG_SQL_ASOF_NAMED("$3::timestamptz")                      \
	MREG_SQL_ASOF_STATE                                                  \
	" CROSS JOIN LATERAL (SELECT coalesce(jsonb_object_agg(e.key, e.value)," \
	" '{}') AS target FROM jsonb_each(s.f) e"                            \
	" WHERE e.key IN (" MREG_SQL_ASOF_MODEL_KEYS ")) t"                  \
	" LEFT JOIN LATERAL (SELECT mreg.model_fields(m) AS fields"          \
	" FROM mreg.models m WHERE m.id = k.id FOR UPDATE) cur ON true"      \
	" WHERE" MREG_SQL_ASOF_EXISTS " AND" MREG_SQL_ASOF_NAME_MATCHES

/* The columns of a model from a target t (jsonb, the model keys). */
#define MREG_SQL_RESTORE_VALUES                                              \
	" t->>'name', t->>'type', t->>'version', t->>'display_name',"        \
	" t->>'description',"                                                \
	" ARRAY(SELECT jsonb_array_elements_text(coalesce(t->'tags', '[]')))," \
	" ARRAY(SELECT jsonb_array_elements_text("                           \
	" coalesce(t->'synonyms', '[]'))),"                                  \
	" coalesce((t->>'active')::boolean, true),"                          \
	" coalesce(t->'config', '{}'), coalesce(t->'metadata', '{}')"

/* $1 id, $2 target -> the rows updated (1; 0 when the provider is gone) */
#define MREG_SQL_RESTORE_UPDATE                                              \
	"UPDATE mreg.models m"                                               \
	" SET (provider_id, name, type, version, display_name, description," \
	" tags, synonyms, active, config, metadata, updated_at) ="           \
	" (SELECT p.id," MREG_SQL_RESTORE_VALUES ", now()"                   \
	" FROM (SELECT $2::jsonb AS t) x, mreg.providers p"                  \
	" WHERE p.name = x.t->>'provider')"                                  \
	" WHERE m.id = $1::bigint"                                           \
	" AND EXISTS (SELECT 1 FROM mreg.providers p"                        \
	" WHERE p.name = $2::jsonb->>'provider')"

/* $1 provider name: make sure it exists (a re-created model's) */
#define MREG_SQL_RESTORE_PROVIDER                                            \
	"INSERT INTO mreg.providers (name) VALUES ($1::text)"                \
	" ON CONFLICT (name) DO NOTHING"

/* $1 id, $2 target, $3 created_at: the deleted model again, its old id
 * (so its history goes on) */
#define MREG_SQL_RESTORE_INSERT                                              \
	"INSERT INTO mreg.models (id, provider_id, name, type, version,"     \
	" display_name, description, tags, synonyms, active, config,"        \
	" metadata, created_at)"                                             \
	" OVERRIDING SYSTEM VALUE"                                           \
	" SELECT $1::bigint, p.id," MREG_SQL_RESTORE_VALUES ","              \
	" $3::timestamptz"                                                   \
	" FROM (SELECT $2::jsonb AS t) x"                                    \
	" JOIN mreg.providers p ON p.name = x.t->>'provider'"

/* $1 id, $2 at: its artifacts as they were then (after a re-creation) */
#define MREG_SQL_RESTORE_ARTIFACTS                                           \
	"INSERT INTO mreg.artifacts (model_id, path, size, sha256)"          \
	" SELECT $1::bigint, t.path, (t.f->>'size')::bigint, t.f->>'sha256'" \
	" FROM " MREG_SQL_ASOF_ARTIFACTS("$1::bigint", "$2::timestamptz")    \
	" WHERE t.last <> 'artifact.delete'"

/* $1 id: a re-created model's file cache entry again (the delete set
 * its model_id NULL): the one its newest import context names */
#define MREG_SQL_RESTORE_SOURCE                                              \
	"UPDATE mreg.source_files sf SET model_id = $1::bigint"              \
	" FROM (SELECT a.details FROM mreg.audit_log a"                      \
	" WHERE a.model_id = $1::bigint AND a.action LIKE 'model.%'"         \
	" AND a.details ? 'source' AND a.details ? 'path'"                   \
	" ORDER BY a.logged_at DESC, a.id DESC LIMIT 1) x"                   \
	" WHERE sf.model_id IS NULL AND sf.source = x.details->>'source'"    \
	" AND sf.path = x.details->>'path'"

#endif
