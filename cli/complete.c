/* complete.c - mreg __complete: what the shell completions need
 *
 *   mreg __complete types|providers|models|tags [PREFIX]
 *       values from the registry, one per line: quick and silent (a short
 *       connect timeout; no output and exit 0 without a database)
 *   mreg __complete --spec
 *       the command table as JSON: commands, their options (and what
 *       their values are), their operands; completions/gen.py turns it
 *       into the bash, zsh and fish scripts at build time
 *   mreg __complete --exit-codes
 *       the EXIT STATUS section of mreg(1), in scdoc
 *
 * Hidden from help.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "names.h"

enum { OPT_SPEC = 256, OPT_EXIT_CODES };

struct complete_opts {
	bool spec, exit_codes;
};

static const struct cli_option options[] = {
	{ OPT_SPEC, 0, "spec", NULL, "print the command table as JSON" },
	{ OPT_EXIT_CODES, 0, "exit-codes", NULL,
	  "print the exit codes as mreg(1)'s EXIT STATUS (scdoc)" },
	CLI_END,
};

const struct cli_spec cmd_complete_spec = {
	.usage = "types|providers|models|tags [PREFIX]\n--spec\n--exit-codes",
	.description = "Print completion values (used by the shell "
		       "completions).",
	.options = options,
	.epilogue = NULL,
};

static int handle(void *state, int id, const char *arg)
{
	struct complete_opts *o = state;

	(void)arg;
	if (id == OPT_SPEC)
		o->spec = true;
	else if (id == OPT_EXIT_CODES)
		o->exit_codes = true;
	return 0;
}

static bool is_kind(const char *s, size_t n)
{
	static const char *const kinds[] = {
		"type", "provider", "model", "tag", "directory", "file",
		"format", "duration", "number", "text", "none",
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i]) == n && strncmp(kinds[i], s, n) == 0)
			return true;
	return false;
}

/* Set kind (and values, for a list "a|b|c") from text s of length n. */
static void set_kind(json_t *o, const char *s, size_t n)
{
	json_t *vals;
	const char *p = s, *end = s + n;

	if (is_kind(s, n)) {
		json_object_set_new(o, "kind", json_stringn(s, n));
		return;
	}
	json_object_set_new(o, "kind", json_string("list"));
	vals = json_array();
	while (p < end) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		size_t len = bar ? (size_t)(bar - p) : (size_t)(end - p);

		json_array_append_new(vals, json_stringn(p, len));
		p += len + (bar ? 1 : 0);
	}
	json_object_set_new(o, "values", vals);
}

/* The override of option long in values ("a=x|y b=z"), or NULL. */
static const char *value_override(const char *values, const char *lng,
				  size_t *len)
{
	const char *p = values;
	size_t ln = strlen(lng);

	while (p && *p) {
		size_t word = strcspn(p, " ");

		if (word > ln && strncmp(p, lng, ln) == 0 && p[ln] == '=') {
			*len = word - ln - 1;
			return p + ln + 1;
		}
		p += word;
		while (*p == ' ')
			p++;
	}
	return NULL;
}

static void add_options(json_t *arr, const struct cli_option *o,
			const char *values, bool common)
{
	for (; o && (o->id || o->help); o++) {
		json_t *j;
		const char *ov, *arg;
		size_t ovlen;
		char s[2] = { o->shortopt, 0 };

		if (!o->longopt || !o->help)
			continue;
		j = json_object();
		json_object_set_new(j, "long", json_string(o->longopt));
		json_object_set_new(j, "short", o->shortopt ? json_string(s)
							    : json_null());
		/* an optional value is --name=VALUE, never the next word:
		 * the shells treat the option as a flag */
		arg = cli_option_optional(o) ? NULL : o->arg;
		json_object_set_new(j, "arg", arg ? json_string(arg)
						  : json_null());
		json_object_set_new(j, "help", json_string(o->help));
		json_object_set_new(j, "common", json_boolean(common));
		ov = arg ? value_override(values, o->longopt, &ovlen) : NULL;
		if (ov) {
			set_kind(j, ov, ovlen);
		} else {
			const char *k = cli_value_kind(arg);

			json_object_set_new(j, "kind", json_string(k));
		}
		json_array_append_new(arr, j);
	}
}

