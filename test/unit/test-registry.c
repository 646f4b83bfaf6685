/* test-registry.c - identity splitting and keyset cursors (no database) */
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "tap.h"

static void test_identity(void)
{
	struct mreg_error err;
	char provider[16];
	const char *name = NULL;

	ok(mreg_identity_split("openai/gpt-4o", provider, sizeof(provider),
			       &name, &err) == 0, "split provider/name");
	is_str(provider, "openai", "provider");
	is_str(name, "gpt-4o", "name");
	ok(mreg_identity_split("openrouter/meta-llama/llama-3:70b@q4",
			       provider, sizeof(provider), &name, &err) == 0,
	   "split at the first slash");
	is_str(provider, "openrouter", "provider before the first slash");
	is_str(name, "meta-llama/llama-3:70b@q4", "the name keeps its slashes");
	is_int(mreg_identity_split("gpt-4o", provider, sizeof(provider), &name,
				   &err), -1, "no slash refused");
	is_int(err.status, MREG_EXIT_DATA, "... as invalid data");
	ok(strstr(err.message, "expected provider/name") != NULL,
	   "... with a clear message: %s", err.message);
	is_int(mreg_identity_split("/x", provider, sizeof(provider), &name,
				   &err), -1, "empty provider refused");
	is_int(mreg_identity_split("x/", provider, sizeof(provider), &name,
				   &err), -1, "empty name refused");
	is_int(mreg_identity_split("a-very-long-provider-name/x", provider,
				   sizeof(provider), &name, &err), -1,
	       "provider longer than the buffer refused");
}

static void roundtrip(char kind, const char *key, const char *id)
{
	struct mreg_error err;
	char *tok = mreg_cursor_encode(kind, key, id), *k = NULL, *i = NULL;

	ok(tok && strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			      "vwxyz0123456789-_") == strlen(tok),
	   "cursor for \"%s\" is URL- and shell-safe: %s", key, tok);
	ok(mreg_cursor_decode(tok, kind, &k, &i, &err) == 0,
	   "cursor for \"%s\" decodes", key);
	is_str(k, key, "key round-trips");
	is_str(i, id ? id : "", "id round-trips");
	free(k);
	free(i);
	ok(mreg_cursor_decode(tok, kind == 'n' ? 'u' : 'n', &k, &i, &err) == -1
		   && strstr(err.message, "another listing"),
	   "cursor refused by another listing");
	free(tok);
}

static void test_cursor(void)
{
	static const char *const bad[] = {
		"", "A", "!!!!", "MQ", "bm90IGEgY3Vyc29y", "MW4fMTIz",
		"MW4fYWJjH3g", /* id not a number */
	};
	struct mreg_error err;
	char *k, *i;
	size_t n;

	roundtrip('n', "model-0000001", "12");
	roundtrip('n', "we,ird \"quoted\" name/with:colons@and\xc3\xa9", "7");
	roundtrip('u', "2026-11-23T11:30:00.123456Z", "99999999999");
	roundtrip('p', "openai", NULL);
	roundtrip('n', "", "1");
	roundtrip('n', "ab", "1");
	roundtrip('n', "abc", "1");
	for (n = 0; n < sizeof(bad) / sizeof(bad[0]); n++) {
		k = i = NULL;
		ok(mreg_cursor_decode(bad[n], 'n', &k, &i, &err) == -1 &&
			   err.status == MREG_EXIT_USAGE && !k && !i,
		   "malformed cursor \"%s\" refused", bad[n]);
	}
}

int main(void)
{
	test_identity();
	test_cursor();
	return tap_done();
}
