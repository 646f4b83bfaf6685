/* tap.h - a minimal Test Anything Protocol emitter for the C unit tests
 *
 * Usage:
 *   ok(cond, "name %d", i);
 *   is_int(got, want, "name");
 *   is_str(got, want, "name");
 *   return tap_done();     (prints the plan, exits 1 if anything failed)
 *
 * Thread-safe: assertions may be made from worker threads.
 */
#ifndef MREG_TAP_H
#define MREG_TAP_H

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;
static pthread_mutex_t tap_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((format(printf, 2, 3), unused))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&tap_lock);
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&tap_lock);
	return cond;
}

__attribute__((format(printf, 1, 2), unused))
static void diag(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&tap_lock);
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&tap_lock);
}

#define is_int(got, want, ...)                                               \
	do {                                                                 \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
		if (!ok(tap_g_ == tap_w_, __VA_ARGS__))                      \
			diag("  got %lld, want %lld", tap_g_, tap_w_);       \
	} while (0)

#define is_str(got, want, ...)                                               \
	do {                                                                 \
		const char *tap_g_ = (got), *tap_w_ = (want);                \
		int tap_ok_ = tap_g_ && tap_w_ ? strcmp(tap_g_, tap_w_) == 0 \
					       : tap_g_ == tap_w_;           \
		if (!ok(tap_ok_, __VA_ARGS__))                               \
			diag("  got \"%s\", want \"%s\"",                    \
			     tap_g_ ? tap_g_ : "(null)",                     \
			     tap_w_ ? tap_w_ : "(null)");                    \
	} while (0)

__attribute__((unused))
static void bail_out(const char *why)
{
	printf("Bail out! %s\n", why);
	fflush(stdout);
	exit(1);
}

__attribute__((unused))
static int tap_done(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif
