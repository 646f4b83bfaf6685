/* watch.c - mreg watch: every committed change, one NDJSON line each
 *
 * The reading is common/watch.c (exactly once and in id order: see the
 * comment there); this file is the loop around it.  It waits with poll()
 * on the connection's socket and on a self-pipe the SIGINT/SIGTERM
 * handler writes to, so a signal ends the wait at once and a line being
 * printed is always finished first (exit 0, never half a line).  A lost
 * connection (a restarted server, a terminated backend) is opened again
 * with backoff, 100 ms doubling to 5 s, one message per attempt through
 * the log layer; the watch then LISTENs again and catches up from the
 * last id it read before it waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "connect.h"
#include "jsontext.h"
#include "registry.h"
#include "watch.h"

enum { OPT_AFTER_ID = 256, OPT_TYPE, OPT_MODEL, OPT_ACTION };

#define IDLE_MS 5000      /* read anyway: rows written without a NOTIFY */
#define GAP_FIRST_MS 10   /* waiting at a gap: 10 ms doubling to 500 ms */
#define GAP_MAX_MS 500
#define GAP_TELL_MS 10000 /* say so when a gap holds the output this long */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000

static const struct cli_option options[] = {
	{ 'o', 'o', "format", "FORMAT",
	  "ndjson (the default and the only one: one object per line)" },
	{ OPT_AFTER_ID, 0, "after-id", "N",
	  "first print the entries after audit id N, then follow (default: "
	  "only changes from now on)" },
	CLI_GROUP("Filters (what is printed; every one given must match):"),
	{ OPT_TYPE, 0, "type", "TYPE",
	  "changes of models of this type and of its default" },
	{ OPT_MODEL, 0, "model", "PROVIDER/NAME",
	  "changes of this model (through renames), its artifacts, its "
	  "defaults" },
	{ OPT_ACTION, 0, "action", "ACTION",
	  "entries of this action (default.set, model.*, ...; repeatable, "
	  "or a comma list)" },
	CLI_END,
};

const struct cli_spec cmd_watch_spec = {
	.usage = "[--after-id N] [--type TYPE] [--model MODEL] "
		 "[--action A]...",
	.description = "Print each committed change of the registry as one "
		       "NDJSON line, as it happens.",
	.options = options,
	.epilogue = "Stops on SIGINT or SIGTERM (exit 0) after the line it "
		    "is printing.  To resume\nwithout a gap or a duplicate, "
		    "pass the last id printed to --after-id.",
};

/* The audit log's actions (sql/0002_audit.sql), and their kinds. */
static const char *const actions[] = {
	"model.create", "model.update", "model.delete", "artifact.create",
	"artifact.update", "artifact.delete", "default.set", "default.clear",
	"provider.create", "provider.update", "provider.delete",
	"migration.apply", "audit.prune", NULL,
};

struct opts {
	const struct cli_ctx *ctx;
	long long after_id; /* -1: from now on */
	const char *type, *model;
	char actions[1024]; /* a text[] literal "{a,b}", or "" */
};

static bool known_action(const char *a, size_t n)
{
	size_t i;

	for (i = 0; actions[i]; i++) {
		const char *dot = strchr(actions[i], '.');

		if (strlen(actions[i]) == n && strncmp(actions[i], a, n) == 0)
			return true;
		/* "model.*": every action of a kind */
		if (n == (size_t)(dot - actions[i]) + 2 &&
		    strncmp(actions[i], a, n - 1) == 0 && a[n - 1] == '*')
			return true;
	}
	return false;
}

