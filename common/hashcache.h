/* hashcache.h - the content-hash cache: stat records, the racy rule, hashing
 *
 * A file whose size, mtime, ctime (nanoseconds), inode and device match
 * its recorded entry is not read again.  The racy-timestamp rule (as in
 * git, ccache and Mercurial): before reading anything, take a boundary
 * from the filesystem's own clock (fstat of a temporary file created in
 * the root).  An entry may only be trusted on a later run if, when it was
 * recorded, its mtime and ctime were strictly older than the boundary
 * minus the timestamp granularity; otherwise it is stored flagged racy
 * and the next run hashes the file again.  Files are hashed from the open
 * descriptor with fstat before and after: a file that changed meanwhile
 * is reported, not cached.
 *
 * The persistent side is mreg.source_files; this module holds the
 * in-memory table loaded from it and the pure decisions.
 */
#ifndef MREG_HASHCACHE_H
#define MREG_HASHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "error.h"

#define MREG_SHA256_LEN 32
#define MREG_SHA256_HEX 65 /* 64 hex digits and NUL */

/* What the cache compares.  Times in nanoseconds since the epoch. */
struct mreg_stat {
	long long size;
	long long mtime_ns;
	long long ctime_ns;
	uint64_t inode;
	uint64_t device;
};

void mreg_stat_from(struct mreg_stat *out, const struct stat *st);
bool mreg_stat_equal(const struct mreg_stat *a, const struct mreg_stat *b);

/* The moment from the filesystem's clock, and its timestamp step. */
struct mreg_fs_clock {
	long long boundary_ns;
	long long granularity_ns;
	bool from_fs; /* false: the root was not writable, system clock used */
};

/*
 * Create, fstat and remove a temporary file in the directory dirfd to
 * read the filesystem's clock.  If the directory is not writable (EACCES,
 * EROFS, EPERM) fall back to CLOCK_REALTIME with a one-second granularity.
 */
int mreg_fs_clock_read(int dirfd, struct mreg_fs_clock *out,
		       struct mreg_error *err);

/* Too close to the boundary to be trusted later? */
bool mreg_stat_is_racy(const struct mreg_stat *st,
		       const struct mreg_fs_clock *clock);

/* One cached entry (a row of mreg.source_files for this source). */
struct mreg_cache_entry {
	char *path;           /* relative to the root */
	struct mreg_stat st;
	unsigned char sha256[MREG_SHA256_LEN];
	bool racy;
	bool seen;            /* found by this run's walk (walker's) */
	bool done;            /* handled by this run (the consumer's) */
	char *error;          /* why the file was rejected, or NULL */
	long long model_id;   /* 0 when none */
	char *key;            /* "provider/name" of model_id, or NULL */
	/*
	 * The artifacts' stat as recorded (a JSON array, see
	 * artifact-cache.h), or NULL when none was recorded.
	 */
	char *artifacts;
};

enum mreg_cache_verdict {
	MREG_CACHE_MISS,      /* no entry: read the file */
	MREG_CACHE_HIT,       /* trust the entry: do not read the file */
	MREG_CACHE_CHECK,     /* entry exists but stat differs or is racy:
				 hash it, compare with the recorded digest */
};

/*
 * The decision for a file with stat now.  An entry that produced no model
 * and no error (its model was deleted) is not trusted.
 */
enum mreg_cache_verdict mreg_cache_judge(const struct mreg_cache_entry *e,
					 const struct mreg_stat *now);

struct mreg_cache;

struct mreg_cache *mreg_cache_create(void);
void mreg_cache_destroy(struct mreg_cache *c); /* NULL-safe */
/* Add an entry (copied); -1 when out of memory. */
int mreg_cache_put(struct mreg_cache *c, const struct mreg_cache_entry *e);
/* The same with the lengths of e's strings path, error, key, artifacts
 * (in that order; they need no NUL, a NULL one stays NULL). */
#define MREG_CACHE_STRINGS 4
int mreg_cache_put_n(struct mreg_cache *c, const struct mreg_cache_entry *e,
		     const size_t len[MREG_CACHE_STRINGS]);
struct mreg_cache_entry *mreg_cache_get(struct mreg_cache *c,
					const char *path);
size_t mreg_cache_count(const struct mreg_cache *c);
/* Call fn for each entry; stops when fn returns non-zero. */
int mreg_cache_foreach(struct mreg_cache *c,
		       int (*fn)(struct mreg_cache_entry *e, void *arg),
		       void *arg);

/* SHA-256 helpers (OpenSSL EVP). */
void mreg_digest_to_hex(const unsigned char d[MREG_SHA256_LEN],
		     char out[MREG_SHA256_HEX]);
int mreg_digest_from_hex(const char *hex, unsigned char d[MREG_SHA256_LEN]);
/* The same from n bytes (no NUL needed). */
int mreg_digest_from_hexn(const char *hex, size_t n,
			  unsigned char d[MREG_SHA256_LEN]);
int mreg_digest_buf(const void *buf, size_t len,
		    unsigned char d[MREG_SHA256_LEN]);

/*
 * Open name relative to dirfd, fstat, read it whole into *buf (at most
 * max_size bytes; a larger file is an error), hash it, fstat again.  On
 * success *st holds the stat taken before reading.  Errors (status
 * MREG_EXIT_DATA, err->path = label): not a regular file, unreadable,
 * too large, changed while being read.  *buf is malloc'ed (caller frees);
 * pass buf NULL to hash without keeping the bytes (artifacts, any size).
 */
int mreg_read_and_hash(int dirfd, const char *name, const char *label,
		       long long max_size, char **buf, size_t *len,
		       struct mreg_stat *st,
		       unsigned char d[MREG_SHA256_LEN],
		       struct mreg_error *err);

/*
 * The same for a file already open as fd (left open): what the import
 * uses after opening the file inside its tree (mreg_tree_open).
 */
int mreg_hash_fd(int fd, const char *label, long long max_size, char **buf,
		 size_t *len, struct mreg_stat *st,
		 unsigned char d[MREG_SHA256_LEN], struct mreg_error *err);

#endif
