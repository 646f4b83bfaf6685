/* hashcache.c - stat records, the racy rule, SHA-256 from descriptors */
#include "hashcache.h"
#include "strmap.h"
#include "hex.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define NS_PER_S 1000000000LL
/*
 * Linux stamps files from a coarse clock that moves in ticks of 1-10 ms
 * (newer kernels may be finer); twice the largest tick is the margin
 * used when the filesystem reports nanoseconds.  A filesystem whose
 * stamps are whole seconds gets a full second.
 */
#define FINE_GRANULARITY_NS (20LL * 1000 * 1000)

void mreg_stat_from(struct mreg_stat *out, const struct stat *st)
{
	out->size = (long long)st->st_size;
	out->mtime_ns = (long long)st->st_mtim.tv_sec * NS_PER_S +
			st->st_mtim.tv_nsec;
	out->ctime_ns = (long long)st->st_ctim.tv_sec * NS_PER_S +
			st->st_ctim.tv_nsec;
	out->inode = (uint64_t)st->st_ino;
	out->device = (uint64_t)st->st_dev;
}

bool mreg_stat_equal(const struct mreg_stat *a, const struct mreg_stat *b)
{
	return a->size == b->size && a->mtime_ns == b->mtime_ns &&
	       a->ctime_ns == b->ctime_ns && a->inode == b->inode &&
	       a->device == b->device;
}

int mreg_fs_clock_read(int dirfd, struct mreg_fs_clock *out,
		       struct mreg_error *err)
{
	static unsigned counter;
	char name[64];
	struct stat st;
	struct timespec ts;
	char ebuf[128];
	int fd = -1, tries, e;

	for (tries = 0; tries < 16; tries++) {
		snprintf(name, sizeof(name), ".mreg-clock-%ld-%u",
			 (long)getpid(), __atomic_add_fetch(&counter, 1,
							     __ATOMIC_RELAXED));
		fd = openat(dirfd, name,
			    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		e = errno;
		if (e == EACCES || e == EROFS || e == EPERM) {
			clock_gettime(CLOCK_REALTIME, &ts);
			out->boundary_ns = (long long)ts.tv_sec * NS_PER_S +
					   ts.tv_nsec;
			out->granularity_ns = NS_PER_S;
			out->from_fs = false;
			return 0;
		}
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "could not create a temporary file to read the filesystem clock: %s",
			       mreg_strerror(e, ebuf, sizeof(ebuf)));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		unlinkat(dirfd, name, 0);
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "could not read the filesystem clock: %s",
			       mreg_strerror(e, ebuf, sizeof(ebuf)));
		return -1;
	}
	close(fd);
	unlinkat(dirfd, name, 0);
	out->boundary_ns = (long long)st.st_mtim.tv_sec * NS_PER_S +
			   st.st_mtim.tv_nsec;
	out->granularity_ns = st.st_mtim.tv_nsec == 0 ? NS_PER_S
						      : FINE_GRANULARITY_NS;
	out->from_fs = true;
	return 0;
}

bool mreg_stat_is_racy(const struct mreg_stat *st,
		       const struct mreg_fs_clock *clock)
{
	long long limit = clock->boundary_ns - clock->granularity_ns;

	/* trusted only when both stamps are strictly older than the limit */
	return !(st->mtime_ns < limit && st->ctime_ns < limit);
}

enum mreg_cache_verdict mreg_cache_judge(const struct mreg_cache_entry *e,
					 const struct mreg_stat *now)
{
	if (!e)
		return MREG_CACHE_MISS;
	if (e->racy || !mreg_stat_equal(&e->st, now))
		return MREG_CACHE_CHECK;
	if (e->model_id == 0 && !e->error)
		return MREG_CACHE_MISS;
	return MREG_CACHE_HIT;
}

/* --- the in-memory table ------------------------------------------------ */

/*
 * The entries and their strings live in large chunks: a cache of 10,000
 * files is a few dozen allocations rather than 50,000, loaded and freed in
 * a fraction of the time (an unchanged re-import spends most of its own
 * CPU on the cache and the walk).  An entry replaced by a later one for
 * the same path stays in its chunk until the cache goes.
 */