/* --action A[,B...]: checked names into the text[] literal */
static int add_actions(struct opts *o, const char *arg)
{
	const char *p = arg;

	do {
		size_t n = strcspn(p, ","), have = strlen(o->actions);

		if (!known_action(p, n))
			return cli_usage(o->ctx, "unknown action '%.*s' (model."
					 "update, default.set, model.*, ...: "
					 "see mreg-watch(1))", (int)n, p);
		if (have + n + 3 > sizeof(o->actions))
			return cli_usage(o->ctx, "too many --action values");
		snprintf(o->actions + have, sizeof(o->actions) - have,
			 "%s%.*s}", have ? "" : "{", (int)n, p);
		if (have)
			o->actions[have - 1] = ',';
		p += n;
	} while (*p++ == ',');
	return 0;
}

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;
	struct mreg_error err;
	char provider[256];
	const char *name;
	long n;

	switch (id) {
	case 'o':
		if (strcmp(arg, "ndjson") != 0)
			return cli_usage(o->ctx, "--format must be ndjson, not "
					 "'%s'", arg);
		return 0;
	case OPT_AFTER_ID:
		if (cli_parse_long(arg, 0, 9223372036854775807L, &n) < 0)
			return cli_usage(o->ctx, "invalid audit id '%s' for "
					 "--after-id (0 or more)", arg);
		o->after_id = n;
		return 0;
	case OPT_TYPE:
		o->type = arg;
		return 0;
	case OPT_MODEL:
		if (mreg_identity_split(arg, provider, sizeof(provider), &name,
					&err) < 0)
			return cli_usage(o->ctx, "--model takes PROVIDER/NAME, "
					 "not '%s'", arg);
		o->model = arg;
		return 0;
	case OPT_ACTION:
		return add_actions(o, arg);
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* --- signals: a flag, and a byte in a pipe to end poll() ------------------ */

static volatile sig_atomic_t got_signal;
static int wake_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;

	got_signal = sig;
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], "", 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
	errno = saved;
}