static json_t *operands_json(const char *operands)
{
	json_t *arr = json_array();
	const char *p = operands;

	while (p && *p) {
		size_t word = strcspn(p, " ");
		json_t *o = json_object();

		if (word > 5 && strncmp(p, "word:", 5) == 0)
			set_kind(o, p + 5, word - 5);
		else
			set_kind(o, p, word);
		json_array_append_new(arr, o);
		p += word;
		while (*p == ' ')
			p++;
	}
	return arr;
}

static int print_spec(void)
{
	json_t *root = json_object(), *cmds = json_array(), *glob = json_array();
	size_t i;
	char *text;
	int rc;

	add_options(glob, cli_db_options, "", true);
	add_options(glob, cli_read_options, "", true);
	add_options(glob, cli_actor_options, "", true);
	add_options(glob, cli_base_options, CLI_COMMON_VALUES, true);
	add_options(glob, cli_version_options, "", true);
	for (i = 0; i < cli_ncommands; i++) {
		const struct cli_command *c = &cli_commands[i];
		json_t *j = json_object(), *opts = json_array();

		json_object_set_new(j, "name", json_string(c->name));
		json_object_set_new(j, "summary", json_string(c->summary));
		json_object_set_new(j, "hidden",
				    json_boolean(c->flags & CLI_HIDDEN));
		json_object_set_new(j, "database",
				    json_boolean(c->flags & CLI_DB));
		json_object_set_new(j, "min_args", json_integer(c->min_args));
		json_object_set_new(j, "max_args", json_integer(c->max_args));
		json_object_set_new(j, "operands", operands_json(c->operands));
		add_options(opts, c->spec->options, c->values, false);
		if (c->flags & CLI_DB)
			add_options(opts, cli_db_options, "", true);
		if (c->flags & CLI_READ)
			add_options(opts, cli_read_options, "", true);
		if (c->flags & CLI_ACTOR)
			add_options(opts, cli_actor_options, "", true);
		add_options(opts, cli_base_options, CLI_COMMON_VALUES, true);
		json_object_set_new(j, "options", opts);
		json_array_append_new(cmds, j);
	}
	json_object_set_new(root, "global", glob);
	json_object_set_new(root, "commands", cmds);
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return MREG_EXIT_FAILURE;
	rc = puts(text) < 0 ? MREG_EXIT_FAILURE : 0;
	free(text);
	return rc;
}

static void print_exit_codes(void)
{
	size_t i;

	for (i = 0; i < cli_nexit_codes; i++)
		printf("%s*%d*\n\t%s\n", i ? "\n" : "", cli_exit_codes[i].code,
		       cli_exit_codes[i].text);
}

int cmd_complete(struct cli_ctx *ctx, int argc, char **argv)
{
	struct mreg_pool_config cfg = { .max_size = 1, .connect_timeout_s = 2,
					.acquire_timeout_ms = 2000 };
	struct complete_opts o = { 0 };
	struct mreg_names names = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	int first, rc, kind;
	size_t i;

	rc = cli_parse(ctx, &cmd_complete_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	if (o.spec || o.exit_codes) {
		if (first < argc)
			return cli_finish(ctx, cli_usage(ctx, "unexpected "
							 "argument '%s'",
							 argv[first]));
		if (o.spec)
			rc = print_spec();
		else
			print_exit_codes();
		return cli_finish(ctx, rc < 0 ? 0 : rc);
	}
	if (first >= argc || first + 2 < argc)
		return cli_finish(ctx, cli_usage(ctx, "expected types, "
						 "providers, models or tags, "
						 "and an optional prefix"));
	kind = mreg_names_kind_from(argv[first]);
	if (kind < 0)
		return cli_finish(ctx, cli_usage(ctx, "cannot complete '%s'",
						 argv[first]));
	/* from here on: silent, exit 0 */
	pool = cli_pool_config(ctx, &cfg, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, 0);
	if (mreg_names_lookup(conn, (enum mreg_names_kind)kind,
			      first + 1 < argc ? argv[first + 1] : NULL,
			      &names, &err) == 0)
		for (i = 0; i < names.n; i++)
			puts(names.v[i]);
	mreg_names_finish(&names);
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, 0);
}
