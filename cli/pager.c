/* pager.c - standard output through $MREG_PAGER / $PAGER (see pager.h) */
#include "pager.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "output.h"
#include "libpq-lazy.h"

#define DEFAULT_PAGER "less -FRX"
#define MAX_WORDS 32

static pid_t pager_pid = -1;
static int pager_cols;
static struct cli_ctx pager_ctx; /* for the warnings at exit */
static char pager_cmd[256];

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

const char *cli_pager_command(bool *chosen)
{
	const char *p = getenv("MREG_PAGER");

	*chosen = true;
	if (!p)
		p = getenv("PAGER");
	if (!p) {
		*chosen = false;
		p = DEFAULT_PAGER;
	}
	if (blank(p) || strcmp(p, "cat") == 0)
		return NULL;
	return p;
}

bool cli_pager_active(void)
{
	return pager_pid > 0;
}

int cli_pager_width(void)
{
	return pager_cols;
}

/*
 * Split a command of plain words (letters, digits, - _ . / , + : @ %,
 * blanks between) into argv in buf; false when it needs a shell.
 */
static bool plain_words(const char *cmd, char *buf, size_t len, char **argv)
{
	size_t n = strlen(cmd), i;
	int w = 0;
	char *p;

	if (n >= len)
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_./,+:@% \t", cmd[i]))
			return false;
	memcpy(buf, cmd, n + 1);
	for (p = buf; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (w == MAX_WORDS)
			return false;
		argv[w++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	argv[w] = NULL;
	return w > 0;
}

/* Close our end of the pipe and wait for the pager to quit. */
static int wait_pager(void)
{
	int status = 0;

	close(STDOUT_FILENO);
	while (waitpid(pager_pid, &status, 0) < 0 && errno == EINTR)
		;
	pager_pid = -1;
	return status;
}

static void pager_atexit(void)
{
	int status;

	if (pager_pid <= 0)
		return;
	fflush(stdout); /* a write error here was reported by cli_finish */
	status = wait_pager();
	/* sh -c could not find or run the command: the output is lost */
	if (WIFEXITED(status) &&
	    (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127))
		cli_warn(&pager_ctx, "the pager \"%s\" could not run (exit %d)",
			 pager_cmd, WEXITSTATUS(status));
}

/* Interrupted: let the pager have the terminal back first, then die. */
static void pager_signal(int sig)
{
	if (pager_pid > 0) {
		int status;

		close(STDOUT_FILENO);
		while (waitpid(pager_pid, &status, 0) < 0 && errno == EINTR)
			;
		pager_pid = -1;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pager_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* In the child: the pipe as standard input, then the pager. */
static void run_child(int rfd, int errfd, char *const *argv, const char *cmd)
{
	int e;

	if (dup2(rfd, STDIN_FILENO) < 0)
		goto fail;
	signal(SIGPIPE, SIG_DFL);
	if (argv)
		execvp(argv[0], argv);
	else
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
fail:
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static void cloexec(int fd)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/*
 * Fork the pager reading fds[0]; errp reports a failed exec (its write end
 * closes on a successful one).  0 and the pid, or errno.
 */
static int spawn(int fds[2], char *const *argv, const char *cmd, pid_t *pid)
{
	int errp[2], e = 0;
	ssize_t n;

	if (pipe(errp) < 0)
		return errno;
	cloexec(errp[0]);
	cloexec(errp[1]);
	fflush(stdout);
	mreg_libpq_wait(); /* no fork while the loader thread loads it */
	*pid = fork();
	if (*pid == 0)
		run_child(fds[0], errp[1], argv, cmd);
	close(errp[1]);
	if (*pid < 0) {
		e = errno;
		close(errp[0]);
		return e;
	}
	while ((n = read(errp[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(errp[0]);
	if (n > 0) {
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		*pid = -1;
		return e ? e : ENOEXEC;
	}
	return 0;
}

void cli_pager_start(const struct cli_ctx *ctx)
{
	char words[256], *argv[MAX_WORDS + 1], ebuf[128];
	const char *cmd;
	bool chosen, plain;
	int fds[2], e, cols;
	pid_t pid = -1;

	if (ctx->no_pager || pager_pid > 0 || !isatty(STDOUT_FILENO))
		return;
	if (!(cmd = cli_pager_command(&chosen)))
		return;
	plain = plain_words(cmd, words, sizeof(words), argv);
	cols = mreg_terminal_width(STDOUT_FILENO);
	/* as git: a bare "less" keeps the header bold and quits when the
	 * text fits (the user's own LESS wins) */
	setenv("LESS", "FRX", 0);
	setenv("LV", "-c", 0);
	if (pipe(fds) < 0) {
		e = errno;
	} else {
		cloexec(fds[0]);
		cloexec(fds[1]);
		e = spawn(fds, plain ? argv : NULL, cmd, &pid);
		close(fds[0]);
		if (e == 0 && dup2(fds[1], STDOUT_FILENO) < 0)
			e = errno; /* the pager sees EOF and quits */
		close(fds[1]);
		if (e && pid > 0)
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
	if (e) {
		if (chosen)
			cli_warn(ctx, "could not start the pager \"%s\": %s",
				 cmd, mreg_strerror(e, ebuf, sizeof(ebuf)));
		return;
	}
	pager_pid = pid;
	pager_cols = cols;
	pager_ctx = *ctx;
	pager_ctx.pool = NULL;
	snprintf(pager_cmd, sizeof(pager_cmd), "%s", cmd);
	atexit(pager_atexit);
	catch_signals();
}
