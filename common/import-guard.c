/* import-guard.c - the prune guard of import-dir (see import-write.h)
 *
 * A checkout that came out empty or half-deleted must not deactivate a
 * source's models.  --prune runs the whole import in one transaction
 * (import-write.c); after the last batch the prune deactivates the models
 * of the gone files in it, and this guard looks at what that did: more
 * than the limit, or anything at all from a tree that holds no model
 * file, and the guard refuses.  The run is then rolled back whole (the
 * batches, the prune, the cache rows), so the registry is as it was.
 *
 * The limit: --prune-max N models, or P% of the source's active models
 * (counted in the run's transaction before the prune, so with this run's
 * additions); by default max(10%, 50).  --prune-max 0 refuses any
 * deactivation.  An empty tree is refused whatever the default limit
 * says; only an explicit --prune-max that covers all of them lets it
 * through (e.g. --prune-max 100%).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>

#include "import-write.h"

/* How many models to name in a refusal. */
#define GUARD_NAMES 5

/* $1 source: its active models after the prune's UPDATE */
static const char *const active_sql =
	"SELECT count(DISTINCT s.model_id) FROM mreg.source_files s"
	" JOIN mreg.models m ON m.id = s.model_id"
	" WHERE s.source = $1 AND m.active";

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The models of res as "provider/name", sorted, the first GUARD_NAMES
 * joined with ", " into buf (", ..." when there are more). */
static int name_some(PGresult *res, char *buf, size_t size)
{
	int n = PQntuples(res), k;
	const char **v = calloc((size_t)n, sizeof(*v));
	size_t used = 0;

	if (!v)
		return -1;
	for (k = 0; k < n; k++) {
		const char *r = PQgetvalue(res, k, 0);
		v[k] = strncmp(r, "models/", 7) == 0 ? r + 7 : r;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_str);
	buf[0] = '\0';
	for (k = 0; k < n && k < GUARD_NAMES && used < size; k++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 k ? ", " : "", v[k]);
	if (n > GUARD_NAMES && used < size)
		snprintf(buf + used, size - used, ", ...");
	free(v);
	return 0;
}

/* The limit for a source of active models. */
static long guard_limit(const struct mreg_import_config *cfg, long active)
{
	long pct;

	if (cfg->prune_max >= 0 && !cfg->prune_max_percent)
		return cfg->prune_max;
	pct = cfg->prune_max >= 0 ? cfg->prune_max : MREG_PRUNE_DEFAULT_PERCENT;
	if (cfg->prune_max >= 0)
		return active * pct / 100;
	return active * pct / 100 > MREG_PRUNE_DEFAULT_MIN
		       ? active * pct / 100
		       : MREG_PRUNE_DEFAULT_MIN;
}

int mreg_importer_guard(struct mreg_importer *w, PGresult *res,
			struct mreg_error *err)
{
	const struct mreg_import_config *cfg = w->cfg;
	const char *params[1] = { cfg->source };
	long n = PQntuples(res), active, limit;
	bool empty = atomic_load(&w->scan->scanned) == 0;
	char names[512], msg[2048];
	PGresult *r;

	if (n == 0)
		return 0;
	r = mreg_db_exec(cfg->conn, active_sql, 1, params, PGRES_TUPLES_OK,
			 err);
	if (!r)
		return -1;
	active = atol(PQgetvalue(r, 0, 0)) + n; /* before the prune */
	PQclear(r);
	limit = guard_limit(cfg, active);
	if (n <= limit && !(empty && cfg->prune_max < 0))
		return 0;
	if (name_some(res, names, sizeof(names)) < 0) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (empty)
		snprintf(msg, sizeof(msg),
			 "\"%s\" holds no model files: refusing to deactivate all %ld models of source \"%s\" (%s); nothing was written",
			 cfg->label_root, n, cfg->source, names);
	else
		snprintf(msg, sizeof(msg),
			 "--prune would deactivate %ld of the %ld active models of source \"%s\" (%s), more than the limit of %ld: refusing; nothing was written",
			 n, active, cfg->source, names, limit);
	w->prune_refused = n;
	w->abort_writes = true;
	if (cfg->ev.prune_refused)
		cfg->ev.prune_refused(cfg->ev.arg, msg, n, limit);
	return 1;
}
