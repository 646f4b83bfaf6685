/* import-dir-report.c - import-dir's summary (see import-dir-report.h) */
#include "import-dir-report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

/* s as a JSON string (text that is not UTF-8, such as a file name from
 * the disk, escaped as on stderr). */
static json_t *text(const char *s)
{
	json_t *v = json_string(s);
	char *e;

	if (v)
		return v;
	e = mreg_escape(s, strlen(s), 0, NULL);
	v = e ? json_string(e) : NULL;
	free(e);
	return v ? v : json_string("(unprintable)");
}

/* Parse "L:C: " at the start of *text: the position, *text after it. */
static void position(const char **text, json_t **line, json_t **column)
{
	const char *p = *text;
	char *end;
	long l, c;

	*line = *column = NULL;
	if (*p < '0' || *p > '9')
		return;
	l = strtol(p, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return;
	c = strtol(end + 1, &end, 10);
	if (end[0] != ':' || end[1] != ' ' || l < 1 || c < 1)
		return;
	*line = json_integer(l);
	*column = json_integer(c);
	*text = end + 2;
}

static void append(json_t **list, json_t *item)
{
	if (!item)
		return;
	if (!*list)
		*list = json_array();
	if (*list)
		json_array_append(*list, item);
	json_decref(item);
}

void import_report_failure(struct import_report *r, const char *label,
			   const char *msg)
{
	json_t *line, *column;

	if (!r->json)
		return;
	position(&msg, &line, &column);
	append(&r->failures,
	       json_pack("{s:o, s:o, s:o, s:o}", "file", text(label),
			 "line", line ? line : json_null(),
			 "column", column ? column : json_null(),
			 "message", text(msg)));
}

void import_report_plan_item(struct import_report *r, const char *action,
			     const char *resource, const char *label,
			     const char *fields)
{
	json_t *file, *model;
	char *f = NULL, *m = NULL;

	if (!r->json)
		return;
	if (strncmp(resource, "models/", 7) == 0)
		resource += 7;
	file = text(label);
	model = text(resource);
	if (file && model) {
		f = json_dumps(file, JSON_ENCODE_ANY);
		m = json_dumps(model, JSON_ENCODE_ANY);
	}
	if (!f || !m) {
		r->plan_items.oom = true;
	} else {
		if (r->plan_items.len)
			mreg_strbuf_puts(&r->plan_items, ",");
		mreg_strbuf_puts(&r->plan_items, "{\"file\":");
		mreg_strbuf_puts(&r->plan_items, f);
		mreg_strbuf_puts(&r->plan_items, ",\"model\":");
		mreg_strbuf_puts(&r->plan_items, m);
		mreg_strbuf_puts(&r->plan_items, ",\"action\":\"");
		mreg_strbuf_puts(&r->plan_items, action);
		mreg_strbuf_puts(&r->plan_items, "\",\"fields\":");
		mreg_strbuf_puts(&r->plan_items, fields);
		mreg_strbuf_puts(&r->plan_items, "}");
	}
	free(f);
	free(m);
	json_decref(file);
	json_decref(model);
}

void import_report_refusal(struct import_report *r, const char *msg,
			   long would, long limit)
{
	if (!r->json)
		return;
	json_decref(r->refusal);
	r->refusal = json_pack("{s:o, s:I, s:I}", "message", text(msg),
			       "would_deactivate", (json_int_t)would,
			       "limit", (json_int_t)limit);
}

void import_report_change(struct import_report *r, const char *action,
			  const char *resource, const char *label)
{
	if (r->plan) {
		if (strcmp(action, "prune") == 0)
			import_report_plan_item(r, action, resource, label,
				"[{\"field\": \"active\", \"old\": true, \"new\": false}]");
		return; /* adds and updates: import_report_plan_item */
	}
	if (!r->json || !r->dry_run)
		return;
	if (strncmp(resource, "models/", 7) == 0)
		resource += 7;
	append(&r->changes, json_pack("{s:o, s:o, s:s}", "file", text(label),
				      "model", text(resource),
				      "action", action));
}

/*
 * The summary s (compact JSON text of an object, taken) with
 * ,"changes":[ITEMS] before its closing brace: the plan's items are text
 * already (their values as the server wrote them).  NULL if out of memory.
 */
static char *splice_plan(char *s, struct mreg_strbuf *items)
{
	struct mreg_strbuf b = { 0 };
	size_t n = strlen(s);

	if (items->oom || n < 2 || s[n - 1] != '}') {
		free(s);
		return NULL;
	}
	mreg_strbuf_add(&b, s, n - 1);
	mreg_strbuf_puts(&b, ",\"changes\":[");
	if (items->len)
		mreg_strbuf_add(&b, items->p, items->len);
	mreg_strbuf_puts(&b, "]}");
	free(s);
	return mreg_strbuf_take(&b);
}

static void print_json(struct import_report *r, const char *source,
		       const struct mreg_import_counts *c, double seconds,
		       int exit_code)
{
	json_t *fails = r->failures ? json_incref(r->failures) : json_array();
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:b, s:i, s:o, s:b, s:b, s:I, s:I, s:I, s:I, "
		      "s:I, s:I, s:I, s:I, s:f, s:o}",
		      "command", "import-dir", "ok", exit_code == 0,
		      "exit_code", exit_code, "source", text(source),
		      "dry_run", r->dry_run, "plan", r->plan,
		      "scanned", (json_int_t)c->scanned,
		      "hashed", (json_int_t)c->hashed,
		      "unchanged", (json_int_t)c->unchanged,
		      "added", (json_int_t)c->added,
		      "updated", (json_int_t)c->updated,
		      "failed", (json_int_t)c->failed,
		      "pruned", (json_int_t)c->pruned,
		      "missing", (json_int_t)c->missing,
		      "duration_s", seconds,
		      "failures", fails);
	if (o && r->refusal)
		json_object_set(o, "refusal", r->refusal);
	if (o && r->dry_run && !r->plan)
		json_object_set_new(o, "changes", r->changes
						  ? json_incref(r->changes)
						  : json_array());
	s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	if (s && r->plan)
		s = splice_plan(s, &r->plan_items);
	if (s) {
		printf("%s\n", s);
		cli_json_printed();
	}
	free(s);
	json_decref(o);
}

void import_report_print(struct import_report *r, const char *source,
			 const struct mreg_import_counts *c, double seconds,
			 int exit_code)
{
	if (r->json)
		print_json(r, source, c, seconds, exit_code);
	else if (!r->quiet && r->plan)
		printf("plan: %ld to add, %ld to update, %ld to deactivate, "
		       "%ld bad file%s; scanned %ld, unchanged %ld, missing %ld "
		       "in %.2f s (nothing written)\n",
		       c->added, c->updated, c->pruned, c->failed,
		       c->failed == 1 ? "" : "s", c->scanned, c->unchanged,
		       c->missing, seconds);
	else if (!r->quiet)
		printf("%sscanned %ld, unchanged %ld, added %ld, updated %ld, "
		       "failed %ld, pruned %ld, missing %ld in %.2f s\n",
		       r->dry_run ? "dry run: " : "", c->scanned,
		       c->unchanged, c->added, c->updated, c->failed,
		       c->pruned, c->missing, seconds);
}

void import_report_finish(struct import_report *r)
{
	json_decref(r->failures);
	json_decref(r->changes);
	json_decref(r->refusal);
	r->failures = r->changes = r->refusal = NULL;
	mreg_strbuf_free(&r->plan_items);
}
