/* output-impl.h - what output.c and output-table.c share (not an API) */
#ifndef MREG_OUTPUT_IMPL_H
#define MREG_OUTPUT_IMPL_H

#include "output.h"

#include <stdbool.h>
#include <stdio.h>

struct mreg_output {
	FILE *out;
	struct mreg_output_config cfg;
	const struct mreg_column *cols;
	int ncols;
	long long rows;  /* rows written or held */
	int werrno;      /* first write error */
	bool finished;
	const char *at;  /* json: the envelope's "at", or NULL */
	/* table */
	size_t *width;   /* per column, once sized */
	bool *dropped;   /* per column: left out to fit (NULL: none) */
	char **held;     /* window * ncols escaped cells */
	size_t *held_cols;
	size_t nheld;
	bool sized;
};

/* 1 for true, 0 for false, -1 for anything else (as the server prints) */
int mreg_output_bool(const char *s);
/* the table writer: one row (held until sized), and the end */
int mreg_table_row(struct mreg_output *o, const char *const *values,
		   struct mreg_error *err);
void mreg_table_flush_held(struct mreg_output *o);
/* the rows still held, then which columns were left out to fit */
void mreg_table_finish(struct mreg_output *o);

#endif
