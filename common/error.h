/* error.h - the error record every common/ module fills instead of printing
 *
 * Library code never prints and never exits: it returns a status and fills
 * a struct mreg_error.  Only cli/ decides what the user sees.  The record
 * uses fixed buffers so that filling it never allocates and is safe from
 * worker threads.
 */
#ifndef MREG_ERROR_H
#define MREG_ERROR_H

#include <stdarg.h>

#include <libpq-fe.h>

/* Exit codes shared by every subcommand (documented in mreg(1)). */
enum mreg_exit {
	MREG_EXIT_OK = 0,
	MREG_EXIT_FAILURE = 1, /* runtime or database error */
	MREG_EXIT_USAGE = 2,   /* bad command line */
	MREG_EXIT_DATA = 3,    /* invalid input data, unknown object */
	MREG_EXIT_LOCKED = 4,  /* another run holds the lock */
	MREG_EXIT_PENDING = 5, /* migrate status --exit-code: work pending */
	MREG_EXIT_THRESHOLD = 6, /* bench: a --threshold was not met */
};

struct mreg_error {
	int status;           /* an enum mreg_exit value; 0 when empty */
	char message[1024];   /* primary message, lowercase, no full stop */
	char detail[1024];    /* server DETAIL or our own detail */
	char hint[512];       /* server HINT or our own hint */
	char sqlstate[6];     /* five characters, or empty */
	char path[1024];      /* file at fault, or empty */
	long line;            /* 1-based line in path, 0 if unknown */
	long column;          /* 1-based column in path, 0 if unknown */
};

void mreg_error_clear(struct mreg_error *err);

/* Set status and message (printf format); clears the other fields. */
void mreg_error_set(struct mreg_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mreg_error_setv(struct mreg_error *err, int status, const char *fmt,
		     va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Prefix the current message with "<prefix>: " (printf format). */
void mreg_error_prefix(struct mreg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void mreg_error_detail(struct mreg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mreg_error_hint(struct mreg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mreg_error_at(struct mreg_error *err, const char *path, long line,
		   long column);

/*
 * Fill from a failed PGresult: primary message, detail, hint and SQLSTATE.
 * The status is MREG_EXIT_FAILURE unless the SQLSTATE says the input was
 * at fault (class 22 data exception, 23 integrity violation), which maps
 * to MREG_EXIT_DATA.  A NULL result falls back to the connection's error.
 */
void mreg_error_from_result(struct mreg_error *err, const PGresult *res,
			    const PGconn *conn);

/* Fill from the connection's last error message (first line, trimmed). */
void mreg_error_from_conn(struct mreg_error *err, const PGconn *conn);

/* True when the SQLSTATE means the connection is gone (08xxx, 57P0x). */
int mreg_sqlstate_is_disconnect(const char *sqlstate);

/* Thread-safe strerror. */
const char *mreg_strerror(int errnum, char *buf, size_t len);

#endif
