/* test-timeparse.c - durations and ISO-8601 timestamps for time options */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "timeparse.h"

static void duration(const char *s, long long want)
{
	char why[128] = "";
	long long got = -1;

	ok(mreg_duration_parse(s, &got, why, sizeof(why)) == 0 && got == want,
	   "duration %s = %lld s (got %lld %s)", s, want, got, why);
}

static void bad_duration(const char *s, const char *why_part)
{
	char why[128] = "";
	long long got = -1;

	ok(mreg_duration_parse(s, &got, why, sizeof(why)) == -1 &&
		   strstr(why, why_part),
	   "duration \"%s\" refused: %s", s, why);
}

/* s as a timestamp must format as want (UTC) */
static void stamp(const char *s, const char *want)
{
	struct mreg_time t = { 0, 0 };
	char why[128] = "", buf[40] = "";
	int rc = mreg_timestamp_parse(s, &t, why, sizeof(why));

	if (rc == 0)
		mreg_time_format(&t, buf, sizeof(buf));
	ok(rc == 0 && strcmp(buf, want) == 0, "timestamp %s = %s (got %s%s)",
	   s, want, buf, why);
}

static void bad_stamp(const char *s, const char *why_part)
{
	struct mreg_time t;
	char why[128] = "";

	ok(mreg_timestamp_parse(s, &t, why, sizeof(why)) == -1 &&
		   strstr(why, why_part),
	   "timestamp \"%s\" refused: %s", s, why);
}

