/* test-walk.c - the recursive walk: matching, hidden entries, loops */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "walk.h"
#include "tap.h"

static char dir[] = "/tmp/mreg-test-walk-XXXXXX";

struct seen {
	char files[4096];
	char errors[4096];
	int nfiles, nerrors, stop_after;
	int bad; /* errors that came with a stat: bad files */
};

static int cb(void *arg, const char *rel, const struct stat *st,
	      const struct mreg_error *err)
{
	struct seen *s = arg;
	size_t n;

	if (err) {
		if (st)
			s->bad++;
		n = strlen(s->errors);
		snprintf(s->errors + n, sizeof(s->errors) - n, "%s: %s\n",
			 err->path, err->message);
		s->nerrors++;
	} else {
		ok(st && S_ISREG(st->st_mode), "%s comes with its stat", rel);
		n = strlen(s->files);
		snprintf(s->files + n, sizeof(s->files) - n, "%s\n", rel);
		s->nfiles++;
	}
	if (s->stop_after && s->nfiles + s->nerrors >= s->stop_after)
		return 7;
	return 0;
}

static void touch(const char *rel)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		bail_out("cannot create test file");
	close(fd);
}

static void mk(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	mkdir(p, 0755);
}

static void ln(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (symlink(target, p) < 0)
		bail_out("cannot create symlink");
}


/* --- mreg_tree_open and the walk's confinement -------------------------- */

static char base[] = "/tmp/mreg-test-tree-XXXXXX";

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	f = fopen(p, "w");
	if (!f)
		bail_out("cannot create test file");
	fputs(text, f);
	fclose(f);
}

static void bmk(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	if (mkdir(p, 0755) < 0)
		bail_out("cannot create test directory");
}

static void bln(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	if (symlink(target, p) < 0)
		bail_out("cannot create symlink");
}

/* Open rel in t as want; the error message (or "") in msg. */
static int topen(const struct mreg_tree *t, const char *rel,
		 enum mreg_tree_want want, struct mreg_tree_found *f,
		 char *msg, size_t len)
{
	struct mreg_error err;
	int rc;

	mreg_error_clear(&err);
	rc = mreg_tree_open(t, rel, want, f, &err);
	snprintf(msg, len, "%s", rc < 0 ? err.message : "");
	return rc;
}

