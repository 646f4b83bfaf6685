/* migrations.h - the SQL migrations embedded at build time (sql/embed.py) */
#ifndef MREG_MIGRATIONS_H
#define MREG_MIGRATIONS_H

#include <stddef.h>

struct mreg_migration_src {
	int version;      /* NNNN from the file name */
	const char *file; /* "0001_initial.sql" */
	const char *sql;  /* the file's exact bytes */
	size_t len;
};

extern const struct mreg_migration_src mreg_embedded_migrations[];
extern const int mreg_embedded_migrations_count;

#endif
