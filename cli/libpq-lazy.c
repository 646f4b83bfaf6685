/* libpq-lazy.c - libpq loaded on a thread while mreg starts, and the
 * binary's PQ* functions that call it (see libpq-lazy.h) */
#include "libpq-lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "error.h"

#ifndef MREG_LIBPQ_PATH
#define MREG_LIBPQ_PATH "libpq.so.5"
#endif

/* parameter lists libpq's blocking and asynchronous calls share */
#define CONNECT_PARAMS                                         \
	(const char *const *keywords, const char *const *values, \
	 int expand_dbname)
#define CONNECT_ARGS (keywords, values, expand_dbname)
#define QUERY_PARAMS                                                        \
	(PGconn *conn, const char *command, int nParams,                    \
	 const Oid *paramTypes, const char *const *paramValues,             \
	 const int *paramLengths, const int *paramFormats, int resultFormat)
#define QUERY_ARGS                                                      \
	(conn, command, nParams, paramTypes, paramValues, paramLengths, \
	 paramFormats, resultFormat)
#define PREPARED_PARAMS                                           \
	(PGconn *conn, const char *stmtName, int nParams,         \
	 const char *const *paramValues, const int *paramLengths, \
	 const int *paramFormats, int resultFormat)
#define PREPARED_ARGS                                                      \
	(conn, stmtName, nParams, paramValues, paramLengths, paramFormats, \
	 resultFormat)

/*
 * Every libpq function the binary calls: X(return type, name, (parameters),
 * (arguments)) for those that return a value, V(...) for the void ones.
 * A declaration here that differs from libpq-fe.h's does not compile.
 */
#define MREG_PQ_FUNCTIONS(X, V)                                              \
	X(int, PQcancel, (PGcancel *cancel, char *errbuf, int errbufsize),    \
	  (cancel, errbuf, errbufsize))                                      \
	V(PQclear, (PGresult *res), (res))                                    \
	X(char *, PQcmdStatus, (PGresult *res), (res))                        \
	X(char *, PQcmdTuples, (PGresult *res), (res))                        \
	X(PQconninfoOption *, PQconndefaults, (void), ())                     \
	X(PGconn *, PQconnectStartParams, CONNECT_PARAMS, CONNECT_ARGS)      \
	X(PGconn *, PQconnectdbParams, CONNECT_PARAMS, CONNECT_ARGS)         \
	X(PostgresPollingStatusType, PQconnectPoll, (PGconn *conn), (conn))   \
	X(PQconninfoOption *, PQconninfo, (PGconn *conn), (conn))             \
	V(PQconninfoFree, (PQconninfoOption *connOptions), (connOptions))     \
	X(PQconninfoOption *, PQconninfoParse,                                \
	  (const char *conninfo, char **errmsg), (conninfo, errmsg))          \
	X(int, PQconsumeInput, (PGconn *conn), (conn))                        \
	X(char *, PQdb, (const PGconn *conn), (conn))                         \
	X(char *, PQerrorMessage, (const PGconn *conn), (conn))               \
	X(PGresult *, PQexec, (PGconn *conn, const char *query),              \
	  (conn, query))                                                     \
	X(PGresult *, PQexecParams, QUERY_PARAMS, QUERY_ARGS)                \
	X(PGresult *, PQexecPrepared, PREPARED_PARAMS, PREPARED_ARGS)        \
	V(PQfinish, (PGconn *conn), (conn))                                   \
	X(char *, PQfname, (const PGresult *res, int field_num),              \
	  (res, field_num))                                                  \
	V(PQfreeCancel, (PGcancel *cancel), (cancel))                         \
	V(PQfreemem, (void *ptr), (ptr))                                      \
	X(PGcancel *, PQgetCancel, (PGconn *conn), (conn))                    \
	X(int, PQgetCopyData, (PGconn *conn, char **buffer, int async),       \
	  (conn, buffer, async))                                             \
	X(PGresult *, PQgetResult, (PGconn *conn), (conn))                    \
	X(int, PQgetisnull, (const PGresult *res, int tup_num, int field_num), \
	  (res, tup_num, field_num))                                         \
	X(int, PQgetlength, (const PGresult *res, int tup_num, int field_num), \
	  (res, tup_num, field_num))                                         \
	X(char *, PQgetvalue, (const PGresult *res, int tup_num,              \
				int field_num),                              \
	  (res, tup_num, field_num))                                         \
	X(char *, PQhost, (const PGconn *conn), (conn))                       \
	X(int, PQisBusy, (PGconn *conn), (conn))                              \
	X(int, PQlibVersion, (void), ())                                      \
	X(int, PQnfields, (const PGresult *res), (res))                       \
	X(PGnotify *, PQnotifies, (PGconn *conn), (conn))                     \
	X(int, PQntuples, (const PGresult *res), (res))                       \
	X(char *, PQport, (const PGconn *conn), (conn))                       \
	X(PGresult *, PQprepare,                                              \
	  (PGconn *conn, const char *stmtName, const char *query,             \
	   int nParams, const Oid *paramTypes),                               \
	  (conn, stmtName, query, nParams, paramTypes))                       \
	X(int, PQputCopyData, (PGconn *conn, const char *buffer, int nbytes), \
	  (conn, buffer, nbytes))                                            \
	X(int, PQputCopyEnd, (PGconn *conn, const char *errormsg),            \
	  (conn, errormsg))                                                  \
	X(char *, PQresStatus, (ExecStatusType status), (status))             \
	X(char *, PQresultErrorField, (const PGresult *res, int fieldcode),   \
	  (res, fieldcode))                                                  \
	X(char *, PQresultErrorMessage, (const PGresult *res), (res))         \
	X(ExecStatusType, PQresultStatus, (const PGresult *res), (res))       \
	X(int, PQsendQuery, (PGconn *conn, const char *query), (conn, query)) \
	X(int, PQsendQueryParams, QUERY_PARAMS, QUERY_ARGS)                  \
	X(int, PQsendQueryPrepared, PREPARED_PARAMS, PREPARED_ARGS)          \
	X(PQnoticeProcessor, PQsetNoticeProcessor,                            \
	  (PGconn *conn, PQnoticeProcessor proc, void *arg),                  \
	  (conn, proc, arg))                                                 \
	X(PQnoticeReceiver, PQsetNoticeReceiver,                              \
	  (PGconn *conn, PQnoticeReceiver proc, void *arg),                   \
	  (conn, proc, arg))                                                 \
	X(int, PQsetSingleRowMode, (PGconn *conn), (conn))                    \
	X(int, PQsocket, (const PGconn *conn), (conn))                        \
	X(ConnStatusType, PQstatus, (const PGconn *conn), (conn))             \
	X(PGTransactionStatusType, PQtransactionStatus, (const PGconn *conn), \
	  (conn))

