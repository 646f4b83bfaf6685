/* dsn.h - printing connection strings without their secrets */
#ifndef MREG_DSN_H
#define MREG_DSN_H

#include <stddef.h>

/*
 * Write a printable form of dsn (conninfo "k=v ..." or URI) into out with
 * any password masked as "***".  NULL or empty: "(libpq defaults)".  A
 * string libpq cannot parse is never echoed: "(invalid connection string)".
 */
void mreg_dsn_redact(const char *dsn, char *out, size_t outlen);

/*
 * The password dsn carries (conninfo key, URI userinfo or URI parameter),
 * copied into out; empty when there is none.  Used to scrub messages.
 */
void mreg_dsn_password(const char *dsn, char *out, size_t outlen);

/* Replace every occurrence of secret (if non-empty) in s by "***". */
void mreg_scrub(char *s, size_t cap, const char *secret);

#endif
