/* error.c - filling struct mreg_error */
#include "error.h"

#include <stdio.h>
#include <string.h>

static void copy_trimmed(char *dst, size_t len, const char *src)
{
	size_t n;

	if (!src) {
		dst[0] = '\0';
		return;
	}
	while (*src == ' ' || *src == '\t' || *src == '\n')
		src++;
	snprintf(dst, len, "%s", src);
	n = strlen(dst);
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' ' ||
			 dst[n - 1] == '.'))
		dst[--n] = '\0';
}

/*
 * A message from libpq itself (not the server's fields): its first line
 * is the message, the lines after it (indented with tabs) are joined with
 * spaces into the detail, so that no newline reaches the user.
 */
static void set_libpq_message(struct mreg_error *err, const char *msg)
{
	char *nl, *p, *q;

	copy_trimmed(err->message, sizeof(err->message), msg);
	nl = strchr(err->message, '\n');
	if (!nl)
		return;
	copy_trimmed(err->detail, sizeof(err->detail), nl + 1);
	*nl = '\0';
	/* "a\n\tb" -> "a b" */
	for (p = q = err->detail; *p; p++) {
		if (*p == '\n' || *p == '\t' || *p == '\r') {
			if (q > err->detail && q[-1] != ' ')
				*q++ = ' ';
			continue;
		}
		*q++ = *p;
	}
	*q = '\0';
}

void mreg_error_clear(struct mreg_error *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
}

void mreg_error_setv(struct mreg_error *err, int status, const char *fmt,
		     va_list ap)
{
	if (!err)
		return;
	mreg_error_clear(err);
	err->status = status;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

void mreg_error_set(struct mreg_error *err, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mreg_error_setv(err, status, fmt, ap);
	va_end(ap);
}

void mreg_error_prefix(struct mreg_error *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof(err->message)];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	snprintf(err->message, sizeof(err->message), "%s: %s", prefix, old);
}

void mreg_error_detail(struct mreg_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

void mreg_error_hint(struct mreg_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
}

void mreg_error_at(struct mreg_error *err, const char *path, long line,
		   long column)
{
	if (!err)
		return;
	snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
	err->line = line;
	err->column = column;
}

int mreg_sqlstate_is_disconnect(const char *sqlstate)
{
	if (!sqlstate || strlen(sqlstate) != 5)
		return 0;
	if (strncmp(sqlstate, "08", 2) == 0)
		return 1;
	return strncmp(sqlstate, "57P0", 4) == 0;
}

void mreg_error_from_conn(struct mreg_error *err, const PGconn *conn)
{
	const char *msg = conn ? PQerrorMessage(conn) : NULL;

	if (!err)
		return;
	mreg_error_clear(err);
	err->status = MREG_EXIT_FAILURE;
	if (!msg || !*msg)
		msg = "connection lost";
	if (strncmp(msg, "ERROR:  ", 8) == 0)
		msg += 8;
	else if (strncmp(msg, "FATAL:  ", 8) == 0)
		msg += 8;
	/* libpq's multi-line messages: the first line is the message */
	set_libpq_message(err, msg);
	if (!conn || PQstatus(conn) != CONNECTION_OK)
		snprintf(err->sqlstate, sizeof(err->sqlstate), "08006");
}

void mreg_error_from_result(struct mreg_error *err, const PGresult *res,
			    const PGconn *conn)
{
	const char *state, *primary;

	if (!err)
		return;
	if (!res) {
		mreg_error_from_conn(err, conn);
		return;
	}
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (!primary) {
		/* client-side failure (lost connection): libpq put it here */
		const char *m = PQresultErrorMessage(res);
		if (!m || !*m) {
			mreg_error_from_conn(err, conn);
			return;
		}
		mreg_error_clear(err);
		err->status = MREG_EXIT_FAILURE;
		set_libpq_message(err, m);
		if (!conn || PQstatus(conn) != CONNECTION_OK)
			snprintf(err->sqlstate, sizeof(err->sqlstate),
				 "08006");
		return;
	}
	mreg_error_clear(err);
	copy_trimmed(err->message, sizeof(err->message), primary);
	copy_trimmed(err->detail, sizeof(err->detail),
		     PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
	copy_trimmed(err->hint, sizeof(err->hint),
		     PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	snprintf(err->sqlstate, sizeof(err->sqlstate), "%s",
		 state ? state : "");
	if (state && (strncmp(state, "22", 2) == 0 ||
		      strncmp(state, "23", 2) == 0))
		err->status = MREG_EXIT_DATA;
	else
		err->status = MREG_EXIT_FAILURE;
}

const char *mreg_strerror(int errnum, char *buf, size_t len)
{
	/* XSI strerror_r (we build with _POSIX_C_SOURCE, not _GNU_SOURCE) */
	if (strerror_r(errnum, buf, len) != 0)
		snprintf(buf, len, "error %d", errnum);
	return buf;
}