static void test_durations(void)
{
	duration("30s", 30);
	duration("15m", 900);
	duration("2h", 7200);
	duration("3d", 259200);
	duration("1w", 604800);
	duration("1d12h", 129600);
	duration("1h30m", 5400);
	duration("1w2d3h4m5s", 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
	duration("0h5m", 300);
	duration("90s", 90);
	duration("100000d", 8640000000LL);

	bad_duration("", "expected a duration");
	bad_duration("garbage", "expected a duration such as 2h or an "
				"ISO-8601 timestamp");
	bad_duration("-5h", "must be positive");
	bad_duration("0s", "must be positive");
	bad_duration("0h0m", "must be positive");
	bad_duration("5", "needs a unit");
	bad_duration("2026", "needs a unit");
	bad_duration("5x", "expected a duration");
	bad_duration("5ms", "expected a duration");
	bad_duration("1.5h", "expected a duration");
	bad_duration("+5h", "expected a duration");
	bad_duration("5 h", "expected a duration");
	bad_duration("h", "expected a duration");
	bad_duration("1m1h", "expected a duration"); /* largest unit first */
	bad_duration("1h1h", "expected a duration");
	bad_duration("99999999999999999999w", "too long");
	bad_duration("999999999w", "too long");
}

static void test_timestamps(void)
{
	stamp("2026-12-01T03:00:00Z", "2026-12-01T03:00:00.000000Z");
	stamp("2026-12-01T03:00Z", "2026-12-01T03:00:00.000000Z");
	stamp("2026-12-01 03:00:00+02:00", "2026-12-01T01:00:00.000000Z");
	stamp("2026-12-01t03:00:00z", "2026-12-01T03:00:00.000000Z");
	stamp("2026-12-01T03:00:00-0530", "2026-12-01T08:30:00.000000Z");
	stamp("2026-12-01T03:00+01", "2026-12-01T02:00:00.000000Z");
	stamp("2026-12-01T00:30:00+01:00", "2026-11-30T23:30:00.000000Z");
	stamp("2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00.000000Z");
	stamp("2026-12-01T03:00:00.5Z", "2026-12-01T03:00:00.500000Z");
	stamp("2026-12-01T03:00:00.123456Z", "2026-12-01T03:00:00.123456Z");
	stamp("2026-12-01T03:00:00,25Z", "2026-12-01T03:00:00.250000Z");
	stamp("2026-12-01T03:00:00.123456789Z", "2026-12-01T03:00:00.123456Z");
	stamp("2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000000Z");
	stamp("2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000000Z");
	stamp("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z");
	stamp("1969-12-31T23:59:59Z", "1969-12-31T23:59:59.000000Z");
	stamp("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z");
	stamp("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000000Z");
	stamp("2026-12-01T03:00:00+18:00", "2026-11-30T09:00:00.000000Z");

	/* no zone: local time, as TZ says */
	setenv("TZ", "UTC", 1);
	tzset();
	stamp("2026-12-01", "2026-12-01T00:00:00.000000Z");
	stamp("2026-12-01T03:00", "2026-12-01T03:00:00.000000Z");
	setenv("TZ", "XXX-2", 1); /* POSIX: two hours east of UTC */
	tzset();
	stamp("2026-12-01", "2026-11-30T22:00:00.000000Z");
	stamp("2026-12-01 03:00:00.25", "2026-12-01T01:00:00.250000Z");
	stamp("2026-12-01T03:00:00Z", "2026-12-01T03:00:00.000000Z");
	setenv("TZ", "UTC", 1);
	tzset();

	bad_stamp("2020-13-45", "month 13 is out of range");
	bad_stamp("2020-00-10", "month 00 is out of range");
	bad_stamp("2021-02-29", "day 29 is out of range for February 2021");
	bad_stamp("1900-02-29", "day 29 is out of range for February 1900");
	bad_stamp("2026-04-31", "day 31 is out of range for April 2026");
	bad_stamp("2026-01-00", "day 00 is out of range");
	bad_stamp("0000-01-01", "year 0000 is out of range");
	bad_stamp("2026-12-01T24:00", "hour 24 is out of range");
	bad_stamp("2026-12-01T23:60", "minute 60 is out of range");
	bad_stamp("2026-12-01T23:59:60Z", "second 60 is out of range");
	bad_stamp("2026-12-01T03:00+19:00", "offset 19:00 is out of range");
	bad_stamp("2026-12-01T03:00+01:60", "offset 01:60 is out of range");
	bad_stamp("2026-12-01T03", "expected the time");
	bad_stamp("2026-12-01T3:00", "expected the time");
	bad_stamp("2026-12-01T03:00:0", "expected the seconds");
	bad_stamp("2026-12-01T03:00:00.", "digits after the decimal point");
	bad_stamp("2026-12-01T03:00:00.1234567890Z", "more than 9");
	bad_stamp("2026-12-01T03:00+1", "UTC offset");
	bad_stamp("2026-12-01T03:00+01:", "UTC offset");
	bad_stamp("2026-12-01T03:00+013", "UTC offset");
	bad_stamp("2026-12-01T03:00:00ZZ", "expected a duration");
	bad_stamp("2026-12-01Z", "expected a duration");
	bad_stamp("2026-12-01 ", "expected a duration");
	bad_stamp("2026-1-01", "expected a duration");
	bad_stamp("26-12-01", "expected a duration");
	bad_stamp("2026/12/01", "expected a duration");
	bad_stamp("2026-12-01T03:00:00 UTC", "expected a duration");
	bad_stamp("yesterday", "expected a duration");
	bad_stamp("", "expected a duration");
}

static void test_time_parse(void)
{
	struct mreg_error err;
	struct mreg_time t;
	char buf[40];
	long long now = 1796097600; /* 2026-12-01T04:00:00Z */

	ok(mreg_time_parse("2h", now, &t, &err) == 0 && t.sec == now - 7200 &&
		   t.usec == 0, "2h ago");
	mreg_time_format(&t, buf, sizeof(buf));
	is_str(buf, "2026-12-01T02:00:00.000000Z", "2h ago, formatted");
	ok(mreg_time_parse("2026-12-01T03:00:00Z", now, &t, &err) == 0 &&
		   t.sec == 1796094000, "a timestamp is not relative to now");
	is_int(mreg_time_parse("garbage", now, &t, &err), -1, "garbage");
	is_int(err.status, MREG_EXIT_USAGE, "... a usage error");
	is_str(err.message, "invalid time \"garbage\": expected a duration "
			    "such as 2h or an ISO-8601 timestamp",
	       "... with mreg's own message");
	is_int(mreg_time_parse("-5h", now, &t, &err), -1, "-5h");
	ok(strstr(err.message, "invalid time \"-5h\": ") != NULL,
	   "... names the text: %s", err.message);
	is_int(mreg_time_parse("2020-13-45", now, &t, &err), -1, "2020-13-45");
	is_str(err.message, "invalid time \"2020-13-45\": month 13 is out of "
			    "range (01-12)", "... says what is wrong");
	is_int(mreg_time_parse("110000w", now, &t, &err), -1,
	       "before the year 1 refused");
	is_int(mreg_time_parse(NULL, now, &t, &err), -1, "NULL refused");
}

static void test_canonical(void)
{
	struct mreg_time t = { 0, 0 };
	char buf[40];

	ok(mreg_time_is_canonical("2026-11-23T11:30:00.123456Z"),
	   "canonical: the queries' form");
	ok(!mreg_time_is_canonical("2026-11-23T11:30:00Z"),
	   "canonical: no microseconds refused");
	ok(!mreg_time_is_canonical("2026-11-23 11:30:00.123456Z"),
	   "canonical: a space refused");
	ok(!mreg_time_is_canonical("2026-13-23T11:30:00.123456Z"),
	   "canonical: month 13 refused");
	ok(!mreg_time_is_canonical("2026-11-23T11:30:00.123456+00:00"),
	   "canonical: an offset refused");
	ok(!mreg_time_is_canonical("2026-11-23T11:30:00.12345aZ"),
	   "canonical: a letter refused");
	ok(!mreg_time_is_canonical(NULL), "canonical: NULL refused");
	t.sec = -62135596801LL;
	is_int(mreg_time_format(&t, buf, sizeof(buf)), -1,
	       "format: before the year 1 refused");
	t.sec = 0;
	is_int(mreg_time_format(&t, buf, 10), -1, "format: small buffer");
	t.usec = 1000000;
	is_int(mreg_time_format(&t, buf, sizeof(buf)), -1,
	       "format: bad microseconds");
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_durations();
	test_timestamps();
	test_time_parse();
	test_canonical();
	return tap_done();
}
