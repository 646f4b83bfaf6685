/* timeparse.h - time arguments: a duration ago, or an ISO-8601 timestamp
 *
 * What the commands accept for --since, --until (and later --at):
 *
 *   a duration ago   one or more <N><unit> in the order w d h m s, N a
 *                    positive whole number: 30s, 15m, 2h, 3d, 1w, 1d12h,
 *                    1h30m.  The total must be positive; a bare number is
 *                    refused (is 2026 a year or seconds?).
 *   a timestamp      ISO 8601 / RFC 3339:
 *                      2026-12-01
 *                      2026-12-01T03:00          (or a space for the T)
 *                      2026-12-01T03:00:00
 *                      2026-12-01T03:00:00.123456
 *                    then optionally a zone: Z, +02, +0200 or +02:00.
 *                    Without a zone the time is local (the TZ of mreg's
 *                    process, as date(1) reads it); a date alone is local
 *                    midnight.  Every field is checked: month 01-12, the
 *                    day within its month (leap years included), hour
 *                    00-23, minute and second 00-59, offset up to 18:00,
 *                    year 0001-9999, at most 9 fractional digits (kept
 *                    to the microsecond, as PostgreSQL does, by truncation).
 *
 * The result is an instant (seconds and microseconds since the epoch,
 * UTC); mreg_time_format() writes it as "2026-12-01T03:00:00.000000Z",
 * which PostgreSQL reads as the same timestamptz whatever the session's
 * TimeZone and DateStyle.  Pass that text as a $n parameter.
 */
#ifndef MREG_TIMEPARSE_H
#define MREG_TIMEPARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct mreg_time {
	long long sec; /* seconds since 1970-01-01T00:00:00Z */
	long usec;     /* 0-999999 */
};

/*
 * Seconds of a duration ("2h" -> 7200).  -1 if s is not one, with what is
 * wrong in why (whylen bytes, for the message).
 */
int mreg_duration_parse(const char *s, long long *seconds, char *why,
			size_t whylen);

/* An ISO-8601 timestamp as above; -1 with why filled if s is not one. */
int mreg_timestamp_parse(const char *s, struct mreg_time *out, char *why,
			 size_t whylen);

/*
 * A duration ago (relative to now_sec) or a timestamp.  -1 with err set
 * (MREG_EXIT_USAGE): 'invalid time "S": WHY', where WHY is "expected a
 * duration such as 2h or an ISO-8601 timestamp" for text that is neither,
 * or what is wrong with one that almost is ("month 13 is out of range").
 */
int mreg_time_parse(const char *s, long long now_sec, struct mreg_time *out,
		    struct mreg_error *err);

/*
 * Is s exactly what mreg_time_format() writes ("YYYY-MM-DDTHH:MM:SS.
 * ffffffZ"), with valid fields?  (Cursors carry such text.)
 */
bool mreg_time_is_canonical(const char *s);

/* "2026-12-01T03:00:00.000000Z" into buf (at least 28 bytes); 0, or -1
 * if the instant is outside the years 0001-9999 or buf is too small. */
int mreg_time_format(const struct mreg_time *t, char *buf, size_t len);

#endif
