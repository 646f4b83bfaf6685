/* test-dsn.c - DSN redaction never lets a password through */
#include <string.h>

#include "dsn.h"
#include "tap.h"

static void redacts(const char *dsn, const char *want, const char *secret)
{
	char out[512];

	mreg_dsn_redact(dsn, out, sizeof(out));
	is_str(out, want, "redact %s", want);
	if (secret)
		ok(strstr(out, secret) == NULL, "no \"%s\" in %s", secret, out);
}

int main(void)
{
	char pw[64], msg[256];

	redacts("host=/tmp dbname=reg user=bob password=hunter22",
		"user=bob password=*** dbname=reg host=/tmp", "hunter22");
	redacts("postgresql://bob:hunter22@db.example:5432/reg?sslmode=require",
		"postgresql://bob:***@db.example:5432/reg?sslmode=require",
		"hunter22");
	redacts("postgres://bob@db/reg?password=hunter22&application_name=x",
		"postgres://bob@db/reg?password=***&application_name=x",
		"hunter22");
	redacts("postgresql:///reg?host=/tmp", "postgresql:///reg?host=/tmp",
		NULL);
	redacts("dbname='my db' password='a b\\'c'",
		"password=*** dbname='my db'", "a b");
	redacts(NULL, "(libpq defaults)", NULL);
	redacts("", "(libpq defaults)", NULL);
	redacts("host=x password=hunter22 bogus", "(invalid connection string)",
		"hunter22");
	redacts("nosuchkey=1 password=hunter22", "(invalid connection string)",
		"hunter22");

	/* found by test/fuzz/fuzz-dsn: where libpq finds a password, and
	 * sslpassword (libpq's other hidden option) */
	redacts("postgresql://bob:hunter?22@db/reg",
		"postgresql://bob:***@db/reg", "hunter");
	redacts("postgresql://bob@db/reg?pass%77ord=hunter22",
		"postgresql://bob@db/reg?pass%77ord=***", "hunter22");
	redacts("postgresql://[fe80::1?x]/reg?password=hunter22",
		"postgresql://[fe80::1?x]/reg?password=***", "hunter22");
	redacts("postgresql://a:b@h?password=c@d/e",
		"postgresql://a:***@h?password=***", "c@d");
	redacts("host=db sslkey=c.key sslpassword=keysecret",
		"host=db sslkey=c.key sslpassword=***", "keysecret");
	redacts("postgresql://db/reg?sslkey=c.key&sslpassword=keysecret",
		"postgresql://db/reg?sslkey=c.key&sslpassword=***",
		"keysecret");
	/* a raw '@' in a password stays hidden (libpq would split there) */
	redacts("postgresql://bob:p@ss@db/reg", "postgresql://bob:***@db/reg",
		"ss@");

	mreg_dsn_password("user=a password=s3cr3t!", pw, sizeof(pw));
	is_str(pw, "s3cr3t!", "password of a conninfo string");
	mreg_dsn_password("postgresql://a:p%40ss@h/d", pw, sizeof(pw));
	is_str(pw, "p@ss", "password of a URI, percent-decoded");
	mreg_dsn_password("dbname=x", pw, sizeof(pw));
	is_str(pw, "", "no password");

	snprintf(msg, sizeof(msg), "bad s3cr3t! here and s3cr3t! there");
	mreg_scrub(msg, sizeof(msg), "s3cr3t!");
	is_str(msg, "bad *** here and *** there", "scrub every occurrence");
	snprintf(msg, sizeof(msg), "x=ab y=ab");
	mreg_scrub(msg, sizeof(msg), "ab");
	is_str(msg, "x=*** y=***", "scrub a short secret");
	/* found by test/fuzz/fuzz-dsn: a short secret grows the string; the
	 * capacity counts from the buffer's start, every time */
	{
		char small[12] = "pw x pw pw";

		mreg_scrub(small, sizeof(small), "pw");
		is_str(small, "*** x *** p", "scrub cuts the tail at the capacity");
		snprintf(small, sizeof(small), "abcdefghij");
		mreg_scrub(small, 11, "j");
		is_str(small, "abcdefghi*", "a secret in the last bytes");
	}
	return tap_done();
}
