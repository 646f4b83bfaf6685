/* dsn.h - printing connection strings without their secrets
 *
 * Which conninfo keywords hold secrets is libpq's word, not a list of
 * ours: every keyword PQconndefaults() marks with '*' in dispchar
 * (password, sslpassword, and whatever a later libpq adds).  The set is
 * computed once (pthread_once), so all of this is safe from any thread.
 */
#ifndef MREG_DSN_H
#define MREG_DSN_H

#include <stdbool.h>
#include <stddef.h>

/* Does keyword (as libpq spells it) carry a secret? */
bool mreg_dsn_keyword_is_secret(const char *keyword);

/*
 * Write a printable form of dsn (conninfo "k=v ..." or URI) into out with
 * every secret masked as "***": secret keywords in either form, the
 * password of a URI's user info, and URI query keywords after percent-
 * decoding (?%70assword=... is a password to libpq too).  NULL or empty:
 * "(libpq defaults)".  A string libpq cannot parse is never echoed:
 * "(invalid connection string)".
 */
void mreg_dsn_redact(const char *dsn, char *out, size_t outlen);

/*
 * 0 if libpq can parse dsn (NULL or empty: yes).  Else -1 with libpq's
 * reason in why (its first line), every quoted piece of the input in it
 * replaced by "...": libpq's parse errors quote the string, password
 * included.  Only a quoted lone punctuation mark of libpq's own syntax
 * ("=", "]", ...) stays.
 */
int mreg_dsn_check(const char *dsn, char *why, size_t whylen);

/*
 * The password dsn carries (conninfo key, URI userinfo or URI parameter),
 * copied into out; empty when there is none.
 */
void mreg_dsn_password(const char *dsn, char *out, size_t outlen);

/* The values of every secret keyword of a DSN, to scrub messages with. */
#define MREG_DSN_MAX_SECRETS 8
struct mreg_dsn_secrets {
	char *values[MREG_DSN_MAX_SECRETS];
	int n;
};

/* Collect them (nothing for NULL or an unparseable dsn). */
void mreg_dsn_secrets_init(struct mreg_dsn_secrets *s, const char *dsn);
/* Replace each of them in text (capacity cap) by "***". */
void mreg_dsn_secrets_scrub(const struct mreg_dsn_secrets *s, char *text,
			    size_t cap);
/* Wipe and free them; NULL-safe. */
void mreg_dsn_secrets_finish(struct mreg_dsn_secrets *s);

/* Replace every occurrence of secret (if non-empty) in s by "***". */
void mreg_scrub(char *s, size_t cap, const char *secret);

#endif
