/* test-hashcache.c - stat records, the racy rule, hashing, the table */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hashcache.h"
#include "tap.h"

#define NS 1000000000LL

static char dir[] = "/tmp/mreg-test-hashcache-XXXXXX";
static int dirfd_;

static void write_file(const char *name, const char *data, size_t len)
{
	int fd = openat(dirfd_, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		bail_out("cannot write test file");
	close(fd);
}

static void stat_of(const char *name, struct mreg_stat *out)
{
	struct stat st;

	if (fstatat(dirfd_, name, &st, 0) < 0)
		bail_out("cannot stat test file");
	mreg_stat_from(out, &st);
}

static void test_racy_rule(void)
{
	struct mreg_fs_clock clock = { 100 * NS, NS / 50, true };
	struct mreg_stat st = { 10, 0, 0, 1, 1 };
	long long limit = clock.boundary_ns - clock.granularity_ns;

	st.mtime_ns = limit - 1;
	st.ctime_ns = limit - 1;
	ok(!mreg_stat_is_racy(&st, &clock), "both stamps strictly older: trusted");
	st.mtime_ns = limit;
	ok(mreg_stat_is_racy(&st, &clock), "mtime equal to the limit: racy");
	st.mtime_ns = limit - 1;
	st.ctime_ns = limit;
	ok(mreg_stat_is_racy(&st, &clock), "ctime equal to the limit: racy");
	st.ctime_ns = clock.boundary_ns + 5;
	ok(mreg_stat_is_racy(&st, &clock), "ctime after the boundary: racy");
	st.mtime_ns = 5 * NS; /* touch -d restored an old mtime ... */
	ok(mreg_stat_is_racy(&st, &clock), "old mtime but fresh ctime: racy");
}

static void test_judge(void)
{
	struct mreg_cache_entry e;
	struct mreg_stat now = { 10, 5 * NS, 6 * NS, 42, 7 };

	memset(&e, 0, sizeof(e));
	e.st = now;
	e.model_id = 3;
	is_int(mreg_cache_judge(NULL, &now), MREG_CACHE_MISS, "no entry: miss");
	is_int(mreg_cache_judge(&e, &now), MREG_CACHE_HIT, "same stat: hit");
	now.size++;
	is_int(mreg_cache_judge(&e, &now), MREG_CACHE_CHECK, "size differs: check");
	now.size--;
	now.mtime_ns++;
	is_int(mreg_cache_judge(&e, &now), MREG_CACHE_CHECK, "mtime 1 ns later: check");
	now.mtime_ns--;
	now.ctime_ns++;
	is_int(mreg_cache_judge(&e, &now), MREG_CACHE_CHECK, "ctime differs: check");
	now.ctime_ns--;
	now.inode++;
	is_int(mreg_cache_judge(&e, &now), MREG_CACHE_CHECK, "inode differs (renamed over): check");
	now.inode--;
	now.device++;
	is_int(mreg_cache_judge(&e, &now), MREG_CACHE_CHECK, "device differs: check");
	now.device--;
	e.racy = true;
	is_int(mreg_cache_judge(&e, &now), MREG_CACHE_CHECK, "racy entry: check");
	e.racy = false;
	e.model_id = 0;
	is_int(mreg_cache_judge(&e, &now), MREG_CACHE_MISS, "model gone, no error: miss");
	e.error = "bad";
	is_int(mreg_cache_judge(&e, &now), MREG_CACHE_HIT, "cached error: hit");
}

static void test_fs_clock(void)
{
	struct mreg_fs_clock c;
	struct mreg_error err;
	struct mreg_stat before, after;
	struct timespec ts, times[2];
	long long now;
	int n = 0;
	DIR *d;

	ok(mreg_fs_clock_read(dirfd_, &c, &err) == 0, "fs clock read");
	ok(c.from_fs, "clock from the filesystem");
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (long long)ts.tv_sec * NS + ts.tv_nsec;
	ok(c.boundary_ns <= now && c.boundary_ns > now - 5 * NS,
	   "boundary is the recent past");
	ok(c.granularity_ns > 0 && c.granularity_ns <= NS, "granularity sane");
	d = fdopendir(dup(dirfd_));
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (strncmp(de->d_name, ".mreg-clock", 11) == 0)
				n++;
		closedir(d);
	}
	is_int(n, 0, "temporary clock file removed");

	/* a file written just now is racy; rewritten in the same tick with
	 * the same size and its mtime set back, the ctime still differs */
	write_file("r.json", "{\"a\":1}", 7);
	stat_of("r.json", &before);
	ok(mreg_fs_clock_read(dirfd_, &c, &err) == 0, "boundary after writing");
	ok(mreg_stat_is_racy(&before, &c), "file written just now is racy");
	write_file("r.json", "{\"a\":2}", 7);
	times[0].tv_sec = before.mtime_ns / NS;
	times[0].tv_nsec = before.mtime_ns % NS;
	times[1] = times[0];
	utimensat(dirfd_, "r.json", times, 0);
	stat_of("r.json", &after);
	is_int(after.mtime_ns, before.mtime_ns, "mtime restored exactly (touch -d)");
	is_int(after.size, before.size, "same size");
	{
		struct mreg_cache_entry e;
		memset(&e, 0, sizeof(e));
		e.st = before;
		e.model_id = 1;
		e.racy = mreg_stat_is_racy(&before, &c);
		is_int(mreg_cache_judge(&e, &after), MREG_CACHE_CHECK,
		       "same-tick rewrite with restored mtime is rechecked");
	}
	/* an old file is trusted */
	write_file("old.json", "{}", 2);
	times[0].tv_sec = 1000000000;
	times[0].tv_nsec = 0;
	times[1] = times[0];
	utimensat(dirfd_, "old.json", times, 0);
	stat_of("old.json", &before);
	ok(mreg_stat_is_racy(&before, &c),
	   "old mtime but ctime just now: still racy");
}