#define CHUNK_SIZE (256 * 1024 - 64) /* with malloc's header: 256 KiB */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[]; /* cap bytes */
};

struct mreg_cache {
	struct mreg_strmap *map; /* path -> struct mreg_cache_entry */
	struct chunk *chunks;    /* the newest first */
};

struct mreg_cache *mreg_cache_create(void)
{
	struct mreg_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	/* room for 16,384 entries: a registry's tree loads without a
	 * rehash (768 KiB of slots, each page written once at creation) */
	c->map = mreg_strmap_create(16384);
	if (!c->map) {
		free(c);
		return NULL;
	}
	return c;
}

void mreg_cache_destroy(struct mreg_cache *c)
{
	struct chunk *k, *next;

	if (!c)
		return;
	mreg_strmap_destroy(c->map, NULL);
	for (k = c->chunks; k; k = next) {
		next = k->next;
		free(k);
	}
	free(c);
}

/* n bytes from the chunks, aligned for any type; NULL out of memory. */
static void *cache_alloc(struct mreg_cache *c, size_t n)
{
	const size_t align = sizeof(max_align_t);
	struct chunk *k = c->chunks;
	bool big;

	n = (n + align - 1) / align * align;
	if (k && k->cap - k->used >= n) {
		k->used += n;
		return (char *)k->data + k->used - n;
	}
	/* an item of a quarter chunk or more gets a chunk of its own, behind
	 * the current one (which keeps its room) */
	big = n > CHUNK_SIZE / 4;
	k = malloc(sizeof(*k) + (big ? n : CHUNK_SIZE));
	if (!k)
		return NULL;
	k->cap = big ? n : CHUNK_SIZE;
	k->used = n;
	if (big && c->chunks) {
		k->next = c->chunks->next;
		c->chunks->next = k;
	} else {
		k->next = c->chunks;
		c->chunks = k;
	}
	return k->data;
}

/* n bytes of s (no NUL needed) as a string of the chunks; NULL stays. */
static char *cache_dup(struct mreg_cache *c, const char *s, size_t n,
		       bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = cache_alloc(c, n + 1);
	if (!d) {
		*failed = true;
		return NULL;
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

int mreg_cache_put_n(struct mreg_cache *c, const struct mreg_cache_entry *src,
		     const size_t len[MREG_CACHE_STRINGS])
{
	struct mreg_cache_entry *e;
	bool failed = false;

	e = cache_alloc(c, sizeof(*e));
	if (!e)
		return -1;
	*e = *src;
	e->path = cache_dup(c, src->path, len[0], &failed);
	e->error = cache_dup(c, src->error, len[1], &failed);
	e->key = cache_dup(c, src->key, len[2], &failed);
	e->artifacts = cache_dup(c, src->artifacts, len[3], &failed);
	/* a path recorded twice: the later entry wins */
	if (failed || !e->path || mreg_strmap_put(c->map, e->path, e, NULL) < 0)
		return -1;
	return 0;
}

int mreg_cache_put(struct mreg_cache *c, const struct mreg_cache_entry *e)
{
	const char *s[MREG_CACHE_STRINGS] = { e->path, e->error, e->key,
					      e->artifacts };
	size_t len[MREG_CACHE_STRINGS];
	int i;

	for (i = 0; i < MREG_CACHE_STRINGS; i++)
		len[i] = s[i] ? strlen(s[i]) : 0;
	return mreg_cache_put_n(c, e, len);
}

struct mreg_cache_entry *mreg_cache_get(struct mreg_cache *c,
					const char *path)
{
	return mreg_strmap_get(c->map, path);
}

size_t mreg_cache_count(const struct mreg_cache *c)
{
	return c ? mreg_strmap_count(c->map) : 0;
}

int mreg_cache_foreach(struct mreg_cache *c,
		       int (*fn)(struct mreg_cache_entry *e, void *arg),
		       void *arg)
{
	struct mreg_cache_entry *e;
	size_t pos = 0;
	int rc;

	while ((e = mreg_strmap_next(c->map, &pos, NULL)) != NULL)
		if ((rc = fn(e, arg)) != 0)
			return rc;
	return 0;
}

/* --- SHA-256 --------------------------------------------------------------- */

void mreg_digest_to_hex(const unsigned char d[MREG_SHA256_LEN],
		     char out[MREG_SHA256_HEX])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < MREG_SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * MREG_SHA256_LEN] = '\0';
}

