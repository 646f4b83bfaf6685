/* dsn.c - printing connection strings without their secrets */
#include "dsn.h"

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

static int is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	       strncmp(s, "postgres://", 11) == 0;
}

/* Append to out (bounded); returns the new length. */
static size_t append(char *out, size_t outlen, size_t pos, const char *s,
		     size_t n)
{
	if (pos >= outlen)
		return pos;
	if (n > outlen - 1 - pos)
		n = outlen - 1 - pos;
	memcpy(out + pos, s, n);
	out[pos + n] = '\0';
	return pos + n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Is o a secret (libpq's display character '*': password, sslpassword)? */
static int is_secret(const PQconninfoOption *o)
{
	return o->dispchar && o->dispchar[0] == '*';
}

/*
 * Does the URI query key k[0..n) name a secret option?  libpq
 * percent-decodes the key (pass%77ord is password); spaces around it are
 * ignored, as newer libpq versions do.
 */
static int secret_key(const PQconninfoOption *opts, const char *k, size_t n)
{
	char name[64];
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = k[i];

		if (c == '%' && i + 2 < n && hexval(k[i + 1]) >= 0 &&
		    hexval(k[i + 2]) >= 0) {
			c = (char)(hexval(k[i + 1]) * 16 + hexval(k[i + 2]));
			i += 2;
		}
		if (c == ' ' && o == 0)
			continue;
		if (o == sizeof(name) - 1)
			return 0; /* longer than any option's name */
		name[o++] = c;
	}
	while (o > 0 && name[o - 1] == ' ')
		o--;
	name[o] = '\0';
	for (; opts->keyword; opts++)
		if (strcmp(opts->keyword, name) == 0)
			return is_secret(opts);
	return 0;
}

/*
 * Where libpq looks, as its URI parser does: the userinfo ends at the
 * first '@' before any '/' (a '?' before it belongs to the password);
 * the query starts at the first '?' after the host list, where an IPv6
 * [...] may hold a '?' of its own; a query parameter whose decoded key is
 * a secret option holds a secret.  A raw '@' inside a password is masked
 * too (up to the last '@' before "/?"), though libpq would split there.
 */
static void redact_uri(const char *dsn, const PQconninfoOption *opts,
		       char *out, size_t outlen)
{
	const char *auth = strstr(dsn, "://") + 3;
	const char *first_at = NULL, *end = NULL, *colon = NULL;
	const char *p, *q, *host;
	size_t pos = 0;

	p = auth + strcspn(auth, "@/");
	if (*p == '@')
		first_at = end = p;
	for (p = auth; *p && *p != '/' && *p != '?'; p++)
		if (*p == '@' && end && p > end)
			end = p;
	if (end)
		colon = memchr(auth, ':', (size_t)(end - auth));
	out[0] = '\0';
	if (colon) {
		pos = append(out, outlen, pos, dsn, (size_t)(colon + 1 - dsn));
		pos = append(out, outlen, pos, "***", 3);
		p = end;
	} else {
		p = dsn;
	}
	/* the host list, then /dbname, up to the query */
	host = first_at ? first_at + 1 : auth;
	for (q = host; *q && *q != '/' && *q != '?'; q++) {
		if (*q == '[' && (q == host || q[-1] == ',')) {
			const char *rb = strchr(q, ']');

			if (!rb)
				break;
			q = rb;
		}
	}
	if (*q == '/')
		q += strcspn(q, "?");
	pos = append(out, outlen, pos, p, (size_t)(q - p));
	/* query parameters: mask the value of a secret one */
	while (*q) {
		const char *seg = q + 1, *eq;
		size_t seg_len = strcspn(seg, "&");

		pos = append(out, outlen, pos, q, 1); /* '?' or '&' */
		eq = memchr(seg, '=', seg_len);
		if (eq && secret_key(opts, seg, (size_t)(eq - seg))) {
			pos = append(out, outlen, pos, seg,
				     (size_t)(eq + 1 - seg));
			pos = append(out, outlen, pos, "***", 3);
		} else {
			pos = append(out, outlen, pos, seg, seg_len);
		}
		q = seg + seg_len;
	}
}

static size_t append_value(char *out, size_t outlen, size_t pos,
			   const char *v)
{
	int quote = *v == '\0' || strpbrk(v, " \t\n'\\") != NULL;

	if (!quote)
		return append(out, outlen, pos, v, strlen(v));
	pos = append(out, outlen, pos, "'", 1);
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			pos = append(out, outlen, pos, "\\", 1);
		pos = append(out, outlen, pos, v, 1);
	}
	return append(out, outlen, pos, "'", 1);
}

void mreg_dsn_redact(const char *dsn, char *out, size_t outlen)
{
	PQconninfoOption *opts, *o;
	char *errmsg = NULL;
	size_t pos = 0;

	if (outlen == 0)
		return;
	if (!dsn || !*dsn) {
		snprintf(out, outlen, "(libpq defaults)");
		return;
	}
	opts = PQconninfoParse(dsn, &errmsg);
	if (!opts) {
		PQfreemem(errmsg);
		snprintf(out, outlen, "(invalid connection string)");
		return;
	}
	if (is_uri(dsn)) {
		redact_uri(dsn, opts, out, outlen);
		PQconninfoFree(opts);
		return;
	}
	out[0] = '\0';
	for (o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (pos > 0)
			pos = append(out, outlen, pos, " ", 1);
		pos = append(out, outlen, pos, o->keyword, strlen(o->keyword));
		pos = append(out, outlen, pos, "=", 1);
		if (is_secret(o)) /* password, sslpassword */
			pos = append(out, outlen, pos, "***", 3);
		else
			pos = append_value(out, outlen, pos, o->val);
	}
	PQconninfoFree(opts);
	if (pos == 0)
		snprintf(out, outlen, "(libpq defaults)");
}

void mreg_dsn_password(const char *dsn, char *out, size_t outlen)
{
	PQconninfoOption *opts, *o;
	char *errmsg = NULL;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (!dsn || !*dsn)
		return;
	opts = PQconninfoParse(dsn, &errmsg);
	if (!opts) {
		PQfreemem(errmsg);
		return;
	}
	for (o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val)
			snprintf(out, outlen, "%s", o->val);
	PQconninfoFree(opts);
}

void mreg_scrub(char *s, size_t cap, const char *secret)
{
	char *base = s, *hit;
	size_t n, slen;

	if (!s || !secret || !*secret || cap == 0)
		return;
	slen = strlen(secret);
	while ((hit = strstr(s, secret)) != NULL) {
		n = strlen(hit + slen);
		if (slen >= 3) {
			memcpy(hit, "***", 3);
			memmove(hit + 3, hit + slen, n + 1);
		} else {
			/* growing the string: keep within cap (counted from
			 * the start of the buffer), cut the tail */
			size_t room = cap - 1 - (size_t)(hit - base);

			if (room < 3) {
				memset(hit, '*', room);
				hit[room] = '\0';
				return;
			}
			if (n > room - 3)
				n = room - 3;
			memmove(hit + 3, hit + slen, n);
			hit[3 + n] = '\0';
			memcpy(hit, "***", 3);
		}
		s = hit + 3;
	}
}
