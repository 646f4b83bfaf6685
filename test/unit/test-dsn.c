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
	return tap_done();
}
