/* libpq-lazy.h - the mreg binary's libpq, loaded while the program starts
 *
 * Debian's libpq brings 25 libraries with it (OpenLDAP and its GnuTLS,
 * Kerberos, SASL, OpenSSL), all bound at load time: a program linked
 * with it starts in ~7 ms where one without starts in ~1 ms.  The mreg
 * binary is not linked with libpq: it loads it on a thread of its own as
 * a command that needs the database begins (mreg_libpq_preload, which
 * also makes exit() wait for a load under way), so that work that needs
 * no server yet (import-dir's walk of the tree, argument checks) runs
 * meanwhile.
 * The binary's own definitions of the PQ* functions it calls
 * (cli/libpq-lazy.c) wait for the load, then call libpq's.  The unit tests,
 * fuzzers and tools link libpq as usual and never include this file.
 */
#ifndef MREG_LIBPQ_LAZY_H
#define MREG_LIBPQ_LAZY_H

/* Start loading libpq on a thread of its own (once; a thread that cannot
 * be started leaves it to the first PQ* call). */
void mreg_libpq_preload(void);

/* Wait until libpq is loaded (as the first PQ* call does): before a
 * fork(), whose child must not inherit the dynamic loader mid-load.  A
 * libpq that cannot be loaded ends the program with exit status 1. */
void mreg_libpq_wait(void);

#endif
