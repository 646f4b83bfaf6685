/* timeparse.c - durations and ISO-8601 timestamps (see timeparse.h) */
#include "timeparse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define GENERIC "expected a duration such as 2h or an ISO-8601 timestamp"

/* Years 0001-9999: the instants mreg_time_format() can write. */
#define MIN_SEC (-62135596800LL)  /* 0001-01-01T00:00:00Z */
#define MAX_SEC (253402300799LL)  /* 9999-12-31T23:59:59Z */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* n digits at s as a number, or -1. */
static long digits(const char *s, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long y, long m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant). */
static long long days_from_civil(long long y, long m, long d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Say why (a printf format and its values) and return -1. */
#define FAIL(...)                                                            \
	((why && whylen ? (void)snprintf(why, whylen, __VA_ARGS__) : (void)0), \
	 -1)

/* ---- durations ------------------------------------------------------------ */

int mreg_duration_parse(const char *s, long long *seconds, char *why,
			size_t whylen)
{
	static const char units[] = "wdhms";
	static const long long scale[] = { 604800, 86400, 3600, 60, 1 };
	const char *p = s, *u;
	long long total = 0, n;
	int last = -1, k;

	if (!s || !*s)
		return FAIL(GENERIC);
	if (*p == '-' || *p == '+') {
		if (*p == '-' && is_digit(p[1]))
			return FAIL("a duration counts back from "
				    "now and must be positive, such as 2h");
		return FAIL(GENERIC);
	}
	while (*p) {
		if (!is_digit(*p))
			return FAIL(GENERIC);
		n = 0;
		while (is_digit(*p)) {
			if (n > 1000000000LL) /* past any year 0001 */
				return FAIL("the duration is too "
					    "long");
			n = n * 10 + (*p++ - '0');
		}
		if (!*p)
			return FAIL("a number needs a unit: s, m, "
				    "h, d or w (such as 2h)");
		u = strchr(units, *p);
		if (!u)
			return FAIL(GENERIC);
		k = (int)(u - units);
		if (k <= last) /* each unit once, largest first: 1d12h */
			return FAIL(GENERIC);
		last = k;
		total += n * scale[k];
		if (total > MAX_SEC - MIN_SEC)
			return FAIL("the duration is too long");
		p++;
	}
	if (total <= 0)
		return FAIL("a duration counts back from now and "
			    "must be positive, such as 2h");
	*seconds = total;
	return 0;
}

/* ---- timestamps ----------------------------------------------------------- */

static const char *const month_names[12] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};