static void test_sha(void)
{
	unsigned char d[MREG_SHA256_LEN], back[MREG_SHA256_LEN];
	char hex[MREG_SHA256_HEX];

	mreg_digest_buf("abc", 3, d);
	mreg_digest_to_hex(d, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "SHA-256 of abc");
	ok(mreg_digest_from_hex(hex, back) == 0 && memcmp(d, back, sizeof(d)) == 0,
	   "hex round trip");
	ok(mreg_digest_from_hex("xyz", back) < 0, "short hex rejected");
	hex[3] = 'g';
	ok(mreg_digest_from_hex(hex, back) < 0, "non-hex digit rejected");

	/* every byte value, first and last place: only 0-9a-fA-F pass, and
	 * each to its value */
	int wrong = 0;
	for (int c = 0; c < 256; c++) {
		bool is_hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			      (c >= 'A' && c <= 'F');
		int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

		for (int at = 0; at < 64; at += 63) {
			memset(hex, '0', 64);
			hex[64] = '\0';
			hex[at] = (char)c;
			if ((mreg_digest_from_hexn(hex, 64, back) == 0) != is_hex)
				wrong++;
			else if (is_hex && (at == 0 ? back[0] >> 4 : back[31] & 15) != v)
				wrong++;
		}
	}
	ok(wrong == 0, "each of the 256 byte values, first and last: %d wrong",
	   wrong);
	ok(mreg_digest_from_hexn("ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789",
				 64, back) == 0 && back[0] == 0xab && back[31] == 0x89,
	   "upper and lower case");
}

static atomic_int writing;

