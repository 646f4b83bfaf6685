/* json-errors.c - errors as data (see json-errors.h) */
#include "json-errors.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "escape.h"

static struct {
	pthread_mutex_t lock;
	struct mreg_error first; /* the first error (status set) */
	struct mreg_error last;  /* the last message without a status */
	bool have_first, have_last;
	struct mreg_error *hint_to; /* whose hint a HINT line is, or NULL */
	bool done;                  /* printed, or the command printed */
} rec = { .lock = PTHREAD_MUTEX_INITIALIZER };

void cli_json_note(const struct mreg_error *err)
{
	pthread_mutex_lock(&rec.lock);
	if (err->status && !rec.have_first) {
		rec.first = *err;
		rec.have_first = true;
		rec.hint_to = &rec.first;
	} else if (!err->status) {
		rec.last = *err;
		rec.have_last = true;
		rec.hint_to = &rec.last;
	} else {
		rec.hint_to = NULL;
	}
	pthread_mutex_unlock(&rec.lock);
}

void cli_json_note_other(void)
{
	pthread_mutex_lock(&rec.lock);
	rec.hint_to = NULL;
	pthread_mutex_unlock(&rec.lock);
}

void cli_json_note_hint(const char *hint)
{
	pthread_mutex_lock(&rec.lock);
	if (hint && rec.hint_to && !rec.hint_to->hint[0])
		snprintf(rec.hint_to->hint, sizeof(rec.hint_to->hint), "%s",
			 hint);
	pthread_mutex_unlock(&rec.lock);
}

void cli_json_printed(void)
{
	pthread_mutex_lock(&rec.lock);
	rec.done = true;
	pthread_mutex_unlock(&rec.lock);
}

void cli_set_json(struct cli_ctx *ctx, bool on)
{
	ctx->json_errors = on;
}

/* ---- the command line -------------------------------------------------- */

static bool is_end(const struct cli_option *o)
{
	return !o->id && !o->help;
}

/* The long option name[0..len) names, exactly or as getopt_long's unique
 * abbreviation; NULL if none or ambiguous. */
static const struct cli_option *find_long(const struct cli_option *const *t,
					  size_t nt, const char *name,
					  size_t len)
{
	const struct cli_option *hit = NULL, *o;
	int hits = 0;
	size_t i;

	for (i = 0; i < nt; i++) {
		for (o = t[i]; o && !is_end(o); o++) {
			if (!o->longopt || strncmp(o->longopt, name, len) != 0)
				continue;
			if (strlen(o->longopt) == len)
				return o;
			if (!hit || hit->id != o->id)
				hits++;
			hit = o;
		}
	}
	return hits == 1 ? hit : NULL;
}

static const struct cli_option *find_short(const struct cli_option *const *t,
					   size_t nt, char c)
{
	const struct cli_option *o;
	size_t i;

	for (i = 0; i < nt; i++)
		for (o = t[i]; o && !is_end(o); o++)
			if (o->longopt && o->shortopt == c)
				return o;
	return NULL;
}

/* The option of argv[*i] that takes a value, and the value (NULL when it
 * is missing); *i moves past a value in the next word.  NULL for
 * anything else. */
static const struct cli_option *option_value(const struct cli_option *const *t,
					     size_t nt, int argc, char **argv,
					     int *i, const char **val)
{
	const char *a = argv[*i], *eq, *p;
	const struct cli_option *o;

	*val = NULL;
	if (a[0] != '-' || a[1] == '\0')
		return NULL; /* an operand: getopt_long goes on after it */
	if (a[1] == '-') {
		eq = strchr(a + 2, '=');
		o = find_long(t, nt, a + 2, eq ? (size_t)(eq - a - 2)
					       : strlen(a + 2));
		if (!o || !o->arg)
			return NULL;
		if (eq)
			*val = eq + 1;
		else if (*i + 1 < argc)
			*val = argv[++*i];
		return o;
	}
	for (p = a + 1; *p; p++) {
		o = find_short(t, nt, *p);
		if (!o || !o->arg)
			continue;
		if (p[1])
			*val = p + 1;
		else if (*i + 1 < argc)
			*val = argv[++*i];
		return o;
	}
	return NULL;
}

void cli_json_prescan(struct cli_ctx *ctx,
		      const struct cli_option *const *tables, size_t ntables,
		      int argc, char **argv)
{
	const struct cli_option *o;
	const char *val;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		o = option_value(tables, ntables, argc, argv, &i, &val);
		if (o && val && strcmp(o->longopt, "format") == 0)
			ctx->json_errors = strcmp(val, "json") == 0 ||
					   strcmp(val, "ndjson") == 0;
	}
}

/* ---- the object -------------------------------------------------------- */

/* s as a JSON string, null when empty; text that is not UTF-8 escaped. */
static json_t *text(const char *s)
{
	json_t *v;
	char *e;

	if (!s || !*s)
		return json_null();
	if ((v = json_string(s)) != NULL)
		return v;
	e = mreg_escape(s, strlen(s), 0, NULL);
	v = e ? json_string(e) : NULL;
	free(e);
	return v ? v : json_string("(unprintable)");
}

static json_t *number(long n)
{
	return n > 0 ? json_integer(n) : json_null();
}

static json_t *error_object(const char *command, int status,
			    const struct mreg_error *e)
{
	json_t *o = json_object(), *err = json_object();

	if (!o || !err) {
		json_decref(o);
		json_decref(err);
		return NULL;
	}
	json_object_set_new(err, "message",
			    text(e->message[0] ? e->message : "unknown error"));
	json_object_set_new(err, "detail", text(e->detail));
	json_object_set_new(err, "hint", text(e->hint));
	json_object_set_new(err, "sqlstate", text(e->sqlstate));
	json_object_set_new(err, "file", text(e->path));
	json_object_set_new(err, "line", number(e->line));
	json_object_set_new(err, "column", number(e->column));
	json_object_set_new(o, "command", text(command));
	json_object_set_new(o, "ok", json_false());
	json_object_set_new(o, "exit_code", json_integer(status));
	json_object_set_new(o, "error", err);
	return o;
}

int cli_json_finish(const struct cli_ctx *ctx, int status)
{
	const struct mreg_error *e = NULL;
	json_t *o;
	char *s;

	pthread_mutex_lock(&rec.lock);
	if (status && ctx->json_errors && !rec.done)
		e = rec.have_first ? &rec.first
		  : rec.have_last ? &rec.last : NULL;
	rec.done = rec.done || e;
	pthread_mutex_unlock(&rec.lock);
	if (!e)
		return status;
	o = error_object(ctx->command && *ctx->command ? ctx->command : "mreg",
			 status, e);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
	}
	fflush(stdout);
	free(s);
	json_decref(o);
	return status;
}
