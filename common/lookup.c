/* lookup.c - the registry's small reads (see lookup.h) */
#include "lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "listing.h"
#include "output.h"
#include "queries.h"
#include "registry.h"

static int oom(struct mreg_error *err)
{
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

int mreg_lookup_suggest_models(struct mreg_conn *conn, const char *provider,
			       const char *name, char *buf, size_t len)
{
	const char *v[2] = { provider, name };

	return mreg_suggest(conn, MREG_SQL_SUGGEST_MODELS, 2, v, buf, len);
}

int mreg_lookup_suggest_types(struct mreg_conn *conn, const char *type,
			      char *buf, size_t len)
{
	/* $1 is the (unused) prefix of MREG_SQL_TYPES */
	const char *v[2] = { NULL, type };

	return mreg_suggest(conn, MREG_SQL_SUGGEST_TYPES, 2, v, buf, len);
}

static int exists(struct mreg_conn *conn, const char *sql, const char *value,
		  bool *out, struct mreg_error *err)
{
	const char *v[1] = { value };
	PGresult *res = mreg_db_exec(conn, sql, 1, v, PGRES_TUPLES_OK, err);

	if (!res)
		return -1;
	*out = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

int mreg_lookup_type_exists(struct mreg_conn *conn, const char *type,
			    bool *out, struct mreg_error *err)
{
	return exists(conn, MREG_SQL_TYPE_EXISTS, type, out, err);
}

int mreg_lookup_filters(struct mreg_conn *conn, const char *type,
			const char *provider, struct mreg_unknown *u,
			struct mreg_error *err)
{
	const char *v[1] = { provider };
	bool known;

	u->noun = u->value = NULL;
	u->suggest[0] = '\0';
	if (type) {
		if (exists(conn, MREG_SQL_TYPE_EXISTS, type, &known, err) < 0)
			return -1;
		if (!known) {
			u->noun = "type";
			u->value = type;
			mreg_lookup_suggest_types(conn, type, u->suggest,
						  sizeof(u->suggest));
			return 1;
		}
	}
	if (provider) {
		if (exists(conn, MREG_SQL_PROVIDER_EXISTS, provider, &known,
			   err) < 0)
			return -1;
		if (!known) {
			u->noun = "provider";
			u->value = provider;
			mreg_suggest(conn, MREG_SQL_SUGGEST_PROVIDERS, 1, v,
				     u->suggest, sizeof(u->suggest));
			return 1;
		}
	}
	return 0;
}

/* The first column of the first row, malloc'd: 1, 0 no row, -1. */
static int one_value(struct mreg_conn *conn, const char *sql, int nparams,
		     const char *const *v, char **out, size_t *len,
		     struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(conn, sql, nparams, v, PGRES_TUPLES_OK,
				     err);
	size_t n;

	*out = NULL;
	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	n = (size_t)PQgetlength(res, 0, 0);
	*out = malloc(n + 1);
	if (*out) {
		memcpy(*out, PQgetvalue(res, 0, 0), n + 1);
		if (len)
			*len = n;
	}
	PQclear(res);
	return *out ? 1 : oom(err);
}

int mreg_lookup_default(struct mreg_conn *conn, const char *type,
			char **model, struct mreg_error *err)
{
	const char *v[1] = { type };

	return one_value(conn, MREG_SQL_GET_DEFAULT, 1, v, model, NULL, err);
}

/*
 * The one row of sql as one JSON object, malloc'd in *doc (*len bytes):
 * the model object's columns first (listing.c, written as mreg list
 * writes a row), then any further column as embedded JSON under its own
 * name.  1, 0 no row, -1.
 */
static int model_object(struct mreg_conn *conn, const char *sql,
			int nparams, const char *const *v, char **doc,
			size_t *len, struct mreg_error *err)
{
	struct mreg_column cols[32];
	const char *values[32];
	const struct mreg_column *mc;
	PGresult *res;
	FILE *f = NULL;
	int nm, n, i, rc = -1;

	*doc = NULL;
	*len = 0;
	res = mreg_db_exec(conn, sql, nparams, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	mc = mreg_model_columns(&nm);
	n = PQnfields(res);
	if (n < nm || n > 32) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "unexpected result "
			       "shape (%d columns)", n);
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		if (i < nm)
			cols[i] = mc[i];
		else
			cols[i] = (struct mreg_column){ PQfname(res, i),
							MREG_COL_JSON, 0,
							MREG_PRIO_LEAST };
		values[i] = PQgetisnull(res, 0, i) ? NULL
						   : PQgetvalue(res, 0, i);
	}
	f = open_memstream(doc, len);
	if (!f || mreg_json_write_object(f, cols, n, values) < 0) {
		oom(err);
		goto cleanup;
	}
	rc = 1;
cleanup:
	if (f && fclose(f) != 0 && rc == 1)
		rc = oom(err);
	if (rc < 0) {
		free(*doc);
		*doc = NULL;
	}
	PQclear(res);
	return rc;
}

int mreg_lookup_show(struct mreg_conn *conn, const char *provider,
		     const char *name, long audit, char **doc, size_t *len,
		     struct mreg_error *err)
{
	char n[32];
	const char *v[3] = { provider, name, n };

	snprintf(n, sizeof(n), "%ld", audit);
	return model_object(conn, MREG_SQL_SHOW, 3, v, doc, len, err);
}

int mreg_lookup_model(struct mreg_conn *conn, const char *provider,
		      const char *name, char **doc, size_t *len,
		      struct mreg_error *err)
{
	const char *v[2] = { provider, name };

	return model_object(conn, MREG_SQL_GET_MODEL, 2, v, doc, len, err);
}

int mreg_lookup_default_model(struct mreg_conn *conn, const char *type,
			      char **doc, size_t *len, struct mreg_error *err)
{
	const char *v[1] = { type };

	return model_object(conn, MREG_SQL_GET_DEFAULT_MODEL, 1, v, doc, len,
			    err);
}

int mreg_set_default(struct mreg_conn *conn, const char *provider,
		     const char *name, const char *actor,
		     struct mreg_default_change *c, struct mreg_error *err)
{
	const char *v[4] = { provider, name, actor,
			     "{\"command\": \"set-default\"}" };
	PGresult *res;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	res = mreg_db_exec(conn, MREG_SQL_SET_DEFAULT, 4, v, PGRES_TUPLES_OK,
			   err);
	if (!res)
		return -1;
	/* model_id, type, active, changed, previous */
	if (PQntuples(res) == 1) {
		c->found = true;
		c->active = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		c->changed = strcmp(PQgetvalue(res, 0, 3), "0") != 0;
		c->type = strdup(PQgetvalue(res, 0, 1));
		if (!PQgetisnull(res, 0, 4))
			c->previous = strdup(PQgetvalue(res, 0, 4));
		if (!c->type || (!PQgetisnull(res, 0, 4) && !c->previous))
			rc = oom(err);
	}
	PQclear(res);
	if (rc < 0)
		mreg_default_change_finish(c);
	return rc;
}

void mreg_default_change_finish(struct mreg_default_change *c)
{
	if (!c)
		return;
	free(c->type);
	free(c->previous);
	c->type = c->previous = NULL;
}
