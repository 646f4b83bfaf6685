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

/* mreg_dsn_check: libpq's reason, without the text of the DSN */
static void check_bad(const char *dsn, const char *secret, const char *want)
{
	char why[256];

	ok(mreg_dsn_check(dsn, why, sizeof(why)) == -1, "check refuses %s",
	   want);
	ok(strstr(why, secret) == NULL, "... without \"%s\": %s", secret, why);
	ok(strstr(why, want) != NULL, "... keeping libpq's words: %s", why);
}

static void test_secret_keywords(void)
{
	ok(mreg_dsn_keyword_is_secret("password"), "password is secret");
	ok(mreg_dsn_keyword_is_secret("sslpassword"),
	   "sslpassword is secret (libpq's dispchar says so)");
	ok(!mreg_dsn_keyword_is_secret("user"), "user is not");
	ok(!mreg_dsn_keyword_is_secret("host"), "host is not");
	ok(!mreg_dsn_keyword_is_secret(NULL), "NULL is not");
}

static void test_more_redaction(void)
{
	char why[64];

	redacts("host=/tmp sslpassword=hunter22 sslkey=/k",
		"host=/tmp sslkey=/k sslpassword=***", "hunter22");
	redacts("postgresql://h/db?sslpassword=hunter22&sslmode=require",
		"postgresql://h/db?sslpassword=***&sslmode=require",
		"hunter22");
	/* libpq decodes URI keywords: so does the redaction, which then
	 * shows the keyword as written */
	redacts("postgresql://h/db?%70assword=hunter22",
		"postgresql://h/db?%70assword=***", "hunter22");
	redacts("postgresql://h/db?%73sl%70assword=hunter22&x%5fy",
		"(invalid connection string)", "hunter22");
	redacts("postgresql://h/db?ssl%70assword=hunter22&application_name=a",
		"postgresql://h/db?ssl%70assword=***&application_name=a",
		"hunter22");
	redacts("postgresql://h/db?PASSWORD=hunter22",
		"(invalid connection string)", "hunter22");
	/* odd URIs: whatever libpq takes for the password is masked */
	redacts("postgresql://bob:pa?hunter22@h/db",
		"postgresql://bob:***@h/db", "hunter22");
	redacts("postgresql://bob:p@ss@hunter22@h/db",
		"postgresql://bob:***@h/db", "hunter22");
	redacts("postgresql://bob:hunter22@h1,h2:5433/db",
		"postgresql://bob:***@h1,h2:5433/db", "hunter22");
	redacts("postgresql://u:hunter22@[::1/x", "(invalid connection string)",
		"hunter22");

	check_bad("postgresql://u:hunter22@[::1/x", "hunter22",
		  "end of string reached when looking for matching \"]\"");
	check_bad("host=x password=hunter22 'bad", "bad",
		  "missing \"=\" after \"...\"");
	check_bad("password= hunter22 x", "hunter22", "missing \"=\"");
	check_bad("postgresql://u:hunter22@h/db?nosuch=1", "hunter22",
		  "invalid URI query parameter");
	check_bad("nosuch=hunter22", "nosuch", "invalid connection option");
	check_bad("postgresql://u:hunter22@h/db?a=%zz", "hunter22",
		  "percent");
	ok(mreg_dsn_check("host=/tmp dbname=x", why, sizeof(why)) == 0 &&
		   why[0] == '\0', "check accepts a good DSN");
	ok(mreg_dsn_check(NULL, why, sizeof(why)) == 0, "check accepts NULL");
}

static void test_secrets(void)
{
	struct mreg_dsn_secrets sec;
	char msg[256];

	mreg_dsn_secrets_init(&sec, "password=hunter22 sslpassword=keypass99");
	is_int(sec.n, 2, "two secrets");
	snprintf(msg, sizeof(msg), "failed for hunter22 with keypass99");
	mreg_dsn_secrets_scrub(&sec, msg, sizeof(msg));
	is_str(msg, "failed for *** with ***", "both scrubbed");
	mreg_dsn_secrets_finish(&sec);
	is_int(sec.n, 0, "finished");
	mreg_dsn_secrets_finish(&sec);
	mreg_dsn_secrets_finish(NULL);
	mreg_dsn_secrets_init(&sec, "postgresql://u:p%40ss@h/d?sslpassword=k%26k");
	is_int(sec.n, 2, "URI secrets");
	snprintf(msg, sizeof(msg), "p@ss k&k");
	mreg_dsn_secrets_scrub(&sec, msg, sizeof(msg));
	is_str(msg, "*** ***", "decoded URI secrets scrubbed");
	mreg_dsn_secrets_finish(&sec);
	mreg_dsn_secrets_init(&sec, "garbage");
	is_int(sec.n, 0, "none from an unparseable DSN");
	mreg_dsn_secrets_finish(&sec);

	snprintf(msg, sizeof(msg), "abab");
	mreg_scrub(msg, 6, "ab");
	is_str(msg, "***", "a growing scrub stays in its buffer");
	snprintf(msg, sizeof(msg), "xab");
	mreg_scrub(msg, 4, "ab");
	is_str(msg, "x", "no room for the mask: cut");
}

int main(void)
{
	char pw[64], msg[256];

	test_secret_keywords();
	test_more_redaction();
	test_secrets();

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
	/* found by fuzz-dsn in CI: a '?' inside an IPv6 host hid the query */
	redacts("postgresql://[fe80::1?x\x1b]/reg?password=hu%3Anter22",
		"postgresql://[fe80::1?x\x1b]/reg?password=***", "hu%3Anter22");
	/* found by fuzz-dsn in CI: a '[' that is never closed */
	redacts("postgresql://bob[db/reg?pass%77ord=hunter22",
		"postgresql://bob[db/reg?pass%77ord=***", "hunter22");
	/* found by fuzz-dsn: the keyword shows as written, since its
	 * decoded form can spell a short secret ("sw" in "password") */
	redacts("postgresql://h/d?pass%77ord=sw",
		"postgresql://h/d?pass%77ord=***", "sw");
	/* found by fuzz-dsn: a '?' in a user name without a password */
	redacts("postgresql://u?x@h?password=hunter22",
		"postgresql://u?x@h?password=***", "hunter22");
	/* found by fuzz-dsn: a '[' inside a host name is no IPv6 bracket */
	redacts("postgresql://h[x?password=hunter22&a=[::1]",
		"(invalid connection string)", "hunter22");
	redacts("postgresql://a:b@h?password=c@d/e",
		"postgresql://a:***@h?password=***", "c@d");
	redacts("host=db sslkey=c.key sslpassword=keysecret",
		"host=db sslkey=c.key sslpassword=***", "keysecret");
	redacts("postgresql://db/reg?sslkey=c.key&sslpassword=keysecret",
		"postgresql://db/reg?sslkey=c.key&sslpassword=***",
		"keysecret");
	/* found by fuzz-dsn in CI: libpq's host starts after the first
	 * '@' (an IPv6 [...] holding a later '@'), not where the mask ends */
	redacts("postgresql://u:pw@[::1@x]/reg?password=hunter22",
		"postgresql://u:***@x]/reg?password=***", "hunter22");
	redacts("postgresql://u:pw@[::1@x/y?z]/reg?password=hunter22",
		"postgresql://u:***@x/y?z]/reg?password=***", "hunter22");
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
		is_str(small, "abcdefghi", "a secret in the last bytes: cut, not shown");
	}
	return tap_done();
}
