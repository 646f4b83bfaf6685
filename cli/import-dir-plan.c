/* import-dir-plan.c - what import-dir --plan prints as text (see
 * import-dir-plan.h) */
#include "import-dir-plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "jsontext.h"
#include "utf8.h"

/* A value longer than this (characters of its JSON text) is cut. */
#define PLAN_VALUE_CHARS 60

/* The JSON text v, cut to PLAN_VALUE_CHARS characters ("..." after a
 * cut), escaped for a terminal: malloc'd, or NULL. */
static char *value_text(struct mreg_json_span v)
{
	size_t pos = 0, chars = 0, step;
	uint32_t cp;
	char *e, *out;

	while (pos < v.len && chars < PLAN_VALUE_CHARS - 3) {
		step = mreg_utf8_decode((const unsigned char *)v.p + pos,
					v.len - pos, &cp);
		pos += step ? step : 1;
		chars++;
	}
	if (mreg_utf8_chars(v.p, v.len) <= PLAN_VALUE_CHARS)
		pos = v.len;
	e = mreg_escape(v.p, pos, MREG_ESC_JSON, NULL);
	if (!e || pos == v.len)
		return e;
	out = malloc(strlen(e) + 4);
	if (out)
		snprintf(out, strlen(e) + 4, "%s...", e);
	free(e);
	return out;
}

/* One indented line per field of fields (an array of {field, old, new}). */
static void print_fields(const char *fields)
{
	struct mreg_json_iter it;
	struct mreg_json_span k, e, f, o, n;
	char *name, *ot, *nt;

	if (!mreg_json_iter_init(&it, fields, strlen(fields)))
		return;
	while (mreg_json_iter_next(&it, &k, &e)) {
		if (!mreg_json_get(e.p, e.len, "field", &f) ||
		    !mreg_json_get(e.p, e.len, "old", &o) ||
		    !mreg_json_get(e.p, e.len, "new", &n))
			continue;
		name = mreg_json_string_dup(f.p, f.len, NULL);
		ot = value_text(o);
		nt = value_text(n);
		if (name && ot && nt &&
		    cli_printf(stdout, "    %s: ", name) == 0)
			printf("%s -> %s\n", ot, nt);
		free(name);
		free(ot);
		free(nt);
	}
}

void import_plan_print_change(const char *label_root, bool create,
			      const char *resource, const char *rel,
			      const char *fields)
{
	if (strncmp(resource, "models/", 7) == 0)
		resource += 7;
	cli_printf(stdout, "%s %s (%s/%s)\n", create ? "add" : "update",
		   resource, label_root, rel);
	if (!create)
		print_fields(fields);
}

void import_plan_print_deactivate(const char *label_root,
				  const char *resource, const char *rel)
{
	if (strncmp(resource, "models/", 7) == 0)
		resource += 7;
	cli_printf(stdout, "deactivate %s (%s/%s gone)\n", resource,
		   label_root, rel);
}

int import_plan_parse_prune_max(const char *arg, long *max, bool *percent)
{
	size_t n = strlen(arg);
	char num[32];
	bool pct = n > 0 && arg[n - 1] == '%';

	if (pct)
		n--;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, arg, n);
	num[n] = '\0';
	if (cli_parse_long(num, 0, pct ? 100 : 1000000000L, max) < 0)
		return -1;
	*percent = pct;
	return 0;
}
