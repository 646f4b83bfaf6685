/* fuzz-dsn.c - the DSN redactor and scrubber on arbitrary strings
 *
 * The input is a connection string (conninfo "k=v ..." or a URI).  Besides
 * memory errors:
 *  - mreg_dsn_redact() never lets a password through: the value of a
 *    secret option (password, sslpassword: libpq's display character '*',
 *    as libpq parses it, and for a URI also as written) occurs in the
 *    output no more often than in the parts of the input that are not a
 *    password; a string libpq refuses prints as "(invalid connection
 *    string)"; a short buffer gets a prefix of the long output;
 *  - mreg_dsn_password() returns what libpq parses;
 *  - mreg_scrub() leaves no occurrence of the secret and stays within its
 *    buffer (the same bytes read as: 1 byte of lengths, the secret, the
 *    text).
 */
#include <libpq-fe.h>

#include "dsn.h"
#include "fuzz.h"
#include "hex.h"

#define MAX_SLOTS 64

struct span {
	size_t off, len;
};

/* Can v be counted exactly?  The redactor writes "***", joins conninfo
 * items with ' ' and '=' and quotes values with ' and \. */
static int countable(const char *v, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (v[i] == '*' || v[i] == ' ' || v[i] == '=' || v[i] == '\'' ||
		    v[i] == '\\' || v[i] == '\0')
			return 0;
	return 1;
}

