/* migrate-load.c - the migrations mreg carries (embedded at build time)
 * or reads from a directory, checked and sorted (see migrate.h) */
#include "migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "migrations.h"
#include "sha256.h"

static bool has_no_transaction_marker(const char *sql, size_t len)
{
	static const char marker[] = "-- mreg:no-transaction";
	const char *p = sql, *end = sql + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\r'))
			n--;
		if (n == sizeof(marker) - 1 && memcmp(p, marker, n) == 0)
			return true;
		if (!nl)
			break;
		p = nl + 1;
	}
	return false;
}

static int parse_name(const char *name, int *version)
{
	size_t n = strlen(name), i;

	if (n < 10 || strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
		return -1;
	for (i = 0; i < 4; i++)
		if (!isdigit((unsigned char)name[i]))
			return -1;
	for (i = 5; i < n - 4; i++)
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '_')
			return -1;
	*version = atoi(name);
	return 0;
}

static int add_migration(struct mreg_migration_set *set, int version,
			 const char *name, const char *sql, size_t len,
			 struct mreg_error *err)
{
	struct mreg_migration *m, *items;
	size_t i;

	for (i = 0; i < set->count; i++) {
		if (set->items[i].version == version) {
			mreg_error_set(err, MREG_EXIT_DATA,
				       "migrations \"%s\" and \"%s\" share "
				       "version %04d", set->items[i].name,
				       name, version);
			return -1;
		}
	}
	items = realloc(set->items, (set->count + 1) * sizeof(*items));
	if (!items)
		goto nomem;
	set->items = items;
	m = &set->items[set->count];
	memset(m, 0, sizeof(*m));
	m->version = version;
	m->name = strdup(name);
	m->sql = malloc(len + 1);
	if (!m->name || !m->sql) {
		free(m->name);
		free(m->sql);
		goto nomem;
	}
	memcpy(m->sql, sql, len);
	m->sql[len] = '\0';
	m->len = len;
	m->no_transaction = has_no_transaction_marker(sql, len);
	if (mreg_sha256_hex(sql, len, m->checksum) < 0) {
		free(m->name);
		free(m->sql);
		mreg_error_set(err, MREG_EXIT_FAILURE, "SHA-256 failed");
		return -1;
	}
	set->count++;
	return 0;
nomem:
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

static int read_file(const char *path, char **data, size_t *len,
		     struct mreg_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, ebuf[128];
	size_t cap = 0, n = 0, r;

	if (!f)
		goto fail;
	for (;;) {
		if (n == cap) {
			char *p = realloc(buf, cap ? cap * 2 : 8192);

			if (!p)
				goto fail;
			buf = p;
			cap = cap ? cap * 2 : 8192;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	*data = buf;
	*len = n;
	return 0;
fail:
	mreg_error_set(err, MREG_EXIT_FAILURE, "could not read \"%s\": %s",
		       path, mreg_strerror(errno, ebuf, sizeof(ebuf)));
	if (f)
		fclose(f);
	free(buf);
	return -1;
}

static int by_version(const void *a, const void *b)
{
	const struct mreg_migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

int mreg_migrations_load(struct mreg_migration_set *set,
			 const char *extra_dir, struct mreg_error *err)
{
	DIR *dir = NULL;
	struct dirent *de;
	int i;

	memset(set, 0, sizeof(*set));
	for (i = 0; i < mreg_embedded_migrations_count; i++) {
		const struct mreg_migration_src *src =
			&mreg_embedded_migrations[i];

		if (add_migration(set, src->version, src->file, src->sql,
				  src->len, err) < 0)
			goto fail;
	}
	if (extra_dir && *extra_dir) {
		char ebuf[128];

		dir = opendir(extra_dir);
		if (!dir) {
			mreg_error_set(err, MREG_EXIT_FAILURE,
				       "could not open migrations directory "
				       "\"%s\": %s", extra_dir,
				       mreg_strerror(errno, ebuf, sizeof(ebuf)));
			goto fail;
		}
		while ((de = readdir(dir)) != NULL) {
			char path[4096], *data = NULL;
			size_t len = 0;
			int version, rc;

			if (de->d_name[0] == '.' ||
			    strlen(de->d_name) < 4 ||
			    strcmp(de->d_name + strlen(de->d_name) - 4, ".sql"))
				continue;
			if (parse_name(de->d_name, &version) < 0) {
				mreg_error_set(err, MREG_EXIT_DATA,
					       "\"%s/%s\": expected a name like "
					       "NNNN_name.sql", extra_dir,
					       de->d_name);
				goto fail;
			}
			snprintf(path, sizeof(path), "%s/%s", extra_dir,
				 de->d_name);
			if (read_file(path, &data, &len, err) < 0)
				goto fail;
			rc = add_migration(set, version, de->d_name, data, len,
					   err);
			free(data);
			if (rc < 0)
				goto fail;
		}
		closedir(dir);
		dir = NULL;
	}
	qsort(set->items, set->count, sizeof(*set->items), by_version);
	return 0;
fail:
	if (dir)
		closedir(dir);
	mreg_migrations_finish(set);
	return -1;
}

void mreg_migrations_finish(struct mreg_migration_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->count; i++) {
		free(set->items[i].name);
		free(set->items[i].sql);
	}
	free(set->items);
	set->items = NULL;
	set->count = 0;
}