/* libpq's functions, set once by load() */
#define POINTER(ret, name, params, args) ret(*name) params;
#define VPOINTER(name, params, args) void(*name) params;
static struct {
	MREG_PQ_FUNCTIONS(POINTER, VPOINTER)
} pq;

static pthread_once_t loaded = PTHREAD_ONCE_INIT;
static atomic_bool ready;  /* every pointer set: the calls' fast path */
static char failure[512]; /* why libpq could not be had, set by load() */

/* Set *fp (a function pointer) to libpq's name. */
static void symbol(void *lib, const char *name, void *fp)
{
	void *p = dlsym(lib, name);

	if (!p && !failure[0])
		snprintf(failure, sizeof(failure), "%s has no %s",
			 MREG_LIBPQ_PATH, name);
	memcpy(fp, &p, sizeof(p));
}

static void load(void)
{
	/* the libpq mreg was built against, else the loader's search path */
	void *lib = dlopen(MREG_LIBPQ_PATH, RTLD_NOW | RTLD_LOCAL);
	const char *why;

	if (!lib) {
		why = dlerror();
		snprintf(failure, sizeof(failure), "%s",
			 why ? why : MREG_LIBPQ_PATH ": cannot be loaded");
		lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
		if (!lib)
			return;
		failure[0] = '\0';
	}
	/* never unloaded: its functions are called until the process ends */
#define LOOKUP(ret, name, params, args) symbol(lib, #name, &pq.name);
#define VLOOKUP(name, params, args) symbol(lib, #name, &pq.name);
	MREG_PQ_FUNCTIONS(LOOKUP, VLOOKUP)
	if (!failure[0])
		atomic_store_explicit(&ready, true, memory_order_release);
}

void mreg_libpq_wait(void)
{
	if (atomic_load_explicit(&ready, memory_order_acquire))
		return;
	pthread_once(&loaded, load);
	if (failure[0]) {
		/* stderr only: nothing of the command's output can be trusted */
		fprintf(stderr, "mreg: cannot load libpq: %s\n", failure);
		exit(MREG_EXIT_FAILURE);
	}
}

static void *preloader(void *arg)
{
	pthread_once(&loaded, load);
	return arg;
}

/*
 * At exit: let a load still under way finish first.  exit() runs the
 * libraries' destructors, and nothing else orders them after the loader
 * thread's constructors (TSan saw the main thread free what the loader
 * thread had allocated); pthread_once does.
 */
static void settle(void)
{
	pthread_once(&loaded, load);
}

void mreg_libpq_preload(void)
{
	pthread_attr_t attr;
	pthread_t t;

	if (atexit(settle) != 0 || pthread_attr_init(&attr) != 0)
		return;
	if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0)
		(void)pthread_create(&t, &attr, preloader, NULL);
	pthread_attr_destroy(&attr);
}

/* The binary's PQ* functions: wait for the load, then call libpq's. */
#define FORWARD(ret, name, params, args)                                      \
	ret name params                                                      \
	{                                                                    \
		mreg_libpq_wait();                                           \
		return pq.name args;                                         \
	}
#define VFORWARD(name, params, args)                                          \
	void name params                                                     \
	{                                                                    \
		mreg_libpq_wait();                                           \
		pq.name args;                                                \
	}
MREG_PQ_FUNCTIONS(FORWARD, VFORWARD)
