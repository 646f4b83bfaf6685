/* bench-workloads.c - the workloads of 'mreg bench': each one's statements
 * (the commands' own SQL from queries.h), its parameters, and the kinds of
 * errors a request can end with */
#include "bench-impl.h"

#include <string.h>

#include "db.h"
#include "listing.h"
#include "queries.h"

static void params_get_default(struct bench_client *c, int step,
			       const char **values);
static void params_list(struct bench_client *c, int step, const char **values);
static void params_show(struct bench_client *c, int step, const char **values);
static void params_search(struct bench_client *c, int step,
			  const char **values);
static void params_set_default(struct bench_client *c, int step,
			       const char **values);

/* What the commands ask for by default. */
#define LIST_PAGE "51"    /* mreg list: 50 rows and one to see a next page */
#define SHOW_AUDIT "10"   /* mreg show: --audit 10 */
#define SEARCH_LIMIT "20" /* mreg search: --limit 20 */

static const struct bench_step get_default_steps[] = {
	{ "mreg_get_default", MREG_SQL_GET_DEFAULT, 1, PGRES_TUPLES_OK, 1, 1 },
};

/* mreg list --type T --count: the total and the page from one snapshot
 * (as mreg_listing_run does; test-listing checks these statements and
 * their parameter counts against the listing table) */
static const struct bench_step list_steps[] = {
	{ NULL, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0,
	  PGRES_COMMAND_OK, 0, 0 },
	{ "mreg_count_models", MREG_SQL_COUNT_MODELS, 4, PGRES_TUPLES_OK, 1, 1 },
	{ "mreg_list_models", MREG_SQL_LIST_MODELS_BY_NAME, 7, PGRES_TUPLES_OK,
	  0, 51 },
	{ NULL, "COMMIT", 0, PGRES_COMMAND_OK, 0, 0 },
};

static const struct bench_step show_steps[] = {
	{ "mreg_show", MREG_SQL_SHOW, 3, PGRES_TUPLES_OK, 1, 1 },
};

static const struct bench_step search_steps[] = {
	{ "mreg_search", MREG_SQL_SEARCH, 4, PGRES_TUPLES_OK, 0, 20 },
};

static const struct bench_step set_default_steps[] = {
	{ "mreg_set_default", MREG_SQL_SET_DEFAULT, 4, PGRES_TUPLES_OK, 1, 1 },
};

#define NSTEPS(a) ((int)(sizeof(a) / sizeof((a)[0])))

const struct bench_workload mreg_bench_workload_table[MREG_BENCH_NWORKLOADS] = {
	[MREG_BENCH_GET_DEFAULT] = { "get-default", false, get_default_steps,
				     NSTEPS(get_default_steps),
				     params_get_default },
	[MREG_BENCH_LIST] = { "list", false, list_steps, NSTEPS(list_steps),
			      params_list },
	[MREG_BENCH_SHOW] = { "show", false, show_steps, NSTEPS(show_steps),
			      params_show },
	[MREG_BENCH_SEARCH] = { "search", false, search_steps,
				NSTEPS(search_steps), params_search },
	[MREG_BENCH_SET_DEFAULT] = { "set-default", true, set_default_steps,
				     NSTEPS(set_default_steps),
				     params_set_default },
	/* no statements of its own: one import-dir run (import_main) */
	[MREG_BENCH_IMPORT] = { "import", true, NULL, 0, NULL },
};

const char *mreg_bench_workload_name(int workload)
{
	if (workload < 0 || workload >= MREG_BENCH_NWORKLOADS)
		return NULL;
	return mreg_bench_workload_table[workload].name;
}

int mreg_bench_workload_find(const char *name)
{
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		if (strcmp(mreg_bench_workload_table[i].name, name) == 0)
			return i;
	return -1;
}

bool mreg_bench_workload_writes(int workload)
{
	return workload >= 0 && workload < MREG_BENCH_NWORKLOADS &&
	       mreg_bench_workload_table[workload].writes;
}

bool mreg_bench_workload_mixable(int workload)
{
	return workload >= 0 && workload < MREG_BENCH_NWORKLOADS &&
	       workload != MREG_BENCH_IMPORT;
}