/* Read the file open as fd (closed here) into buf. */
static void slurp(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

static void test_tree(void)
{
	struct mreg_tree t = { -1, NULL, false };
	struct mreg_tree_found f;
	struct seen s;
	struct mreg_error err;
	char real[PATH_MAX], p[PATH_MAX], msg[1024], buf[64], want[PATH_MAX + 64];
	int rc;

	if (!mkdtemp(base))
		bail_out("mkdtemp failed");
	bmk("root");
	bmk("root/sub");
	bmk("root/.blobs");
	bmk("out");
	put("root/sub/a.json", "inside");
	put("root/.blobs/w.bin", "blob");
	put("out/secret.json", "outside");
	put("out/secret.txt", "outside");
	bmk("out/dir");
	put("out/dir/o.json", "outside dir");
	snprintf(p, sizeof(p), "%s/root/fifo.json", base);
	if (mkfifo(p, 0644) < 0)
		bail_out("mkfifo failed");
	bln("sub/a.json", "root/rel.json");            /* inside, relative */
	snprintf(p, sizeof(p), "%s/root/sub/a.json", base);
	bln(p, "root/abs.json");                       /* inside, absolute */
	bln("../../root/sub/a.json", "root/sub/back.txt"); /* out, back in */
	bln("../../out/secret.json", "root/sub/up.json"); /* out by ".." */
	snprintf(p, sizeof(p), "%s/out/secret.json", base);
	bln(p, "root/abs-out.json");                   /* out, absolute */
	bln("../out/secret.txt", "root/out.txt");      /* out, not matching */
	bln("../out/dir", "root/outdir");              /* a directory out */
	bln(".blobs", "root/blobs");                   /* a hidden dir, inside */
	bln("nowhere", "root/dangling.json");
	bln("loop.json", "root/loop.json");
	bln("sub", "root/subl");                       /* a link on the way */

	snprintf(p, sizeof(p), "%s/root", base);
	t.rootfd = open(p, O_RDONLY | O_DIRECTORY);
	if (t.rootfd < 0 || !realpath(p, real))
		bail_out("cannot open the tree");
	t.real = real;

	rc = topen(&t, "sub/a.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd >= 0 && !f.external, "a plain file opens");
	if (rc == 0)
		slurp(f.fd, buf, sizeof(buf));
	is_str(buf, "inside", "... and reads");
	rc = topen(&t, "rel.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd >= 0, "a relative link inside opens: %s", msg);
	if (rc == 0)
		close(f.fd);
	rc = topen(&t, "abs.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd >= 0, "an absolute link inside opens: %s", msg);
	if (rc == 0)
		close(f.fd);
	rc = topen(&t, "sub/back.txt", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd >= 0, "a link out by '..' and back in opens: %s",
	   msg);
	if (rc == 0)
		close(f.fd);
	rc = topen(&t, "subl/a.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd >= 0, "a link to a directory on the way: %s", msg);
	if (rc == 0)
		close(f.fd);
	rc = topen(&t, "blobs/w.bin", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd >= 0, "a link to a hidden directory inside: %s", msg);
	if (rc == 0)
		close(f.fd);

	snprintf(want, sizeof(want),
		 "symbolic link leads outside the tree, to \"%s/out/secret.json\"",
		 base);
	rc = topen(&t, "sub/up.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc < 0 && f.fd < 0 && f.external && f.errnum == EXDEV,
	   "a link out by '..' is refused");
	is_str(msg, want, "... naming where it leads");
	rc = topen(&t, "abs-out.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc < 0 && f.fd < 0 && f.external && f.errnum == EXDEV,
	   "an absolute link out is refused");
	is_str(msg, want, "... naming where it leads");
	rc = topen(&t, "outdir/o.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	snprintf(want, sizeof(want),
		 "symbolic link \"outdir\" leads outside the tree, to \"%s/out/dir/o.json\"",
		 base);
	ok(rc < 0 && f.external, "a file below a link out is refused");
	is_str(msg, want, "... naming the link");
	rc = topen(&t, "fifo.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc < 0 && f.fd < 0 && f.errnum == EINVAL && f.have_st &&
	   S_ISFIFO(f.st.st_mode), "a FIFO is not opened");
	is_str(msg, "not a regular file (a FIFO)", "... and says so");
	rc = topen(&t, "dangling.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc < 0 && f.errnum == ENOENT, "a dangling link");
	is_str(msg, "dangling symbolic link", "... is named so");
	rc = topen(&t, "subl/missing.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc < 0 && f.errnum == ENOENT && strstr(msg, "could not open"),
	   "a missing file below a good link is not a dangling link: %s", msg);
	rc = topen(&t, "loop.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc < 0 && f.errnum == ELOOP, "a link loop");
	is_str(msg, "symbolic link loop", "... is named so");
	rc = topen(&t, "sub", MREG_TREE_FILE, &f, msg, sizeof(msg));
	is_str(msg, "not a regular file (a directory)", "a directory is no file");
	rc = topen(&t, "", MREG_TREE_DIR, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd >= 0, "the root opens as a directory");
	if (rc == 0)
		close(f.fd);
	rc = topen(&t, "subl", MREG_TREE_DIR_OR_STAT, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd >= 0 && S_ISDIR(f.st.st_mode),
	   "DIR_OR_STAT opens a directory");
	if (rc == 0)
		close(f.fd);
	rc = topen(&t, "rel.json", MREG_TREE_DIR_OR_STAT, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd < 0 && S_ISREG(f.st.st_mode),
	   "... and stats a file");

	t.follow_external = true;
	rc = topen(&t, "abs-out.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd >= 0 && f.external,
	   "follow_external: a link out opens: %s", msg);
	if (rc == 0)
		slurp(f.fd, buf, sizeof(buf));
	is_str(buf, "outside", "... and reads the outside file");
	rc = topen(&t, "outdir/o.json", MREG_TREE_FILE, &f, msg, sizeof(msg));
	ok(rc == 0 && f.fd >= 0, "... a file below a directory out: %s", msg);
	if (rc == 0)
		close(f.fd);
	t.follow_external = false;

	/* the walk: inside links followed, outside ones reported */
	memset(&s, 0, sizeof(s));
	mreg_error_clear(&err);
	rc = mreg_walk(&t, "*.json", 0, cb, &s, &err);
	is_int(rc, 0, "the tree is walked");
	ok(strstr(s.files, "sub/a.json\n") && strstr(s.files, "rel.json\n") &&
	   strstr(s.files, "abs.json\n") && strstr(s.files, "subl/a.json\n"),
	   "files and links inside are found");
	ok(!strstr(s.files, "up.json") && !strstr(s.files, "abs-out.json") &&
	   !strstr(s.files, "o.json") && !strstr(s.files, "fifo.json"),
	   "nothing outside, no FIFO");
	ok(strstr(s.errors, "sub/up.json: symbolic link leads outside the tree") &&
	   strstr(s.errors, "abs-out.json: symbolic link leads outside the tree") &&
	   strstr(s.errors, "outdir: symbolic link leads outside the tree"),
	   "links out are reported");
	ok(!strstr(s.errors, "out.txt"),
	   "a link out that does not match the pattern is ignored");
	ok(strstr(s.errors, "fifo.json: not a regular file (a FIFO)") != NULL,
	   "a matching FIFO is reported");
	is_int(s.bad, 1, "... as a bad file (with its stat)");
	if (!strstr(s.errors, "outdir:"))
		diag("%s", s.errors);

	t.follow_external = true;
	memset(&s, 0, sizeof(s));
	rc = mreg_walk(&t, "*.json", 0, cb, &s, &err);
	ok(strstr(s.files, "outdir/o.json\n") && strstr(s.files, "abs-out.json\n"),
	   "follow_external: the walk follows links out");
	close(t.rootfd);
	snprintf(p, sizeof(p), "rm -rf %s", base);
	if (system(p) != 0)
		diag("could not remove %s", base);
}

/* --- the stat helpers: the same walk, in the same order ------------------ */

struct log {
	char *p;
	size_t len, cap;
	int n, stop_after;
};

static int log_cb(void *arg, const char *rel, const struct stat *st,
		  const struct mreg_error *err)
{
	struct log *l = arg;
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "%s %llu %lld %s\n", rel,
		     st ? (unsigned long long)st->st_ino : 0ULL,
		     st ? (long long)st->st_size : -1LL,
		     err ? err->message : "-");
	if (l->len + (size_t)n + 1 > l->cap) {
		l->cap = (l->len + (size_t)n + 1) * 2;
		l->p = realloc(l->p, l->cap);
		if (!l->p)
			bail_out("out of memory");
	}
	memcpy(l->p + l->len, line, (size_t)n + 1);
	l->len += (size_t)n;
	l->n++;
	return l->stop_after && l->n >= l->stop_after ? 7 : 0;
}

static void test_parallel(void)
{
	struct mreg_tree tree = { -1, NULL, false };
	struct log serial = { 0 }, par = { 0 }, cut = { 0 };
	struct mreg_error err;
	char rel[64], real[PATH_MAX], p[512];
	int i, d, fd, rc, helpers;

	/* windows of 256 entries: directories of 700 and 257 entries, one
	 * nested in the middle of a window, links, a FIFO, hidden files */
	mk("big");
	for (d = 0; d < 3; d++) {
		snprintf(rel, sizeof(rel), "big/d%d", d);
		mk(rel);
		for (i = 0; i < (d == 1 ? 257 : 700); i++) {
			snprintf(rel, sizeof(rel), "big/d%d/f%04d.json", d, i);
			touch(rel);
		}
	}
	mk("big/d0/sub");
	touch("big/d0/sub/in.json");
	touch("big/d0/.hidden.json");
	ln("f0001.json", "big/d0/link.json");
	ln("nowhere.json", "big/d2/dangling.json");
	snprintf(p, sizeof(p), "%s/big/d2/fifo.json", dir);
	if (mkfifo(p, 0644) < 0)
		bail_out("cannot create FIFO");

	snprintf(p, sizeof(p), "%s/big", dir);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || !realpath(p, real))
		bail_out("cannot open the big tree");
	tree.rootfd = fd;
	tree.real = real;
	rc = mreg_walk(&tree, "*.json", 0, log_cb, &serial, &err);
	is_int(rc, 0, "the big tree is walked without helpers");
	is_int(serial.n, 700 + 257 + 700 + 1 + 1 + 2, "every entry reported once");
	for (helpers = 1; helpers <= 3; helpers += 2) {
		free(par.p);
		memset(&par, 0, sizeof(par));
		rc = mreg_walk(&tree, "*.json", helpers, log_cb, &par, &err);
		is_int(rc, 0, "... and with %d stat helper(s)", helpers);
		ok(par.p && serial.p && strcmp(par.p, serial.p) == 0,
		   "... the same entries, stats and problems in the same order");
	}
	cut.stop_after = 500;
	rc = mreg_walk(&tree, "*.json", 3, log_cb, &cut, &err);
	is_int(rc, 7, "the callback stops a walk with helpers");
	ok(cut.p && serial.p && strncmp(cut.p, serial.p, cut.len) == 0 &&
	   cut.n == 500, "... after the same 500 entries");
	close(fd);
	free(serial.p);
	free(par.p);
	free(cut.p);
}

/*
 * Patterns of the form '*' + literal take a fast path (a suffix
 * compare); it must choose exactly the names fnmatch(3) does, as must
 * every other pattern.
 */
static void test_patterns(void)
{
	static const char *const names[] = {
		"a.json", "json", "x.JSON", "b.json.bak", "\xff.json",
		"\xc3\xa9.json", "c.jso", "d.json.json", "e.txt", ".json",
		"f", "g*.json", NULL,
	};
	static const char *const patterns[] = {
		"*.json", "*json", "*", "*.JSON", "*.json.bak", "*.j?on",
		"[a-z].json", "*\\*.json", "*.txt", "*x", NULL,
	};
	char pdir[] = "/tmp/mreg-test-pattern-XXXXXX", p[512];
	struct mreg_tree t = { -1, NULL, false };
	struct mreg_error err;
	struct seen s;
	char real[PATH_MAX];
	int i, k, fd;

	if (!mkdtemp(pdir) || !realpath(pdir, real))
		bail_out("mkdtemp failed");
	for (i = 0; names[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", pdir, names[i]);
		fd = open(p, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			bail_out("cannot create test file");
		close(fd);
	}
	t.rootfd = open(pdir, O_RDONLY | O_DIRECTORY);
	t.real = real;
	for (k = 0; patterns[k]; k++) {
		int nwant = 0, nwrong = 0;

		memset(&s, 0, sizeof(s));
		mreg_walk(&t, patterns[k], 0, cb, &s, &err);
		for (i = 0; names[i]; i++) {
			bool in;

			snprintf(p, sizeof(p), "\n%s\n", names[i]);
			/* the walk skips hidden files whatever the pattern */
			in = names[i][0] != '.' &&
			     fnmatch(patterns[k], names[i], FNM_PERIOD) == 0;
			nwant += in;
			/* s.files is "name\n..." : look for it whole */
			char hay[4200];
			snprintf(hay, sizeof(hay), "\n%s", s.files);
			if ((strstr(hay, p) != NULL) != in)
				nwrong++;
		}
		ok(nwrong == 0 && s.nfiles == nwant,
		   "pattern '%s': the names fnmatch(3) takes (%d of them)",
		   patterns[k], nwant);
		if (nwrong)
			diag("walk chose:\n%s", s.files);
	}
	close(t.rootfd);
	for (i = 0; names[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", pdir, names[i]);
		unlink(p);
	}
	rmdir(pdir);
}

int main(void)
{
	struct seen s;
	struct mreg_error err;
	struct mreg_tree tree = { -1, NULL, false };
	char real[PATH_MAX];
	int fd, rc;

	if (!mkdtemp(dir))
		bail_out("mkdtemp failed");
	mk("a");
	mk("a/b");
	touch("a/b/x.json");
	touch("a/y.json");
	touch("a/notes.txt");
	mk(".hidden");
	touch(".hidden/h.json");
	touch(".z.json");
	mk("c");
	ln("..", "c/up");              /* loop back to the root */
	ln("missing.json", "d.json");  /* dangling */
	ln("a/b/x.json", "l.json");    /* link to a file: followed */
	ln("self.json", "self.json");       /* ELOOP */

	fd = open(dir, O_RDONLY | O_DIRECTORY);
	tree.rootfd = fd;
	if (!realpath(dir, real))
		bail_out("realpath failed");
	tree.real = real;
	memset(&s, 0, sizeof(s));
	rc = mreg_walk(&tree, "*.json", 0, cb, &s, &err);
	is_int(rc, 0, "walk finishes");
	is_int(s.nfiles, 3, "three matching files");
	ok(strstr(s.files, "a/b/x.json\n") && strstr(s.files, "a/y.json\n") &&
	   strstr(s.files, "l.json\n"), "nested files and a link to a file");
	ok(!strstr(s.files, "h.json") && !strstr(s.files, ".z.json"),
	   "hidden directories and files skipped");
	ok(!strstr(s.files, "notes.txt"), "pattern applies");
	is_int(s.nerrors, 3, "three problems reported");
	ok(strstr(s.errors, "c/up: symbolic link loop") != NULL, "loop reported");
	ok(strstr(s.errors, "d.json: dangling symbolic link") != NULL,
	   "dangling link reported");
	ok(strstr(s.errors, "self.json: symbolic link loop") != NULL,
	   "self link reported");
	if (s.nerrors != 3)
		diag("%s", s.errors);

	memset(&s, 0, sizeof(s));
	rc = mreg_walk(&tree, "a/*/*.json", 0, cb, &s, &err);
	is_int(s.nfiles, 1, "a pattern with '/' matches the relative path");
	ok(strstr(s.files, "a/b/x.json") != NULL, "a/b/x.json matched");

	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	rc = mreg_walk(&tree, "*.json", 0, cb, &s, &err);
	is_int(rc, 7, "the callback stops the walk");

	if (geteuid() != 0) {
		char p[512];
		snprintf(p, sizeof(p), "%s/a", dir);
		chmod(p, 0);
		memset(&s, 0, sizeof(s));
		mreg_walk(&tree, "*.json", 0, cb, &s, &err);
		ok(strstr(s.errors, "a: could not open directory") != NULL,
		   "unreadable directory reported");
		chmod(p, 0755);
	}
	close(fd);

	fd = open("/dev/null", O_RDONLY);
	tree.rootfd = fd;
	ok(mreg_walk(&tree, "*.json", 0, cb, &s, &err) == -1 &&
	   strstr(err.message, "not a directory"), "root must be a directory");
	close(fd);
	{
		char up[256], got[PATH_MAX], cwd0[PATH_MAX], cwd1[PATH_MAX];
		struct stat a, g;
		snprintf(up, sizeof(up), "%s/c/up/a", dir);
		fd = open(up, O_RDONLY | O_DIRECTORY);
		ok(fd >= 0 && fstat(fd, &a) == 0 && getcwd(cwd0, sizeof(cwd0)),
		   "open a directory through a symbolic link");
		is_int(mreg_dir_realpath(fd, got, sizeof(got)), 0,
		       "real path of an open directory");
		ok(got[0] == '/' && !strstr(got, "/up") &&
		   stat(got, &g) == 0 && g.st_ino == a.st_ino &&
		   g.st_dev == a.st_dev, "absolute, links resolved: \"%s\"",
		   got);
		ok(getcwd(cwd1, sizeof(cwd1)) && strcmp(cwd0, cwd1) == 0,
		   "working directory unchanged");
		ok(mreg_dir_realpath(fd, got, 4) == -1 && errno == ERANGE,
		   "too small a buffer: ERANGE");
		close(fd);
		ok(mreg_dir_realpath(-1, got, sizeof(got)) == -1 &&
		   errno == EBADF, "a bad descriptor: EBADF");
	}
	test_parallel();
	test_patterns();
	test_tree();
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return tap_done();
}
