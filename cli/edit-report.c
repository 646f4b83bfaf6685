/* edit-report.c - the summary and notes of the edit commands */
#include "edit-report.h"

#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "output.h"

static void put_string(FILE *f, const char *s)
{
	if (s)
		mreg_json_write_string(f, s, strlen(s));
	else
		fputs("null", f);
}

static void put_key(struct edit_json *j, const char *key)
{
	fputc(',', j->f);
	put_string(j->f, key);
	fputc(':', j->f);
}

int edit_json_begin(struct edit_json *j, const char *command, bool dry_run)
{
	memset(j, 0, sizeof(*j));
	j->f = open_memstream(&j->buf, &j->len);
	if (!j->f)
		return -1;
	fputs("{\"command\":", j->f);
	put_string(j->f, command);
	fprintf(j->f, ",\"ok\":true,\"exit_code\":0,\"dry_run\":%s",
		dry_run ? "true" : "false");
	return 0;
}

void edit_json_string(struct edit_json *j, const char *key, const char *v)
{
	put_key(j, key);
	put_string(j->f, v);
}

void edit_json_bool(struct edit_json *j, const char *key, bool v)
{
	put_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void edit_json_int(struct edit_json *j, const char *key, long long v)
{
	put_key(j, key);
	fprintf(j->f, "%lld", v);
}

void edit_json_raw(struct edit_json *j, const char *key, const char *v,
		   size_t len)
{
	put_key(j, key);
	if (v)
		fwrite(v, 1, len, j->f);
	else
		fputs("null", j->f);
}

void edit_json_sources(struct edit_json *j, const struct mreg_edit *e)
{
	size_t i;

	put_key(j, "sources");
	fputc('[', j->f);
	for (i = 0; i < e->nsources; i++) {
		fputs(i ? ",{\"source\":" : "{\"source\":", j->f);
		put_string(j->f, e->sources[i].source);
		fputs(",\"path\":", j->f);
		put_string(j->f, e->sources[i].path);
		fputc('}', j->f);
	}
	fputc(']', j->f);
}

int edit_json_end(const struct cli_ctx *ctx, struct edit_json *j)
{
	int rc;

	if (!j->f)
		return cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
	fputc('}', j->f);
	rc = fclose(j->f);
	j->f = NULL;
	if (rc != 0) {
		free(j->buf);
		return cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
	}
	mreg_json_write(stdout, j->buf, j->len, 2);
	putchar('\n');
	free(j->buf);
	j->buf = NULL;
	return 0;
}

void edit_json_changes(struct edit_json *j, const struct mreg_edit *e)
{
	const struct mreg_edit_change *c;
	size_t i;

	put_key(j, "changes");
	fputc('[', j->f);
	for (i = 0; i < e->nchanges; i++) {
		c = &e->changes[i];
		fputs(i ? ",{\"action\":" : "{\"action\":", j->f);
		put_string(j->f, c->action);
		fputs(",\"resource\":", j->f);
		put_string(j->f, c->resource);
		/* numbers and jsonb text as the server wrote them */
		fprintf(j->f, ",\"model_id\":%s,\"old\":%s,\"new\":%s}",
			c->model_id ? c->model_id : "null",
			c->old ? c->old : "null", c->new_ ? c->new_ : "null");
	}
	fputc(']', j->f);
}

void edit_print_changes(const struct mreg_edit *e)
{
	const struct mreg_edit_change *c;
	size_t i;

	for (i = 0; i < e->nchanges; i++) {
		c = &e->changes[i];
		if (c->old && c->new_)
			cli_printf(stdout, "  %s %s: %s -> %s\n", c->action,
				   c->resource, c->old, c->new_);
		else
			cli_printf(stdout, "  %s %s\n", c->action,
				   c->resource);
	}
}

void edit_warn_sources(const struct cli_ctx *ctx, const struct mreg_edit *e,
		       const char *what)
{
	size_t i;

	for (i = 0; i < e->nsources; i++)
		cli_warn(ctx, "%s came from \"%s\" of source \"%s\": the next "
			 "import-dir of that source adds it again from that "
			 "file", what, e->sources[i].path,
			 e->sources[i].source);
}