const struct mreg_prepared *mreg_bench_statements(int *count)
{
	static struct mreg_prepared stmts[MREG_BENCH_NWORKLOADS * 4];
	static int n = -1;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&lock);
	if (n < 0) {
		n = 0;
		for (int w = 0; w < MREG_BENCH_NWORKLOADS; w++)
			for (int s = 0; s < mreg_bench_workload_table[w].nsteps; s++) {
				const struct bench_step *st = &mreg_bench_workload_table[w].steps[s];

				if (!st->stmt)
					continue;
				stmts[n].name = st->stmt;
				stmts[n].sql = st->sql;
				stmts[n].nparams = st->nparams;
				n++;
			}
	}
	pthread_mutex_unlock(&lock);
	*count = n;
	return stmts;
}

/* --- errors ---------------------------------------------------------------- */

static const char *const error_kind_names[MREG_BENCH_NERRKINDS] = {
	[MREG_BENCH_ERR_CONNECT] = "connect",
	[MREG_BENCH_ERR_POOL_TIMEOUT] = "pool_timeout",
	[MREG_BENCH_ERR_DISCONNECT] = "disconnect",
	[MREG_BENCH_ERR_STATEMENT_TIMEOUT] = "statement_timeout",
	[MREG_BENCH_ERR_CONFLICT] = "conflict",
	[MREG_BENCH_ERR_CONSTRAINT] = "constraint",
	[MREG_BENCH_ERR_SERVER] = "server",
	[MREG_BENCH_ERR_RESULT] = "result",
};

const char *mreg_bench_error_kind_name(int kind)
{
	if (kind < 0 || kind >= MREG_BENCH_NERRKINDS)
		return NULL;
	return error_kind_names[kind];
}

int mreg_bench_classify(const struct mreg_error *err)
{
	const char *s = err->sqlstate;

	if (strcmp(s, "57014") == 0)
		return MREG_BENCH_ERR_STATEMENT_TIMEOUT;
	if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
		return MREG_BENCH_ERR_CONFLICT;
	if (strncmp(s, "23", 2) == 0)
		return MREG_BENCH_ERR_CONSTRAINT;
	if (s[0] == '\0' || mreg_sqlstate_is_disconnect(s))
		return MREG_BENCH_ERR_DISCONNECT;
	return MREG_BENCH_ERR_SERVER;
}

/* --- workload parameters --------------------------------------------------- */

static void params_get_default(struct bench_client *c, int step,
			       const char **values)
{
	const struct mreg_bench_data *d = c->w->b->cfg.data;

	(void)step;
	values[0] = d->types[rng_below(&c->w->rng, (uint64_t)d->ntypes)];
}

static void params_list(struct bench_client *c, int step, const char **values)
{
	const struct mreg_bench_data *d = c->w->b->cfg.data;

	if (step == 0) {
		c->pick = (int)rng_below(&c->w->rng, (uint64_t)d->nlist_types);
		return;
	}
	const char *named[MREG_LP_N] = { NULL };

	/* mreg list --type T --count, positions from the listing table */
	named[MREG_LP_TYPE] = d->list_types[c->pick];
	named[MREG_LP_ACTIVE] = "true";
	named[MREG_LP_LIMIT] = LIST_PAGE;
	mreg_listing_bind(mreg_listing_get(MREG_LISTING_MODELS), named,
			  step == 1, values);
}

static void params_show(struct bench_client *c, int step, const char **values)
{
	const struct mreg_bench_data *d = c->w->b->cfg.data;
	int i = (int)rng_below(&c->w->rng, (uint64_t)d->nshow);

	(void)step;
	values[0] = d->show_provider[i];
	values[1] = d->show_name[i];
	values[2] = SHOW_AUDIT;
}

static void params_search(struct bench_client *c, int step,
			  const char **values)
{
	const struct mreg_bench_data *d = c->w->b->cfg.data;

	const char *named[MREG_LP_N] = { NULL };

	(void)step;
	named[MREG_LP_QUERY] = d->terms[rng_below(&c->w->rng,
						  (uint64_t)d->nterms)];
	named[MREG_LP_LIMIT] = SEARCH_LIMIT;
	mreg_listing_bind(mreg_listing_get(MREG_LISTING_SEARCH), named, false,
			  values);
}

static void params_set_default(struct bench_client *c, int step,
			       const char **values)
{
	const struct mreg_bench *b = c->w->b;
	const struct mreg_bench_data *d = b->cfg.data;
	int i = (int)rng_below(&c->w->rng, (uint64_t)d->nsd);

	(void)step;
	values[0] = d->sd_provider[i];
	values[1] = d->sd_name[i];
	values[2] = b->cfg.actor ? b->cfg.actor : "mreg bench";
	values[3] = "{\"command\": \"bench\", \"workload\": \"set-default\"}";
}