int mreg_digest_from_hexn(const char *hex, size_t n,
			  unsigned char d[MREG_SHA256_LEN])
{
	int i, hi, lo, bad = 0;

	if (!hex || n != 2 * MREG_SHA256_LEN)
		return -1;
	/* no branch per digit: a bad one is noted and told at the end */
	for (i = 0; i < MREG_SHA256_LEN; i++) {
		hi = mreg_hex_value(hex[2 * i]);
		lo = mreg_hex_value(hex[2 * i + 1]);
		bad |= hi | lo;
		d[i] = (unsigned char)((hi & 15) << 4 | (lo & 15));
	}
	return bad < 0 ? -1 : 0;
}

int mreg_digest_from_hex(const char *hex, unsigned char d[MREG_SHA256_LEN])
{
	return hex ? mreg_digest_from_hexn(hex, strlen(hex), d) : -1;
}

int mreg_digest_buf(const void *buf, size_t len,
		    unsigned char d[MREG_SHA256_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(buf, len, d, &n, mreg_sha256_md(), NULL) != 1 ||
	    n != MREG_SHA256_LEN)
		return -1;
	return 0;
}

/* read() that retries on EINTR; returns bytes read (0 at EOF) or -1 */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

int mreg_read_and_hash(int dirfd, const char *name, const char *label,
		       long long max_size, char **buf, size_t *len,
		       struct mreg_stat *st,
		       unsigned char d[MREG_SHA256_LEN],
		       struct mreg_error *err)
{
	struct stat s;
	char ebuf[128];
	int fd, rc, e;

	if (buf)
		*buf = NULL;
	if (len)
		*len = 0;
	/* a FIFO, a socket or a device is never opened */
	if (fstatat(dirfd, name, &s, 0) == 0 && !S_ISREG(s.st_mode)) {
		mreg_error_set(err, MREG_EXIT_DATA, "not a regular file");
		mreg_error_at(err, label, 0, 0);
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		mreg_error_set(err, MREG_EXIT_DATA, "could not open: %s",
			       mreg_strerror(e, ebuf, sizeof(ebuf)));
		mreg_error_at(err, label, 0, 0);
		return -1;
	}
	rc = mreg_hash_fd(fd, label, max_size, buf, len, st, d, err);
	close(fd);
	return rc;
}

/* Why reading a file failed, past the first checks. */
enum read_outcome {
	READ_OK,
	READ_ERROR,    /* read() failed: errno */
	READ_CHANGED,  /* a size other than fstat's */
	READ_DIGEST,   /* OpenSSL failed */
	READ_NOMEM,
	READ_STAT,     /* the second fstat failed: err is set */
};

/* fstat fd before reading: a regular file of at most max_size bytes. */
static int stat_before(int fd, long long max_size, struct stat *before,
		       struct mreg_error *err)
{
	char ebuf[128];

