/* registry.c - identity, cursors, streaming, suggestions (see registry.h) */
#include "registry.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "escape.h"
#include "timeparse.h"
#include "utf8.h"

int mreg_identity_split(const char *s, char *provider, size_t plen,
			const char **name, struct mreg_error *err)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	size_t n;

	if (!slash || slash == s || slash[1] == '\0') {
		mreg_error_set(err, MREG_EXIT_DATA,
			       "invalid model \"%s\": expected provider/name",
			       s ? s : "");
		return -1;
	}
	n = (size_t)(slash - s);
	if (n >= plen) {
		mreg_error_set(err, MREG_EXIT_DATA,
			       "invalid model \"%s\": provider name too long",
			       s);
		return -1;
	}
	memcpy(provider, s, n);
	provider[n] = '\0';
	*name = slash + 1;
	return 0;
}

/* ---- cursors: base64url of "1" kind US id US key -------------------------- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64url_encode(const unsigned char *in, size_t len)
{
	char *out = malloc(len / 3 * 4 + 5), *p = out;
	size_t i;

	if (!out)
		return NULL;
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

/* Decoded bytes (NUL-terminated, malloc'd) and their length, or NULL. */
static unsigned char *b64url_decode(const char *s, size_t *outlen)
{
	size_t len = strlen(s), i, n = 0;
	unsigned char *out;
	unsigned acc = 0;
	int bits = 0;

	if (len % 4 == 1)
		return NULL;
	out = malloc(len * 3 / 4 + 2);
	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		const char *c = strchr(b64, s[i]);

		if (!c || !s[i]) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) { /* non-canonical trailing bits */
		free(out);
		return NULL;
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

char *mreg_cursor_encode(char kind, const char *key, const char *id)
{
	size_t klen = strlen(key), ilen = id ? strlen(id) : 0;
	unsigned char *raw = malloc(klen + ilen + 5);
	char *tok;

	if (!raw)
		return NULL;
	raw[0] = '1';
	raw[1] = (unsigned char)kind;
	raw[2] = 0x1f;
	memcpy(raw + 3, id ? id : "", ilen);
	raw[3 + ilen] = 0x1f;
	memcpy(raw + 4 + ilen, key, klen);
	tok = b64url_encode(raw, klen + ilen + 4);
	free(raw);
	return tok;
}

/* The longest token a real cursor makes (a 200-character name of 4-byte
 * characters, an id and the framing), with room to spare. */
#define CURSOR_MAX_TOKEN 2048

/* ^[a-z0-9][a-z0-9._-]{0,63}$: provider names and types */
static bool is_slug(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

/* A model name: valid UTF-8, 1-200 characters, no control characters. */
static bool is_model_name(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, chars = 0;
	uint32_t c;

	while (i < len) {
		n = mreg_utf8_decode(p + i, len - i, &c);
		if (n == 0 || mreg_utf8_is_control(c))
			return false;
		i += n;
		chars++;
	}
	return chars >= 1 && chars <= 200;
}

/* A row id: 1 to 9223372036854775807, digits only, no leading zero. */
static bool is_row_id(const char *s, size_t len)
{
	static const char max[] = "9223372036854775807";
	size_t i;

	if (len < 1 || len > sizeof(max) - 1 || s[0] == '0')
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len < sizeof(max) - 1 || memcmp(s, max, len) <= 0;
}

/*
 * What each listing's cursor holds: n models by name (name, id), u models
 * by update time (timestamp, id), a audit entries (timestamp, id),
 * h history entries (timestamp, id), p providers (name), d defaults
 * (type).
 */
static bool cursor_fields_valid(char kind, const char *key, size_t klen,
				const char *id, size_t ilen)
{
	switch (kind) {
	case 'n':
		return is_model_name(key, klen) && is_row_id(id, ilen);
	case 'u':
	case 'a':
	case 'h':
		return klen == strlen(key) && mreg_time_is_canonical(key) &&
		       is_row_id(id, ilen);
	case 'p':
	case 'd':
		return is_slug(key, klen) && ilen == 0;
	default:
		return false;
	}
}

static int cursor_invalid(const char *token, struct mreg_error *err)
{
	mreg_error_set(err, MREG_EXIT_USAGE, "invalid cursor \"%.64s%s\"",
		       token, strlen(token) > 64 ? "..." : "");
	mreg_error_hint(err, "Pass the cursor printed by the previous page, "
			     "unchanged.");
	return -1;
}

int mreg_cursor_decode(const char *token, char kind, char **key, char **id,
		       struct mreg_error *err)
{
	unsigned char *raw = NULL;
	const char *sep, *k;
	size_t len = 0, ilen, klen;

	*key = *id = NULL;
	/* the whole token is checked before anything reaches the server:
	 * alphabet and length, framing, the listing, then every field */
	if (strlen(token) > CURSOR_MAX_TOKEN)
		return cursor_invalid(token, err);
	raw = b64url_decode(token, &len);
	if (!raw || len < 4 || raw[0] != '1' || raw[2] != 0x1f ||
	    memchr(raw, '\0', len) ||
	    !(sep = memchr(raw + 3, 0x1f, len - 3)) ||
	    !strchr("nuahpd", raw[1])) {
		free(raw);
		return cursor_invalid(token, err);
	}
	if (raw[1] != (unsigned char)kind) {
		mreg_error_set(err, MREG_EXIT_USAGE,
			       "cursor \"%.64s\" belongs to another listing or "
			       "sort order", token);
		mreg_error_hint(err, "Pass a cursor back to the listing (and "
				     "--sort) that printed it.");
		free(raw);
		return -1;
	}
	ilen = (size_t)(sep - (const char *)raw) - 3;
	k = sep + 1;
	klen = len - (size_t)(k - (const char *)raw);
	/* no third separator, no field beyond the two */
	if (memchr(k, 0x1f, klen) ||
	    !cursor_fields_valid(kind, k, klen, (const char *)raw + 3, ilen)) {
		free(raw);
		return cursor_invalid(token, err);
	}
	*id = strndup((const char *)raw + 3, ilen);
	*key = strndup(k, klen);
	free(raw);
	if (!*id || !*key) {
		free(*id);
		free(*key);
		*id = *key = NULL;
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- streaming ------------------------------------------------------------- */

/* The stream's statement is over (res: its failed result, or NULL):
 * trace it once. */
static void stream_traced(struct mreg_stream *s, const PGresult *res,
			  bool ok)
{
	const char *state = NULL;

	if (!s->sql)
		return;
	if (!ok) {
		state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		if (!state || !*state)
			state = "08006";
	}
	mreg_db_trace_rows(s->site, s->sql, NULL, s->t0_ms, s->rows, state);
	s->sql = NULL;
}

int mreg_stream_open_at(struct mreg_db_site site, struct mreg_stream *s,
			struct mreg_conn *conn, const char *sql, int nparams,
			const char *const *values, struct mreg_error *err)
{
	s->conn = conn;
	s->row = NULL;
	s->active = false;
	s->site = site;
	s->sql = sql;
	s->rows = 0;
	s->t0_ms = mreg_db_clock_ms();
	if (!PQsendQueryParams(conn->pg, sql, nparams, NULL, values, NULL,
			       NULL, 0)) {
		stream_traced(s, NULL, false);
		mreg_db_check(conn, NULL, PGRES_TUPLES_OK, err);
		return -1;
	}
	s->active = true;
	if (!PQsetSingleRowMode(conn->pg)) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "could not switch to single-row mode");
		mreg_stream_close(s);
		return -1;
	}
	return 0;
}

int mreg_stream_next(struct mreg_stream *s, struct mreg_error *err)
{
	PGresult *res;

	PQclear(s->row);
	s->row = NULL;
	if (!s->active)
		return 0;
	res = PQgetResult(s->conn->pg);
	if (!res) {
		stream_traced(s, NULL, true);
		s->active = false;
		return 0;
	}
	switch (PQresultStatus(res)) {
	case PGRES_SINGLE_TUPLE:
		s->row = res;
		s->rows++;
		return 1;
	case PGRES_TUPLES_OK: /* end of rows: the NULL follows */
		PQclear(res);
		stream_traced(s, NULL, true);
		mreg_stream_close(s);
		return 0;
	default:
		stream_traced(s, res, false);
		mreg_db_check(s->conn, res, PGRES_SINGLE_TUPLE, err); /* clears */
		mreg_stream_close(s);
		return -1;
	}
}

void mreg_stream_cancel(struct mreg_stream *s)
{
	PGcancel *c;
	char buf[256];

	if (!s->active || !PQisBusy(s->conn->pg))
		return;
	c = PQgetCancel(s->conn->pg);
	if (c) {
		PQcancel(c, buf, sizeof(buf));
		PQfreeCancel(c);
	}
}

void mreg_stream_close(struct mreg_stream *s)
{
	PGresult *res;

	PQclear(s->row);
	s->row = NULL;
	if (!s->active)
		return;
	s->active = false;
	while ((res = PQgetResult(s->conn->pg)) != NULL)
		PQclear(res);
	stream_traced(s, NULL, true); /* closed early: the rows read */
}

/* ---- small queries --------------------------------------------------------- */

int mreg_suggest(struct mreg_conn *conn, const char *sql, int nparams,
		 const char *const *values, char *buf, size_t len)
{
	struct mreg_error err;
	PGresult *res;
	size_t used = 0;
	int i, n;

	buf[0] = '\0';
	res = mreg_db_exec(conn, sql, nparams, values, PGRES_TUPLES_OK, &err);
	if (!res)
		return 0;
	n = PQntuples(res);
	for (i = 0; i < n && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s\"%s\"",
				 i ? ", " : "", PQgetvalue(res, i, 0));
		if (w < 0)
			break;
		used += (size_t)w;
	}
	PQclear(res);
	return n;
}

int mreg_query_count(struct mreg_conn *conn, const char *sql, int nparams,
		     const char *const *values, long long *out,
		     struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(conn, sql, nparams, values,
				     PGRES_TUPLES_OK, err);

	if (!res)
		return -1;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "unexpected result from the server: "
			       "no count");
		return -1;
	}
	*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

char *mreg_explain(struct mreg_conn *conn, const char *sql, int nparams,
		   const char *const *values, struct mreg_error *err)
{
	static const char prefix[] = "EXPLAIN (FORMAT JSON) ";
	size_t len = strlen(sql);
	char *stmt = malloc(sizeof(prefix) + len), *plan = NULL;
	PGresult *res = NULL;

	if (!stmt) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return NULL;
	}
	memcpy(stmt, prefix, sizeof(prefix) - 1);
	memcpy(stmt + sizeof(prefix) - 1, sql, len + 1);
	res = mreg_db_exec(conn, stmt, nparams, values, PGRES_TUPLES_OK, err);
	if (!res)
		goto cleanup;
	if (PQntuples(res) != 1) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "EXPLAIN returned no plan");
		goto cleanup;
	}
	plan = strdup(PQgetvalue(res, 0, 0));
	if (!plan)
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
cleanup:
	PQclear(res);
	free(stmt);
	return plan;
}
