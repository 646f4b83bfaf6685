/* view.c - output settings shared by the registry read commands */
#include "view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lookup.h"
#include "pager.h"
#include "registry.h"
#include "timeparse.h"

void view_config(FILE *out, enum mreg_out_format format,
		 struct mreg_output_config *cfg)
{
	const char *columns = getenv("COLUMNS");
	const char *no_color = getenv("NO_COLOR");
	bool paged = out == stdout && cli_pager_active();
	bool tty = paged || cli_isatty(out);
	long w = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->format = format;
	cfg->window = 0;
	if (!tty)
		cfg->width = 0; /* a pipe or a file gets every character */
	else if (columns && cli_parse_long(columns, 1, 100000, &w) == 0)
		cfg->width = (int)w;
	else
		cfg->width = paged ? cli_pager_width()
				   : mreg_terminal_width(fileno(out));
	cfg->color = tty && !(no_color && *no_color);
}

/* "a, b, c": the names of cols, for the usage error. */
static void column_names(const struct mreg_column *cols, int ncols,
			 char *buf, size_t len)
{
	size_t used = 0;
	int i, n;

	buf[0] = '\0';
	for (i = 0; i < ncols && used < len; i++) {
		n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
			     cols[i].name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static int find_column(const struct mreg_column *cols, int ncols,
		       const char *name, size_t len)
{
	for (int i = 0; i < ncols; i++)
		if (strlen(cols[i].name) == len &&
		    strncasecmp(cols[i].name, name, len) == 0)
			return i;
	return -1;
}

/* Parse t->columns against cols into t->cols/from/ncols. */
static int choose_columns(struct view_table *t,
			  const struct mreg_column *cols, int ncols)
{
	const char *p = t->columns, *end;
	char valid[512];
	int n = 1, k, i;

	for (end = p; *end; end++)
		n += *end == ',';
	t->cols = calloc((size_t)n, sizeof(*t->cols));
	t->from = calloc((size_t)n, sizeof(*t->from));
	t->row = calloc((size_t)n, sizeof(*t->row));
	if (!t->cols || !t->from || !t->row)
		return cli_fail(t->ctx, MREG_EXIT_FAILURE, "out of memory");
	column_names(cols, ncols, valid, sizeof(valid));
	for (k = 0; k < n; k++, p = end + 1) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if (end == p)
			return cli_usage(t->ctx, "--columns: empty column name "
						 "(valid: %s)", valid);
		i = find_column(cols, ncols, p, (size_t)(end - p));
		if (i < 0)
			return cli_usage(t->ctx, "--columns: unknown column "
						 "'%.*s' (valid: %s)",
					 (int)(end - p), p, valid);
		for (int j = 0; j < k; j++)
			if (t->from[j] == i)
				return cli_usage(t->ctx, "--columns: column "
							 "'%s' given twice",
						 cols[i].name);
		t->from[k] = i;
		t->cols[k] = cols[i];
		t->cols[k].flags &= ~(unsigned)MREG_COL_HIDDEN;
	}
	t->ncols = n;
	return 0;
}

int view_table_check(struct view_table *t, enum mreg_out_format format,
		     const struct mreg_column *cols, int ncols)
{
	if ((t->columns || t->no_headers) &&
	    (format == MREG_OUT_JSON || format == MREG_OUT_NDJSON))
		return cli_usage(t->ctx, "%s goes with --format table or csv "
					 "(JSON output always has every key)",
				 t->columns ? "--columns" : "--no-headers");
	if (t->columns && !t->cols)
		return choose_columns(t, cols, ncols);
	return 0;
}

int view_table_open(struct view_table *t, enum mreg_out_format format,
		    const struct mreg_column *cols, int ncols)
{
	struct mreg_output_config cfg;
	struct mreg_error err;
	int rc = view_table_check(t, format, cols, ncols);

	if (rc)
		return rc;
	t->format = format;
	view_config(stdout, format, &cfg);
	cfg.no_headers = t->no_headers;
	t->out = mreg_output_create(stdout, &cfg, t->cols ? t->cols : cols,
				    t->cols ? t->ncols : ncols, &err);
	if (!t->out)
		return cli_report(t->ctx, &err);
	mreg_output_set_at(t->out, t->at);
	return 0;
}

int view_table_row(void *arg, const char *const *row, struct mreg_error *err)
{
	struct view_table *t = arg;
	int i;

	if (!t->started) {
		t->started = true;
		if (t->format == MREG_OUT_TABLE)
			cli_pager_start(t->ctx);
	}
	if (!t->cols)
		return mreg_output_row(t->out, row, err);
	for (i = 0; i < t->ncols; i++)
		t->row[i] = row[t->from[i]];
	return mreg_output_row(t->out, t->row, err);
}

void view_table_close(struct view_table *t)
{
	if (!t)
		return;
	mreg_output_destroy(t->out);
	free(t->cols);
	free(t->from);
	free(t->row);
	t->out = NULL;
	t->cols = NULL;
	t->from = NULL;
	t->row = NULL;
}

int view_parse_format(const struct cli_ctx *ctx, const char *arg,
		      enum mreg_out_format *out)
{
	if (mreg_output_parse_format(arg, out) < 0)
		return cli_usage(ctx, "--format must be table, json, ndjson "
				      "or csv, not '%s'", arg);
	return 0;
}

int view_write_failed(const struct cli_ctx *ctx, const struct mreg_output *o,
		      const struct mreg_error *err)
{
	if (mreg_output_errno(o) == EPIPE)
		return MREG_EXIT_OK;
	return cli_report(ctx, err);
}

int view_unknown_model(const struct cli_ctx *ctx, struct mreg_conn *conn,
		       const char *provider, const char *name,
		       const char *ident)
{
	char hint[1024];

	cli_fail(ctx, 0, "unknown model \"%s\"", ident);
	if (mreg_lookup_suggest_models(conn, provider, name, hint,
				       sizeof(hint)))
		cli_hint("did you mean %s?", hint);
	return MREG_EXIT_DATA;
}

int view_check_filters(const struct cli_ctx *ctx, struct mreg_conn *conn,
		       const char *type, const char *provider)
{
	struct mreg_unknown u;
	struct mreg_error err;
	int rc = mreg_lookup_filters(conn, type, provider, &u, &err);

	if (rc < 0)
		return cli_report(ctx, &err);
	if (rc == 0)
		return 0;
	cli_fail(ctx, 0, "unknown %s \"%s\"", u.noun, u.value);
	if (u.suggest[0])
		cli_hint("did you mean %s?", u.suggest);
	return MREG_EXIT_DATA;
}

int view_identity_arg(const struct cli_ctx *ctx, int argc, char **argv,
		      int first, char *provider, size_t len,
		      const char **name)
{
	struct mreg_error err;

	if (mreg_identity_split(argv[first], provider, len, name, &err) < 0)
		return cli_usage(ctx, "%s", err.message);
	return -1;
}

int view_parse_time(const struct cli_ctx *ctx, const char *opt,
		    const char *arg, char *buf, size_t len)
{
	struct mreg_error err;
	struct mreg_time t;

	if (mreg_time_parse(arg, (long long)time(NULL), &t, &err) < 0)
		return cli_usage(ctx, "%s: %s", opt, err.message);
	if (mreg_time_format(&t, buf, len) < 0)
		return cli_usage(ctx, "%s: invalid time \"%s\": out of range",
				 opt, arg);
	return 0;
}

void view_listing_trailer(const struct cli_ctx *ctx,
			  enum mreg_out_format format, const char *noun,
			  const struct mreg_listing_result *res)
{
	if (format == MREG_OUT_TABLE) {
		if (res->total >= 0)
			printf("-- %lld %s in total\n", res->total, noun);
		if (res->next)
			printf("-- next page: --after %s\n", res->next);
	} else if (format != MREG_OUT_JSON) {
		if (res->total >= 0)
			cli_info(ctx, "%lld %s in total", res->total, noun);
		if (res->next)
			cli_info(ctx, "next page: --after %s", res->next);
	}
}