	if (fstat(fd, before) < 0) {
		mreg_error_set(err, MREG_EXIT_DATA, "could not stat: %s",
			       mreg_strerror(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	if (!S_ISREG(before->st_mode)) {
		mreg_error_set(err, MREG_EXIT_DATA, "not a regular file");
		return -1;
	}
	if (max_size >= 0 && (long long)before->st_size > max_size) {
		mreg_error_set(err, MREG_EXIT_DATA,
			       "file is too large (%lld bytes, the limit is %lld)",
			       (long long)before->st_size, max_size);
		return -1;
	}
	return 0;
}

/* Read the whole file (size bytes by fstat) into *data and hash it. */
static enum read_outcome read_whole(int fd, EVP_MD_CTX *md, size_t size,
				    char **data, size_t *got)
{
	/* one byte more than expected shows a file that grew */
	size_t cap = size + 1;
	ssize_t n;

	*data = malloc(cap);
	if (!*data)
		return READ_NOMEM;
	while (*got < cap) {
		n = read_some(fd, *data + *got, cap - *got);
		if (n < 0)
			return READ_ERROR;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	if (*got != size)
		return READ_CHANGED;
	if (EVP_DigestUpdate(md, *data, *got) != 1)
		return READ_DIGEST;
	return READ_OK;
}

/* Hash the file in chunks, keeping nothing (artifacts, any size). */
static enum read_outcome read_stream(int fd, EVP_MD_CTX *md, size_t size,
				     size_t *got)
{
	char chunk[65536];
	ssize_t n;

	for (;;) {
		n = read_some(fd, chunk, sizeof(chunk));
		if (n < 0)
			return READ_ERROR;
		if (n == 0)
			break;
		*got += (size_t)n;
		/* grown past fstat's size: changed, and a file appended to
		 * faster than it is hashed is not read for ever */
		if (*got > size)
			return READ_CHANGED;
		if (EVP_DigestUpdate(md, chunk, (size_t)n) != 1)
			return READ_DIGEST;
	}
	return *got == size ? READ_OK : READ_CHANGED;
}

/* Finish the digest and fstat again: the file must not have changed. */
static enum read_outcome read_end(int fd, EVP_MD_CTX *md,
				  const struct stat *before,
				  struct mreg_stat *st,
				  unsigned char d[MREG_SHA256_LEN],
				  struct mreg_error *err)
{
	struct stat after;
	struct mreg_stat sa;
	unsigned int dlen = 0;
	char ebuf[128];

	if (EVP_DigestFinal_ex(md, d, &dlen) != 1 || dlen != MREG_SHA256_LEN)
		return READ_DIGEST;
	if (fstat(fd, &after) < 0) {
		mreg_error_set(err, MREG_EXIT_DATA, "could not stat: %s",
			       mreg_strerror(errno, ebuf, sizeof(ebuf)));
		return READ_STAT;
	}
	mreg_stat_from(st, before);
	mreg_stat_from(&sa, &after);
	return mreg_stat_equal(st, &sa) ? READ_OK : READ_CHANGED;
}

/* The message of a failed read. */
static void read_failed(enum read_outcome why, int errnum,
			struct mreg_error *err)
{
	char ebuf[128];

	switch (why) {
	case READ_OK:
	case READ_STAT:
		break;
	case READ_ERROR:
		mreg_error_set(err, MREG_EXIT_DATA, "could not read: %s",
			       mreg_strerror(errnum, ebuf, sizeof(ebuf)));
		break;
	case READ_DIGEST:
		mreg_error_set(err, MREG_EXIT_FAILURE, "SHA-256 failed");
		break;
	case READ_NOMEM:
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		break;
	case READ_CHANGED:
		mreg_error_set(err, MREG_EXIT_DATA,
			       "file changed while it was being read");
		mreg_error_hint(err,
				"Run the import again once writers are done.");
		break;
	}
}

int mreg_hash_fd(int fd, const char *label, long long max_size, char **buf,
		 size_t *len, struct mreg_stat *st,
		 unsigned char d[MREG_SHA256_LEN], struct mreg_error *err)
{
	EVP_MD_CTX *md = NULL;
	struct stat before;
	enum read_outcome why;
	char *data = NULL;
	size_t got = 0;
	int rc = -1;

	if (buf)
		*buf = NULL;
	if (len)
		*len = 0;
	if (stat_before(fd, max_size, &before, err) < 0)
		goto cleanup;
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, mreg_sha256_md(), NULL) != 1) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "could not set up SHA-256");
		goto cleanup;
	}
	errno = 0;
	why = buf ? read_whole(fd, md, (size_t)before.st_size, &data, &got)
		  : read_stream(fd, md, (size_t)before.st_size, &got);
	if (why == READ_OK)
		why = read_end(fd, md, &before, st, d, err);
	if (why != READ_OK) {
		read_failed(why, errno, err);
		goto cleanup;
	}
	if (buf) {
		*buf = data;
		data = NULL;
	}
	if (len)
		*len = got;
	rc = 0;
cleanup:
	if (rc < 0)
		mreg_error_at(err, label, 0, 0);
	free(data);
	EVP_MD_CTX_free(md);
	return rc;
}
