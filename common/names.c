/* names.c - names in the registry, for shell completion */
#include "names.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "queries.h"

/* $1 prefix (NULL: any) -> up to 500 tags in use, distinct, in order. */
#define SQL_TAG_NAMES                                                        \
	"SELECT DISTINCT t FROM mreg.models m, unnest(m.tags) t"             \
	" WHERE m.active AND ($1::text IS NULL OR starts_with(t, $1::text))" \
	" ORDER BY t LIMIT 500"

int mreg_names_kind_from(const char *name)
{
	static const char *const names[] = { "types", "providers", "models",
					     "tags" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

void mreg_names_finish(struct mreg_names *names)
{
	size_t i;

	if (!names)
		return;
	for (i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
	names->v = NULL;
	names->n = 0;
}

int mreg_names_lookup(struct mreg_conn *conn, enum mreg_names_kind kind,
		      const char *prefix, struct mreg_names *names,
		      struct mreg_error *err)
{
	const char *sql = NULL, *v[2] = { prefix, NULL }, *slash;
	char provider[256];
	PGresult *res;
	int i, n = 1, rows;

	switch (kind) {
	case MREG_NAMES_TYPES:
		sql = MREG_SQL_TYPES;
		break;
	case MREG_NAMES_PROVIDERS:
		sql = MREG_SQL_PROVIDER_NAMES;
		break;
	case MREG_NAMES_TAGS:
		sql = SQL_TAG_NAMES;
		break;
	case MREG_NAMES_MODELS:
		slash = prefix ? strchr(prefix, '/') : NULL;
		if (!slash || (size_t)(slash - prefix) >= sizeof(provider)) {
			/* no provider yet: offer "provider/" */
			sql = "SELECT name || '/' FROM (" MREG_SQL_PROVIDER_NAMES
			      ") p";
		} else {
			memcpy(provider, prefix, (size_t)(slash - prefix));
			provider[slash - prefix] = '\0';
			sql = MREG_SQL_MODEL_NAMES;
			v[0] = provider;
			v[1] = slash + 1;
			n = 2;
		}
		break;
	}
	if (!sql) {
		mreg_error_set(err, MREG_EXIT_USAGE, "unknown kind of name");
		return -1;
	}
	/* a transaction of its own: the timeout must not stay behind on a
	 * server connection a pooler hands to someone else */
	if (mreg_db_begin(conn, err) < 0)
		return -1;
	if (mreg_db_command(conn, "SET LOCAL statement_timeout = '2s'", 0,
			    NULL, err) != 0 ||
	    !(res = mreg_db_exec(conn, sql, n, v, PGRES_TUPLES_OK, err))) {
		mreg_db_rollback(conn);
		return -1;
	}
	if (mreg_db_commit(conn, err) < 0) {
		PQclear(res);
		return -1;
	}
	rows = PQntuples(res);
	names->v = rows ? calloc((size_t)rows, sizeof(*names->v)) : NULL;
	if (rows && !names->v) {
		PQclear(res);
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	for (i = 0; i < rows; i++) {
		names->v[i] = strdup(PQgetvalue(res, i, 0));
		if (!names->v[i]) {
			PQclear(res);
			mreg_names_finish(names);
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			return -1;
		}
		names->n++;
	}
	PQclear(res);
	return 0;
}