static void *appender(void *arg)
{
	int fd = openat(dirfd_, "grow.bin", O_WRONLY | O_APPEND);
	char block[4096];
	long blocks = 0;

	(void)arg;
	memset(block, 'x', sizeof(block));

	/* at most 1 GiB, whatever happens to the reader */
	while (atomic_load(&writing) && fd >= 0 && blocks++ < (1L << 18))
		if (write(fd, block, sizeof(block)) < 0)
			break;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void test_read_and_hash(void)
{
	struct mreg_error err;
	struct mreg_stat st, st2;
	unsigned char d[MREG_SHA256_LEN], want[MREG_SHA256_LEN];
	char *buf = NULL, *big;
	size_t len = 0, i;
	pthread_t t;
	int changed = 0, tries;

	write_file("abc.json", "abc", 3);
	ok(mreg_read_and_hash(dirfd_, "abc.json", "x/abc.json", 100, &buf, &len,
			      &st, d, &err) == 0, "read and hash");
	is_int(len, 3, "length");
	ok(buf && memcmp(buf, "abc", 3) == 0, "bytes kept");
	mreg_digest_buf("abc", 3, want);
	ok(memcmp(d, want, sizeof(d)) == 0, "digest from the descriptor");
	stat_of("abc.json", &st2);
	ok(mreg_stat_equal(&st, &st2), "stat recorded");
	free(buf);
	buf = NULL;

	ok(mreg_read_and_hash(dirfd_, "abc.json", "x/abc.json", 2, &buf, &len,
			      &st, d, &err) < 0, "over the size limit");
	ok(strstr(err.message, "too large") != NULL, "too large: %s", err.message);
	is_str(err.path, "x/abc.json", "label in the error");
	ok(buf == NULL, "no buffer on error");

	ok(mreg_read_and_hash(dirfd_, "nope.json", "nope.json", 100, &buf, &len,
			      &st, d, &err) < 0, "missing file");
	ok(strstr(err.message, "could not open") != NULL, "missing: %s", err.message);
	mkdirat(dirfd_, "sub.json", 0755);
	ok(mreg_read_and_hash(dirfd_, "sub.json", "sub.json", 100, &buf, &len,
			      &st, d, &err) < 0, "directory");
	ok(strstr(err.message, "not a regular file") != NULL, "directory: %s", err.message);
	if (geteuid() != 0) {
		write_file("secret.json", "{}", 2);
		fchmodat(dirfd_, "secret.json", 0, 0);
		ok(mreg_read_and_hash(dirfd_, "secret.json", "secret.json", 100,
				      &buf, &len, &st, d, &err) < 0 &&
		   strstr(err.message, "permission denied") != NULL,
		   "unreadable: %s", err.message);
	}

	/* streaming mode (artifacts): no size limit, same digest */
	big = malloc(300000);
	for (i = 0; i < 300000; i++)
		big[i] = (char)(i * 7);
	write_file("big.bin", big, 300000);
	mreg_digest_buf(big, 300000, want);
	ok(mreg_read_and_hash(dirfd_, "big.bin", "big.bin", -1, NULL, NULL, &st,
			      d, &err) == 0, "stream a 300 kB file");
	ok(memcmp(d, want, sizeof(d)) == 0, "streamed digest matches");
	is_int(st.size, 300000, "streamed size");
	free(big);

	/* a file growing while it is read is refused, and is read only up
	 * to the size it had: the appender outruns SHA-256 on a fast disk */
	big = calloc(1, 8 << 20);
	write_file("grow.bin", big, 8 << 20);
	free(big);
	atomic_store(&writing, 1);
	pthread_create(&t, NULL, appender, NULL);
	for (tries = 0; tries < 50 && !changed; tries++) {
		if (mreg_read_and_hash(dirfd_, "grow.bin", "grow.bin", -1, NULL,
				       NULL, &st, d, &err) < 0 &&
		    strstr(err.message, "changed while"))
			changed = 1;
	}
	atomic_store(&writing, 0);
	pthread_join(t, NULL);
	ok(changed, "a file changing while read is detected (%d tries)", tries);
}

static int count_cb(struct mreg_cache_entry *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static void test_table(void)
{
	struct mreg_cache *c = mreg_cache_create();
	struct mreg_cache_entry e, *got;
	char path[64];
	int i, found = 0, n = 0;

	memset(&e, 0, sizeof(e));
	for (i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "dir%d/m%d.json", i % 7, i);
		e.path = path;
		e.st.size = i;
		e.model_id = i + 1;
		e.key = i % 2 ? "p/n" : NULL;
		if (mreg_cache_put(c, &e) < 0)
			bail_out("out of memory");
	}
	is_int(mreg_cache_count(c), 5000, "5000 entries");
	for (i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "dir%d/m%d.json", i % 7, i);
		got = mreg_cache_get(c, path);
		if (got && got->st.size == i && got->model_id == i + 1)
			found++;
	}
	is_int(found, 5000, "every entry found with its values");
	ok(mreg_cache_get(c, "dir0/none.json") == NULL, "absent path");
	mreg_cache_foreach(c, count_cb, &n);
	is_int(n, 5000, "foreach visits every entry");

	/* strings larger than a chunk, between small ones; a path put twice */
	{
		static char big[300 * 1024], err[70 * 1024];
		size_t k;

		for (k = 0; k < sizeof(big) - 1; k++)
			big[k] = (char)('a' + k % 26);
		memset(err, 'e', sizeof(err) - 1);
		e.path = "big.json";
		e.artifacts = big;
		e.error = err;
		e.key = "p/big";
		ok(mreg_cache_put(c, &e) == 0, "an entry with 300 KiB and 70 KiB strings");
		e.artifacts = NULL;
		e.error = NULL;
		e.path = "after.json";
		e.st.size = 42;
		ok(mreg_cache_put(c, &e) == 0, "... and a small one after it");
		e.path = "after.json";
		e.st.size = 43;
		ok(mreg_cache_put(c, &e) == 0, "... put again");
		got = mreg_cache_get(c, "big.json");
		ok(got && got->artifacts && strcmp(got->artifacts, big) == 0 &&
		   got->error && strcmp(got->error, err) == 0 &&
		   strcmp(got->key, "p/big") == 0, "the big strings come back whole");
		got = mreg_cache_get(c, "after.json");
		ok(got && got->st.size == 43, "the later entry for a path wins");
		is_int(mreg_cache_count(c), 5002, "... without counting twice");
		got = mreg_cache_get(c, "dir1/m4999.json");
		ok(got && got->st.size == 4999 && strcmp(got->key, "p/n") == 0,
		   "earlier entries are intact");
	}
	/* strings given by length, not terminated (a binary COPY row) */
	{
		static const char row[] = "n/p.jsonXXkey/oneYY";
		size_t len[MREG_CACHE_STRINGS] = { 8, 0, 7, 0 };

		memset(&e, 0, sizeof(e));
		e.path = (char *)row;
		e.key = (char *)row + 10;
		e.st.size = 9;
		ok(mreg_cache_put_n(c, &e, len) == 0, "an entry put by lengths");
		got = mreg_cache_get(c, "n/p.json");
		ok(got && got->st.size == 9 && strcmp(got->key, "key/one") == 0 &&
		   !got->error && !got->artifacts,
		   "... its strings end where their lengths say");
	}
	{
		unsigned char d1[MREG_SHA256_LEN], d2[MREG_SHA256_LEN];
		char hex[MREG_SHA256_HEX + 1];

		memset(hex, 'a', 64);
		hex[64] = '7';
		hex[65] = '\0';
		ok(mreg_digest_from_hexn(hex, 64, d1) == 0 &&
		   mreg_digest_from_hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					d2) == 0 && memcmp(d1, d2, sizeof(d1)) == 0,
		   "hex by length: 64 digits, whatever follows");
		ok(mreg_digest_from_hexn(hex, 65, d1) < 0 &&
		   mreg_digest_from_hexn(hex, 63, d1) < 0 &&
		   mreg_digest_from_hex(hex, d1) < 0,
		   "... 63 or 65 digits are refused");
	}
	mreg_cache_destroy(c);
	mreg_cache_destroy(NULL);
}

int main(void)
{
	if (!mkdtemp(dir))
		bail_out("mkdtemp failed");
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
	test_racy_rule();
	test_judge();
	test_fs_clock();
	test_sha();
	test_read_and_hash();
	test_table();
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return tap_done();
}
