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

/* A token for raw bytes, as a forger would make it. */
static char *forge(const char *raw, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
				  "stuvwxyz0123456789-_";
	const unsigned char *in = (const unsigned char *)raw;
	char *out = malloc(len / 3 * 4 + 5), *p = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*p++ = b64[in[i] >> 2];
		*p++ = b64[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*p++ = b64[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*p++ = b64[in[i + 2] & 63];
	}
	if (len - i == 1) {
		*p++ = b64[in[i] >> 2];
		*p++ = b64[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		*p++ = b64[in[i] >> 2];
		*p++ = b64[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*p++ = b64[(in[i + 1] & 15) << 2];
	}
	*p = '\0';
	return out;
}

/* raw (len bytes) forged into a token must be refused for kind */
static void refused(const char *raw, size_t len, char kind, const char *what,
		    const char *why)
{
	struct mreg_error err;
	char *tok = forge(raw, len), *k = NULL, *i = NULL;

	ok(mreg_cursor_decode(tok, kind, &k, &i, &err) == -1 &&
		   err.status == MREG_EXIT_USAGE && !k && !i &&
		   strstr(err.message, why),
	   "%s refused: %s", what, err.message);
	free(tok);
}

static void accepted(const char *raw, size_t len, char kind, const char *what)
{
	struct mreg_error err;
	char *tok = forge(raw, len), *k = NULL, *i = NULL;

	ok(mreg_cursor_decode(tok, kind, &k, &i, &err) == 0, "%s accepted",
	   what);
	free(k);
	free(i);
	free(tok);
}

#define RAW(s) s, sizeof(s) - 1

static void test_cursor(void)
{
	static const char *const bad[] = {
		"", "A", "!!!!", "MQ", "bm90IGEgY3Vyc29y", "MW4fMTIz",
		"MW4fYWJjH3g", /* id not a number */
		"MW4fMR9h=", "MW4fMR9h ", "MW4fMR9h%", "MW4+MR9h", "MW4/MR9h",
		"MW4fMR9hYh", /* non-canonical trailing bits */
	};
	struct mreg_error err;
	char *k, *i, *tok;
	size_t n;

	roundtrip('n', "model-0000001", "12");
	roundtrip('n', "we,ird \"quoted\" name/with:colons@and\xc3\xa9", "7");
	roundtrip('u', "2026-11-23T11:30:00.123456Z", "99999999999");
	roundtrip('a', "2026-11-23T11:30:00.123456Z", "1");
	roundtrip('h', "2026-11-23T11:30:00.123456Z", "42");
	roundtrip('p', "openai", NULL);
	roundtrip('d', "embedding", NULL);
	roundtrip('n', "a", "1");
	roundtrip('n', "ab", "9223372036854775807");
	roundtrip('n', "abc", "1");
	for (n = 0; n < sizeof(bad) / sizeof(bad[0]); n++) {
		k = i = NULL;
		ok(mreg_cursor_decode(bad[n], 'n', &k, &i, &err) == -1 &&
			   err.status == MREG_EXIT_USAGE && !k && !i,
		   "malformed cursor \"%s\" refused", bad[n]);
	}

	/* framing */
	refused(RAW("2n\x1f" "1\x1f" "a"), 'n', "version 2", "invalid cursor");
	refused(RAW("1x\x1f" "1\x1f" "a"), 'x', "unknown kind", "invalid cursor");
	refused(RAW("1n" "1\x1f" "a"), 'n', "no first separator",
		"invalid cursor");
	refused(RAW("1n\x1f" "1\x1f" "a\x1f" "b"), 'n', "an extra field",
		"invalid cursor");
	refused(RAW("1n\x1f" "1\x1f" "a\0b"), 'n', "a NUL", "invalid cursor");
	refused(RAW("1u\x1f" "1\x1f" "2026-11-23T11:30:00.123456Z"), 'n',
		"another sort order", "belongs to another listing");
	refused(RAW("1p\x1f\x1f" "openai"), 'd', "another listing",
		"belongs to another listing");
	refused(RAW("1a\x1f" "1\x1f" "2026-11-23T11:30:00.123456Z"), 'h',
		"an audit cursor for history", "belongs to another listing");

	/* ids */
	accepted(RAW("1n\x1f" "9223372036854775807\x1f" "a"), 'n',
		 "the largest id");
	refused(RAW("1n\x1f" "9223372036854775808\x1f" "a"), 'n',
		"an id past bigint", "invalid cursor");
	refused(RAW("1n\x1f" "99999999999999999999999\x1f" "a"), 'n',
		"a huge id", "invalid cursor");
	refused(RAW("1n\x1f" "0\x1f" "a"), 'n', "id 0", "invalid cursor");
	refused(RAW("1n\x1f" "012\x1f" "a"), 'n', "a leading zero",
		"invalid cursor");
	refused(RAW("1n\x1f" "-1\x1f" "a"), 'n', "a negative id",
		"invalid cursor");
	refused(RAW("1n\x1f\x1f" "a"), 'n', "no id", "invalid cursor");
	refused(RAW("1p\x1f" "1\x1f" "openai"), 'p', "an id for providers",
		"invalid cursor");

	/* keys */
	refused(RAW("1n\x1f" "1\x1f"), 'n', "an empty name", "invalid cursor");
	refused(RAW("1n\x1f" "1\x1f" "a\xff"), 'n', "invalid UTF-8",
		"invalid cursor");
	refused(RAW("1n\x1f" "1\x1f" "\xc0\xaf"), 'n', "an overlong form",
		"invalid cursor");
	refused(RAW("1n\x1f" "1\x1f" "a\x1b[2J"), 'n', "a control character",
		"invalid cursor");
	refused(RAW("1n\x1f" "1\x1f" "a\xc2\x9b"), 'n', "a C1 control",
		"invalid cursor");
	{
		char raw[300] = "1n\x1f" "1\x1f";
		size_t len = strlen(raw);

		memset(raw + len, 'x', 201);
		refused(raw, len + 201, 'n', "a 201-character name",
			"invalid cursor");
		accepted(raw, len + 200, 'n', "a 200-character name");
	}
	refused(RAW("1u\x1f" "1\x1f" "2026-13-23T11:30:00.123456Z"), 'u',
		"month 13", "invalid cursor");
	refused(RAW("1u\x1f" "1\x1f" "2026-11-23T11:30:00Z"), 'u',
		"a time without microseconds", "invalid cursor");
	refused(RAW("1a\x1f" "1\x1f" "garbage"), 'a', "garbage time",
		"invalid cursor");
	refused(RAW("1a\x1f" "1\x1f" "2026-11-23T11:30:00.123456Z'; --"),
		'a', "SQL after the time", "invalid cursor");
	refused(RAW("1p\x1f\x1f" "OpenAI"), 'p', "an upper-case provider",
		"invalid cursor");
	refused(RAW("1d\x1f\x1f" "-llm"), 'd', "a type starting with '-'",
		"invalid cursor");
	refused(RAW("1d\x1f\x1f"), 'd', "an empty type", "invalid cursor");

	/* the message quotes the token, cut */
	tok = malloc(3000);
	memset(tok, 'A', 2999);
	tok[2999] = '\0';
	ok(mreg_cursor_decode(tok, 'n', &k, &i, &err) == -1 &&
		   strstr(err.message, "invalid cursor") &&
		   strlen(err.message) < 100,
	   "a very long token refused, quoted short: %s", err.message);
	free(tok);
}

int main(void)
{
	test_identity();
	test_cursor();
	return tap_done();
}
