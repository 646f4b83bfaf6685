/* listing.h - the registry's listings, each defined once
 *
 * A listing (mreg list models/providers/defaults/audit, mreg search) is
 * one table entry: its SQL and count SQL (from queries.h), which named
 * filter feeds each $n, its result columns (names and kinds for the
 * output writers), the columns of its keyset cursor and the cursor's
 * kind.  The commands and 'mreg bench' bind parameters through this
 * table, so the positions are written down in one place only, and
 * test/unit/test-listing.c checks every entry against the server's own
 * description of the statement.
 */
#ifndef MREG_LISTING_H
#define MREG_LISTING_H

#include <stdbool.h>

#include "error.h"
#include "output.h"
#include "pool.h"

enum mreg_listing_id {
	MREG_LISTING_MODELS,         /* by name */
	MREG_LISTING_MODELS_UPDATED, /* by update time, newest first */
	MREG_LISTING_PROVIDERS,
	MREG_LISTING_DEFAULTS,
	MREG_LISTING_AUDIT,
	MREG_LISTING_SEARCH,
	MREG_LISTING_HISTORY,        /* mreg history: one row per entry */
	MREG_LISTING_HISTORY_FIELDS, /* ... one row per changed field */
	MREG_LISTING_DEFAULTS_ASOF,  /* list defaults --at (queries-asof.h) */
	MREG_LISTING_N
};

/* The named parameters a listing's statements take. */
enum mreg_listing_param {
	MREG_LP_QUERY,          /* search text */
	MREG_LP_TYPE,
	MREG_LP_PROVIDER,
	MREG_LP_TAGS,           /* text[] literal */
	MREG_LP_ACTIVE,         /* "true", "false" or NULL (both) */
	MREG_LP_SINCE,          /* timestamptz text */
	MREG_LP_UNTIL,
	MREG_LP_ACTOR,
	MREG_LP_ACTION,
	MREG_LP_MODEL_PROVIDER,
	MREG_LP_MODEL_NAME,
	MREG_LP_MODEL_ID,       /* history: the model's id (bigint text) */
	MREG_LP_RESOURCE,       /* history: an audit resource ("defaults/T") */
	MREG_LP_AFTER_KEY,      /* keyset cursor: sort key of the last row */
	MREG_LP_AFTER_ID,       /* ... and its id */
	MREG_LP_LIMIT,          /* rows the statement returns at most */
	MREG_LP_AT,             /* --at: the instant (timestamptz text) */
	MREG_LP_N
};

#define MREG_LISTING_MAX_PARAMS 16

struct mreg_listing {
	const char *name;       /* "models", ... (for messages and tests) */
	const char *noun;       /* "models", "audit entries", ... */
	const char *sql;
	const char *count_sql;  /* NULL: no count */
	const enum mreg_listing_param *params; /* $1.. of sql */
	int nparams;
	int ncount;             /* count_sql takes the first ncount of them */
	const struct mreg_column *cols;  /* sql's result columns, in order */
	int ncols;
	const char *key_col;    /* cursor: column of the sort key; NULL: the
				 * listing has no pages (its SQL's LIMIT is
				 * still one row more than the caller's, to
				 * learn whether there was more) */
	const char *id_col;     /* ... and of the id, or NULL */
	char kind;              /* cursor kind (registry.h) */
	/*
	 * Consecutive rows with the same id_col value are one item (an audit
	 * entry shown as one row per changed field): the limit, the count
	 * of rows handed over and the cursor are items, never cut inside
	 * one.  The SQL's LIMIT $n applies to items too.
	 */
	bool grouped;
};

const struct mreg_listing *mreg_listing_get(enum mreg_listing_id id);
/*
 * The columns of the model object (mreg-json(7)): every listing of models
 * starts with them, and so does every row that holds one model
 * (queries.h, MREG_SQL_MODEL_FIELDS).  *ncols gets their number.
 */
const struct mreg_column *mreg_model_columns(int *ncols);

/* The index of column name in l->cols, or -1. */
int mreg_listing_column(const struct mreg_listing *l, const char *name);

/*
 * Positional values for l's statement (count: its count statement) from
 * values indexed by enum mreg_listing_param.  values gets l->nparams (or
 * l->ncount) entries.
 */
void mreg_listing_bind(const struct mreg_listing *l,
		       const char *const named[MREG_LP_N], bool count,
		       const char **values);

enum mreg_activity {
	MREG_ACTIVE_ONLY,    /* the default */
	MREG_INACTIVE_ONLY,
	MREG_ACTIVE_ANY,
};

/* What to list; NULL / 0 members: no filter. */
struct mreg_listing_filter {
	const char *query;            /* search */
	const char *type, *provider;  /* models, search */
	const char *const *tags;      /* models: all of them */
	int ntags;
	enum mreg_activity active;    /* models */
	const char *since, *until;    /* audit: timestamps as text */
	const char *actor, *action;   /* audit */
	const char *model_provider;   /* audit: entries about this model */
	const char *model_name;
	const char *model_id;         /* history: a model's id, or */
	const char *resource;         /* ... an audit resource */
	const char *at;               /* defaults --at: the instant */
	const char *after;            /* a cursor token from a previous page */
	long long limit;              /* < 0: every row */
};

/* A filter turned into the parameters of one listing. */
struct mreg_listing_query {
	const struct mreg_listing *l;
	const char *named[MREG_LP_N];
	long long limit;
	char *tags, *key, *id;        /* owned */
	char limit_text[32];
};

/*
 * Check f (the cursor is decoded and validated for this listing: -1 with
 * err MREG_EXIT_USAGE) and fill q; mreg_listing_query_finish frees it.
 */
int mreg_listing_query_init(struct mreg_listing_query *q,
			    enum mreg_listing_id id,
			    const struct mreg_listing_filter *f,
			    struct mreg_error *err);
void mreg_listing_query_finish(struct mreg_listing_query *q);

/* One row, values as text (NULL: SQL NULL), q->l->ncols of them. */
typedef int (*mreg_listing_row_fn)(void *arg, const char *const *row,
				   struct mreg_error *err);

struct mreg_listing_result {
	long long rows;   /* rows handed over (grouped: items) */
	long long total;  /* with count: every matching row; else -1 */
	char *next;       /* malloc'd cursor of the next page, or NULL */
	bool more;        /* the limit cut the rows short (more match) */
};

/*
 * The total number of matching rows, as far as res tells it: the count
 * when one was asked for, else the rows when the limit did not cut them
 * short, else -1 (unknown).
 */
long long mreg_listing_total(const struct mreg_listing_result *res);

/*
 * Run the page (and, with count, its count in the same REPEATABLE READ,
 * READ ONLY snapshot) and hand each row to row() as it arrives (libpq
 * single-row mode: memory stays bounded however many rows).  A failing
 * row() stops the query and its error is returned.  0 or -1 (err
 * filled); res->next is the caller's to free either way.
 */
int mreg_listing_run(struct mreg_conn *conn,
		     const struct mreg_listing_query *q, bool count,
		     mreg_listing_row_fn row, void *arg,
		     struct mreg_listing_result *res, struct mreg_error *err);

/* EXPLAIN (FORMAT JSON) of the page statement; malloc'd plan text. */
char *mreg_listing_explain(struct mreg_conn *conn,
			   const struct mreg_listing_query *q,
			   struct mreg_error *err);

#endif
