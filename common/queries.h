/* queries.h - the SQL of the registry's hot read and write paths
 *
 * One definition shared by the commands (cli/default.c, list.c, ...) and
 * by 'mreg bench', which must measure exactly what the commands run.
 * Every value is a $n parameter.
 */
#ifndef MREG_QUERIES_H
#define MREG_QUERIES_H

/* $1 type -> one row: "provider/name" of that type's default, or none. */
#define MREG_SQL_GET_DEFAULT                                                 \
	"SELECT p.name || '/' || m.name"                                     \
	"  FROM mreg.model_defaults d"                                       \
	"  JOIN mreg.models m ON m.id = d.model_id"                          \
	"  JOIN mreg.providers p ON p.id = m.provider_id"                    \
	" WHERE d.type = $1"

#endif
