/* replay.c - run the committed corpus through a fuzz target, no libFuzzer
 *
 *   replay-<name> FILE|DIR...
 *
 * Feeds every file (a directory: its files, sorted, dot files skipped) to
 * LLVMFuzzerTestOneInput() in a buffer of exactly its size, so that the
 * sanitizers of a sanitized build see any overread, and prints one TAP
 * line per file.  A property violation aborts, which fails the test.  No
 * file at all is a failure too: a missing corpus must not pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fuzz.h"

/* Optional in a target; replay calls it when the target has one. */
#pragma weak LLVMFuzzerInitialize

static int count;
static int failed;

static void replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long size;
	char ebuf[128];

	count++;
	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		printf("not ok %d - %s: %s\n", count, path,
		       mreg_strerror(errno, ebuf, sizeof(ebuf)));
		failed++;
		if (f)
			fclose(f);
		return;
	}
	/* exactly size bytes (malloc(0) may be NULL: use one spare byte) */
	buf = malloc(size > 0 ? (size_t)size : 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		printf("not ok %d - %s: could not read\n", count, path);
		failed++;
		free(buf);
		fclose(f);
		return;
	}
	fclose(f);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	printf("ok %d - %s\n", count, path);
	fflush(stdout);
}

static int skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void replay(const char *path)
{
	struct dirent **names = NULL;
	struct stat st;
	int n, i;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		n = scandir(path, &names, skip_dot, alphasort);
		if (n < 0) {
			printf("not ok %d - %s: cannot list\n", ++count, path);
			failed++;
			return;
		}
		for (i = 0; i < n; i++) {
			size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
			char *p = malloc(len);

			if (p) {
				snprintf(p, len, "%s/%s", path, names[i]->d_name);
				replay(p);
				free(p);
			}
			free(names[i]);
		}
		free(names);
		return;
	}
	replay_file(path);
}

int main(int argc, char **argv)
{
	int i;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		replay(argv[i]);
	if (count == 0) {
		printf("not ok 1 - no corpus file given\n");
		count = failed = 1;
	}
	printf("1..%d\n", count);
	return failed ? 1 : 0;
}