static int catch_signals(void)
{
	struct sigaction sa;
	int i;

	if (pipe(wake_pipe) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		fcntl(wake_pipe[i], F_SETFL,
		      fcntl(wake_pipe[i], F_GETFL) | O_NONBLOCK);
		fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART; /* stdio and libpq carry on, then we stop */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return 0;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait up to ms for input on fd (-1: none), a signal, or the reader of
 * standard output going away (a pipe's POLLERR, a terminal's POLLHUP: an
 * idle watch would otherwise only learn it at its next line): 1 stop, 0
 * otherwise (*readable says whether fd has input).
 */
static int wait_for_input(int fd, int ms, bool *readable)
{
	struct pollfd p[3] = { { wake_pipe[0], POLLIN, 0 },
			       { STDOUT_FILENO, 0, 0 },
			       { fd, POLLIN, 0 } };
	long long end = mono_ms() + ms;
	int n;

	*readable = false;
	for (;;) {
		if (got_signal)
			return 1;
		n = poll(p, fd >= 0 ? 3 : 2, (int)(end - mono_ms()));
		if (n < 0 && errno == EINTR)
			continue;
		if (got_signal || (n > 0 && (p[1].revents & (POLLERR | POLLHUP))))
			return 1;
		*readable = n > 0 && fd >= 0 && p[2].revents;
		return 0;
	}
}

/* --- the loop -------------------------------------------------------------- */

struct run {
	struct cli_ctx *ctx;
	struct mreg_watch *w;
	int write_errno;    /* the write to stdout failed with this */
	long long gap_id;   /* the gap being waited at, and since when */
	long long gap_since;
	bool gap_told;
};

static int emit(void *arg, long long id, const char *line, size_t len)
{
	struct run *r = arg;

	(void)id;
	if (line) {
		errno = 0;
		if (mreg_json_write(stdout, line, len, 0) < 0 ||
		    putchar('\n') == EOF || fflush(stdout) != 0) {
			r->write_errno = errno ? errno : EIO;
			return 1;
		}
	}
	return got_signal != 0;
}

/*
 * Connect again after a lost connection, with backoff, until it works or
 * a signal comes: 0 connected, -1 signal, else an exit status.
 */
static int reconnect(struct run *r, const struct mreg_error *why)
{
	int delay = RETRY_FIRST_MS, attempt = 0, rc;
	struct mreg_error err;
	bool readable;

	cli_warn(r->ctx, "lost the connection: %s%s%s", why->message,
		 why->detail[0] ? ": " : "", why->detail);
	for (;;) {
		cli_warn(r->ctx, "reconnecting in %d ms (attempt %d)", delay,
			 ++attempt);
		if (wait_for_input(-1, delay, &readable))
			return -1;
		rc = mreg_watch_connect(r->w, &err);
		if (rc == MREG_WATCH_IDLE)
			break;
		if (rc == MREG_WATCH_FAILED)
			return cli_report(r->ctx, &err);
		cli_warn(r->ctx, "attempt %d failed: %s", attempt, err.message);
		delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
	}
	cli_info(r->ctx, "reconnected; catching up after audit id %lld",
		 mreg_watch_last(r->w));
	return 0;
}

/* How long to wait before reading again; says so once on a long gap. */
static int next_wait(struct run *r, int rc, int *gap_ms)
{
	long long gap = mreg_watch_gap(r->w), now = mono_ms();

	if (rc != MREG_WATCH_GAP) {
		*gap_ms = 0;
		r->gap_id = -1;
		return IDLE_MS;
	}
	if (gap != r->gap_id) {
		r->gap_id = gap;
		r->gap_since = now;
		r->gap_told = false;
		*gap_ms = 0;
		cli_verbose(r->ctx, "waiting at a gap after audit id %lld", gap);
	}
	if (!r->gap_told && now - r->gap_since >= GAP_TELL_MS) {
		r->gap_told = true;
		cli_info(r->ctx, "waiting after audit id %lld: a transaction "
			 "open since a later id was taken has not ended yet",
			 gap);
	}
	*gap_ms = !*gap_ms ? GAP_FIRST_MS
			   : (*gap_ms * 2 > GAP_MAX_MS ? GAP_MAX_MS
						       : *gap_ms * 2);
	return *gap_ms;
}

static int write_failed(struct run *r)
{
	char buf[128];

	if (r->write_errno == EPIPE)
		return 0; /* the reader went away: not an error */
	return cli_fail(r->ctx, MREG_EXIT_FAILURE,
			"could not write to standard output: %s",
			mreg_strerror(r->write_errno, buf, sizeof(buf)));
}

static int follow(struct run *r)
{
	struct mreg_error err;
	int rc, gap_ms = 0, ms;
	bool readable;

	for (;;) {
		rc = mreg_watch_read(r->w, emit, r, &err);
		if (r->write_errno)
			return write_failed(r);
		if (got_signal || rc == MREG_WATCH_STOPPED)
			return 0;
		if (rc == MREG_WATCH_FAILED) {
			mreg_error_prefix(&err, "could not read the audit log");
			return cli_report(r->ctx, &err);
		}
		if (rc == MREG_WATCH_LOST) {
			rc = reconnect(r, &err);
			if (rc != 0)
				return rc < 0 ? 0 : rc;
			continue;
		}
		ms = next_wait(r, rc, &gap_ms);
		if (wait_for_input(mreg_watch_socket(r->w), ms, &readable))
			return 0;
		if (readable &&
		    mreg_watch_consume(r->w, &err) == MREG_WATCH_LOST) {
			rc = reconnect(r, &err);
			if (rc != 0)
				return rc < 0 ? 0 : rc;
		}
	}
}

static int start(struct cli_ctx *ctx, const struct opts *o,
		 struct mreg_connector *conn, struct mreg_watch **w)
{
	struct mreg_watch_filter f = { o->type, o->model,
				       o->actions[0] ? o->actions : NULL };
	struct mreg_error err;
	int rc;

	if (mreg_connector_init(conn, ctx->dsn, ctx->appname, 0, &err) < 0 ||
	    !(*w = mreg_watch_create(conn, &f, o->after_id)))
		return cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
	cli_verbose(ctx, "connecting to %s (a connection of its own, %s)",
		    conn->redacted, conn->timeout_text);
	rc = mreg_watch_connect(*w, &err);
	if (rc != MREG_WATCH_IDLE)
		return cli_report(ctx, &err);
	if (catch_signals() < 0)
		return cli_fail(ctx, MREG_EXIT_FAILURE, "could not make a pipe");
	cli_verbose(ctx, "following the audit log after id %lld",
		    mreg_watch_last(*w));
	return 0;
}

int cmd_watch(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx, .after_id = -1 };
	struct mreg_connector conn;
	struct run r = { .ctx = ctx, .gap_id = -1 };
	int first, rc;

	memset(&conn, 0, sizeof(conn));
	rc = cli_parse(ctx, &cmd_watch_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	rc = start(ctx, &o, &conn, &r.w);
	if (rc == 0)
		rc = follow(&r);
	if (mreg_watch_skipped(r.w))
		cli_verbose(ctx, "%llu audit ids never committed (skipped)",
			    mreg_watch_skipped(r.w));
	mreg_watch_destroy(r.w);
	mreg_connector_finish(&conn);
	return cli_finish(ctx, rc);
}