int mreg_timestamp_parse(const char *s, struct mreg_time *out, char *why,
			 size_t whylen)
{
	long y, mo, d, h = 0, mi = 0, sec = 0, usec = 0, oh = 0, om = 0;
	long long days, t;
	const char *p;
	bool has_time = false, has_zone = false;
	int nfrac = 0, sign = 1;

	if (!s || strlen(s) < 10 || (y = digits(s, 4)) < 0 || s[4] != '-' ||
	    (mo = digits(s + 5, 2)) < 0 || s[7] != '-' ||
	    (d = digits(s + 8, 2)) < 0)
		return FAIL(GENERIC);
	p = s + 10;
	if (*p == 'T' || *p == 't' || (*p == ' ' && p[1])) {
		p++;
		if ((h = digits(p, 2)) < 0 || p[2] != ':' ||
		    (mi = digits(p + 3, 2)) < 0)
			return FAIL("expected the time as HH:MM or "
				    "HH:MM:SS after the date");
		p += 5;
		has_time = true;
		if (*p == ':') {
			if ((sec = digits(p + 1, 2)) < 0)
				return FAIL("expected the seconds "
					    "as two digits");
			p += 3;
			if (*p == '.' || *p == ',') {
				p++;
				while (is_digit(*p)) {
					if (++nfrac > 9)
						return FAIL("more than 9 "
							    "fractional digits");
					if (nfrac <= 6)
						usec = usec * 10 + (*p - '0');
					p++;
				}
				if (nfrac == 0)
					return FAIL("expected "
						    "digits after the decimal "
						    "point");
				for (int k = nfrac; k < 6; k++)
					usec *= 10;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
			has_zone = true;
			oh = 0;
		} else if (*p == '+' || *p == '-') {
			sign = *p == '-' ? -1 : 1;
			p++;
			if ((oh = digits(p, 2)) < 0)
				return FAIL("expected the UTC "
					    "offset as +HH, +HHMM or +HH:MM");
			p += 2;
			if (*p == ':')
				p++;
			if (is_digit(*p)) {
				if ((om = digits(p, 2)) < 0)
					return FAIL("expected the "
						    "UTC offset as +HH, +HHMM "
						    "or +HH:MM");
				p += 2;
			} else if (p[-1] == ':') {
				return FAIL("expected the UTC "
					    "offset as +HH, +HHMM or +HH:MM");
			}
			has_zone = true;
		}
	}
	if (*p)
		return FAIL(GENERIC);
	if (y < 1)
		return FAIL("year %04ld is out of range "
			    "(0001-9999)", y);
	if (mo < 1 || mo > 12)
		return FAIL("month %02ld is out of range (01-12)",
			    mo);
	if (d < 1 || d > days_in_month(y, mo))
		return FAIL("day %02ld is out of range for %s %04ld", d,
			    month_names[mo - 1], y);
	if (has_time && h > 23)
		return FAIL("hour %02ld is out of range (00-23)",
			    h);
	if (has_time && mi > 59)
		return FAIL("minute %02ld is out of range (00-59)",
			    mi);
	if (has_time && sec > 59)
		return FAIL("second %02ld is out of range (00-59)",
			    sec);
	if (has_zone && (om > 59 || oh * 60 + om > 18 * 60))
		return FAIL("UTC offset %02ld:%02ld is out of "
			    "range (at most 18:00)", oh, om);

	if (has_zone) {
		days = days_from_civil(y, mo, d);
		t = days * 86400 + h * 3600 + mi * 60 + sec;
		t -= sign * (oh * 3600 + om * 60);
	} else {
		/* local time, as the TZ of this process says */
		struct tm tm;
		time_t lt;

		memset(&tm, 0, sizeof(tm));
		tm.tm_year = (int)(y - 1900);
		tm.tm_mon = (int)(mo - 1);
		tm.tm_mday = (int)d;
		tm.tm_hour = (int)h;
		tm.tm_min = (int)mi;
		tm.tm_sec = (int)sec;
		tm.tm_isdst = -1;
		errno = 0;
		lt = mktime(&tm);
		if (lt == (time_t)-1 && errno != 0)
			return FAIL("the local time cannot be "
				    "represented");
		t = (long long)lt;
	}
	if (t < MIN_SEC || t > MAX_SEC)
		return FAIL("the time is out of range (years "
			    "0001-9999 in UTC)");
	out->sec = t;
	out->usec = usec;
	return 0;
}

int mreg_time_parse(const char *s, long long now_sec, struct mreg_time *out,
		    struct mreg_error *err)
{
	char why[128];
	long long secs;
	int rc;

	/* a date starts with four digits and '-'; anything else is a
	 * duration or nothing */
	if (s && strlen(s) >= 5 && digits(s, 4) >= 0 && s[4] == '-') {
		rc = mreg_timestamp_parse(s, out, why, sizeof(why));
	} else {
		rc = mreg_duration_parse(s, &secs, why, sizeof(why));
		if (rc == 0 && now_sec - secs < MIN_SEC) {
			snprintf(why, sizeof(why), "the duration is too long");
			rc = -1;
		}
		if (rc == 0) {
			out->sec = now_sec - secs;
			out->usec = 0;
		}
	}
	if (rc < 0) {
		mreg_error_set(err, MREG_EXIT_USAGE, "invalid time \"%.200s\": %s",
			       s ? s : "", why);
		return -1;
	}
	return 0;
}

bool mreg_time_is_canonical(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	struct mreg_time t;
	size_t i;

	if (!s || strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return false;
	return mreg_timestamp_parse(s, &t, NULL, 0) == 0;
}

int mreg_time_format(const struct mreg_time *t, char *buf, size_t len)
{
	long long days, rem, y;
	int m, d, n;

	if (t->sec < MIN_SEC || t->sec > MAX_SEC || t->usec < 0 ||
	    t->usec > 999999)
		return -1;
	days = t->sec / 86400;
	rem = t->sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, len, "%04lld-%02d-%02dT%02lld:%02lld:%02lld.%06ldZ",
		     y, m, d, rem / 3600, rem / 60 % 60, rem % 60, t->usec);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
