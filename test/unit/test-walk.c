/* test-walk.c - the recursive walk: matching, hidden entries, loops */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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
};

static int cb(void *arg, const char *rel, const struct stat *st,
	      const struct mreg_error *err)
{
	struct seen *s = arg;
	size_t n;

	if (err) {
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
	rc = mreg_walk(&tree, "*.json", cb, &s, &err);
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
	rc = mreg_walk(&tree, "a/*/*.json", cb, &s, &err);
	is_int(s.nfiles, 1, "a pattern with '/' matches the relative path");
	ok(strstr(s.files, "a/b/x.json") != NULL, "a/b/x.json matched");

	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	rc = mreg_walk(&tree, "*.json", cb, &s, &err);
	is_int(rc, 7, "the callback stops the walk");

	if (geteuid() != 0) {
		char p[512];
		snprintf(p, sizeof(p), "%s/a", dir);
		chmod(p, 0);
		memset(&s, 0, sizeof(s));
		mreg_walk(&tree, "*.json", cb, &s, &err);
		ok(strstr(s.errors, "a: could not open directory") != NULL,
		   "unreadable directory reported");
		chmod(p, 0755);
	}
	close(fd);

	fd = open("/dev/null", O_RDONLY);
	tree.rootfd = fd;
	ok(mreg_walk(&tree, "*.json", cb, &s, &err) == -1 &&
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
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return tap_done();
}
