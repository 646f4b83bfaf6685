/* test-export.c - export's paths: safe, case-collision free, reversible */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export.h"
#include "tap.h"

static void path_is(const char *provider, const char *name, const char *want)
{
	char path[MREG_EXPORT_PATH_MAX], p[80], n[1024];

	ok(mreg_export_path(provider, name, path, sizeof(path)) == 0,
	   "encode \"%s\"", name);
	if (want)
		is_str(path, want, "path of \"%s\"", name);
	ok(mreg_export_path_decode(path, p, sizeof(p), n, sizeof(n)) == 0 &&
	   strcmp(p, provider) == 0 && strcmp(n, name) == 0,
	   "\"%s\" decodes back", path);
}

/* Every component: at most 200 + ".json" bytes, no leading dot, only
 * [a-z0-9._%-]. */
static int safe(const char *path)
{
	const char *c = path;
	size_t n;

	for (;;) {
		n = strcspn(c, "/");
		if (n == 0 || n > MREG_EXPORT_CHUNK + 5 || c[0] == '.')
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._%-", c[i]))
				return 0;
		if (!c[n])
			return 1;
		c += n + 1;
	}
}

static void test_paths(void)
{
	char a[MREG_EXPORT_PATH_MAX], b[MREG_EXPORT_PATH_MAX], name[1024];
	char p[80], n[1024];
	size_t i;

	path_is("openai", "gpt-4o-mini:2024-07-18", "openai/gpt-4o-mini%3a2024-07-18.json");
	path_is("meta", "meta-llama/Llama-3.1-8B", "meta/meta-llama%2f%4clama-3.1-8%42.json");
	path_is("local", "x@team.example", "local/x%40team.example.json");
	path_is("p", ".hidden", "p/%2ehidden.json");
	path_is("p", "..", "p/%2e..json");
	path_is("p", "100%", "p/100%25.json");
	path_is("p", "caf\xc3\xa9", "p/caf%u00e9.json");
	path_is("p", "\xf0\x9f\x98\x80", "p/%v01f600.json");
	path_is("p", "x.d", "p/x.d.json");
	path_is("p", "a b\\\"", "p/a%20b%5c%22.json");

	/* case pairs differ, and neither path has a capital letter */
	mreg_export_path("p", "Model", a, sizeof(a));
	mreg_export_path("p", "model", b, sizeof(b));
	ok(strcasecmp(a, b) != 0, "Model and model differ ignoring case");

	/* 200 emoji: cut into directories, each a safe component */
	name[0] = '\0';
	for (i = 0; i < 200; i++)
		strcat(name, "\xf0\x9f\x98\x80");
	path_is("p", name, NULL);
	mreg_export_path("p", name, a, sizeof(a));
	ok(safe(a) && strstr(a, ".d/") != NULL, "a long name is cut, safely");
	ok(strlen(a) < 2000, "and fits import-dir's 2000-byte path limit");
	/* a chunk that would start with '.' encodes it */
	memset(name, 'x', MREG_EXPORT_CHUNK);
	strcpy(name + MREG_EXPORT_CHUNK, ".tail");
	path_is("p", name, NULL);
	mreg_export_path("p", name, a, sizeof(a));
	ok(safe(a) && strstr(a, ".d/%2etail.json") != NULL,
	   "a chunk starting with '.' encodes it");

	/* what export never writes does not decode */
	ok(mreg_export_path_decode("p/../x.json", p, sizeof(p), n, sizeof(n)) < 0,
	   "'..' does not decode");
	ok(mreg_export_path_decode("p/X.json", p, sizeof(p), n, sizeof(n)) < 0,
	   "a capital does not decode");
	ok(mreg_export_path_decode("p/x.txt", p, sizeof(p), n, sizeof(n)) < 0,
	   "no .json: no path");
	ok(mreg_export_path_decode("../x.json", p, sizeof(p), n, sizeof(n)) < 0,
	   "a provider that is no slug");
	ok(mreg_export_path_decode("p/a/b.json", p, sizeof(p), n, sizeof(n)) < 0,
	   "a directory not named .d");
}

int main(void)
{
	test_paths();
	return tap_done();
}