/* Percent-decode s[0..n) into out (n + 1 bytes); its length. */
static size_t decode(const char *s, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && mreg_hex_value(s[i + 1]) >= 0 &&
		    mreg_hex_value(s[i + 2]) >= 0) {
			out[o++] = (char)(mreg_hex_value(s[i + 1]) * 16 +
					  mreg_hex_value(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return o;
}

/*
 * Where a URI holds passwords, found the way libpq's URI parser does:
 * the userinfo ends at the first '@' before any '/', its password after
 * the first ':'; the query starts at the first '?' after the host list
 * (not one inside an IPv6 [...]); a query parameter whose decoded name is
 * a secret option (libpq's display character '*': password, sslpassword)
 * holds one.
 */
static int secret_option(const PQconninfoOption *opts, const char *name)
{
	for (; opts->keyword; opts++)
		if (strcmp(opts->keyword, name) == 0)
			return opts->dispchar && opts->dispchar[0] == '*';
	return 0;
}

static size_t uri_slots(const char *d, const PQconninfoOption *opts,
			struct span *slot)
{
	size_t start = strncmp(d, "postgresql://", 13) == 0 ? 13 : 11;
	size_t p = start, n = 0, q;
	int host_start = 1;

	while (d[p] && d[p] != '@' && d[p] != '/')
		p++;
	if (d[p] == '@') {
		size_t at = p, c = start;

		while (c < at && d[c] != ':')
			c++;
		if (c < at) {
			slot[n].off = c + 1;
			slot[n++].len = at - c - 1;
		}
		p = at + 1;
	} else {
		p = start;
	}
	/* the host list, then an optional /dbname, then ?query */
	for (; d[p] && d[p] != '?' && d[p] != '/'; p++) {
		if (host_start && d[p] == '[') {
			while (d[p] && d[p] != ']')
				p++;
			if (!d[p])
				break;
		}
		host_start = d[p] == ',';
	}
	if (d[p] == '/')
		while (d[p] && d[p] != '?')
			p++;
	if (d[p] != '?')
		return n;
	for (q = p + 1; d[q] && n < MAX_SLOTS;) {
		size_t end = q + strcspn(d + q, "&"), eq = q;
		char key[64];
		size_t klen, a = 0, b;

		while (eq < end && d[eq] != '=')
			eq++;
		if (eq < end && eq - q < sizeof(key)) {
			klen = decode(d + q, eq - q, key);
			b = klen;
			while (a < b && key[a] == ' ')
				a++;
			while (b > a && key[b - 1] == ' ')
				b--;
			key[b] = '\0';
			if (secret_option(opts, key + a)) {
				slot[n].off = eq + 1;
				slot[n++].len = end - eq - 1;
			}
		}
		q = d[end] ? end + 1 : end;
	}
	return n;
}

/* v occurs in out at most as often as in the input outside the slots. */
static void not_leaked(const char *dsn, const struct span *slot, size_t n,
		       const char *v, size_t vlen, const char *out)
{
	size_t allowed = 0, from = 0, i;

	if (!countable(v, vlen))
		return;
	for (i = 0; i < n; i++) {
		allowed += fuzz_count(dsn + from, slot[i].off - from, v, vlen);
		from = slot[i].off + slot[i].len;
	}
	allowed += fuzz_count(dsn + from, strlen(dsn) - from, v, vlen);
	fuzz_check(fuzz_count(out, strlen(out), v, vlen) <= allowed,
		   "password \"%.*s\" shown in \"%s\"", (int)vlen, v, out);
}

static void check_uri(const char *dsn, const PQconninfoOption *opts,
		      const char *pw, const char *out)
{
	struct span slot[MAX_SLOTS];
	size_t n = uri_slots(dsn, opts, slot), i;

	not_leaked(dsn, slot, n, pw, strlen(pw), out);
	for (i = 0; i < n; i++) {
		char *dec = malloc(slot[i].len + 1);
		size_t dlen;

		if (!dec)
			abort();
		dlen = decode(dsn + slot[i].off, slot[i].len, dec);
		not_leaked(dsn, slot, n, dsn + slot[i].off, slot[i].len, out);
		not_leaked(dsn, slot, n, dec, dlen, out);
		free(dec);
	}
}

/* conninfo: the output is built from the parsed options; no secret
 * option's value (libpq's display character '*') may show */
static void check_conninfo(PQconninfoOption *opts, const char *out)
{
	PQconninfoOption *o, *s;

	for (s = opts; s->keyword; s++) {
		size_t allowed = 0, slen;

		if (!s->val || !secret_option(opts, s->keyword))
			continue;
		slen = strlen(s->val);
		if (!countable(s->val, slen))
			continue;
		for (o = opts; o->keyword; o++) {
			if (!o->val)
				continue;
			/* every keyword shows, the values of the others */
			allowed += fuzz_count(o->keyword, strlen(o->keyword),
					      s->val, slen);
			if (!secret_option(opts, o->keyword))
				allowed += fuzz_count(o->val, strlen(o->val),
						      s->val, slen);
		}
		fuzz_check(fuzz_count(out, strlen(out), s->val, slen) <=
			   allowed, "%s \"%s\" shown in \"%s\"", s->keyword,
			   s->val, out);
	}
}

static void check_redact(const char *dsn, size_t size)
{
	PQconninfoOption *opts, *o;
	char *errmsg = NULL, *out, *pwbuf;
	const char *pw = "";
	size_t outlen = 4 * size + 64, cut;
	int uri = strncmp(dsn, "postgresql://", 13) == 0 ||
		  strncmp(dsn, "postgres://", 11) == 0;

	out = malloc(outlen);
	pwbuf = malloc(size + 1);
	if (!out || !pwbuf)
		abort();
	memset(out, 'x', outlen);
	mreg_dsn_redact(dsn, out, outlen);
	fuzz_check(memchr(out, '\0', outlen) != NULL, "output not terminated");
	fuzz_check(strlen(out) > 0, "empty output");

	/* a short buffer: a terminated prefix of the same output */
	for (cut = 1; cut <= 17; cut += 4) {
		char *s = malloc(cut);

		if (!s)
			abort();
		mreg_dsn_redact(dsn, s, cut);
		fuzz_check(memchr(s, '\0', cut) != NULL &&
			   strncmp(s, out, strlen(s)) == 0 &&
			   strlen(s) == (strlen(out) < cut - 1 ? strlen(out)
							       : cut - 1),
			   "%zu bytes: \"%s\" is not a prefix of \"%s\"", cut,
			   s, out);
		free(s);
	}

	opts = *dsn ? PQconninfoParse(dsn, &errmsg) : NULL;
	PQfreemem(errmsg);
	if (*dsn && !opts)
		fuzz_check(strcmp(out, "(invalid connection string)") == 0,
			   "libpq refuses what is shown as \"%s\"", out);
	if (opts) {
		for (o = opts; o->keyword; o++)
			if (strcmp(o->keyword, "password") == 0 && o->val)
				pw = o->val;
		if (uri)
			check_uri(dsn, opts, pw, out);
		else
			check_conninfo(opts, out);
	}
	mreg_dsn_password(dsn, pwbuf, size + 1);
	fuzz_check(strcmp(pwbuf, pw) == 0, "password \"%s\", libpq: \"%s\"",
		   pwbuf, pw);
	PQconninfoFree(opts);
	free(pwbuf);
	free(out);
}

static void check_scrub(const uint8_t *data, size_t size)
{
	size_t slen, extra, tlen;
	char *secret, *s;

	if (size < 1)
		return;
	slen = data[0] & 7;
	extra = data[0] >> 3 & 7;
	if (slen > size - 1)
		slen = size - 1;
	secret = fuzz_strndup(data + 1, slen);
	tlen = size - 1 - slen;
	s = malloc(tlen + 1 + extra); /* the exact capacity given */
	if (!s)
		abort();
	memcpy(s, data + 1 + slen, tlen);
	s[tlen] = '\0';
	mreg_scrub(s, tlen + 1 + extra, secret);
	fuzz_check(strlen(s) < tlen + 1 + extra, "scrub overran its buffer");
	if (*secret && !strchr(secret, '*'))
		fuzz_check(strstr(s, secret) == NULL,
			   "\"%s\" left in \"%s\"", secret, s);
	free(s);
	free(secret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *dsn = fuzz_strndup(data, size);

	check_redact(dsn, strlen(dsn));
	free(dsn);
	check_scrub(data, size);
	return 0;
}
