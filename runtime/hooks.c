/* runtime/hooks.c: the OCI hooks (prestart, createRuntime, createContainer,
 * startContainer, poststart, poststop).
 *
 * Semantics (runtime-spec config.md#posix-platform-hooks, and what runc and
 * crun do): hooks of one kind run one after the other in the order given;
 * each gets the container state JSON on stdin, exactly the args and env of
 * the config (args[0] is argv[0]; no env means an empty environment, not the
 * runtime's), and is killed after `timeout` seconds when one is set. The
 * first hook that fails stops the list and fails the call. Whether a failure
 * is fatal (create fails and the container is destroyed) or only a warning
 * (poststart, poststop) is the caller's decision. */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define HOOK_OUTPUT_MAX 200   /* bytes of the hook's output kept for the error */

/* Local names rather than conf_hook_name(), so this file (and its unit test)
 * does not need the conf objects. Same spelling as config.json. */
static const char *kind_name(enum conf_hook_kind k)
{
	static const char *const n[CONF_HOOK__MAX] = {
		[CONF_HOOK_PRESTART] = "prestart",
		[CONF_HOOK_CREATE_RUNTIME] = "createRuntime",
		[CONF_HOOK_CREATE_CONTAINER] = "createContainer",
		[CONF_HOOK_START_CONTAINER] = "startContainer",
		[CONF_HOOK_POSTSTART] = "poststart",
		[CONF_HOOK_POSTSTOP] = "poststop",
	};
	return (unsigned)k < CONF_HOOK__MAX && n[k] ? n[k] : "hook";
}

struct hook_run {
	const char *state;
	size_t state_len, state_off;
	int in_w, out_r;           /* our ends: the hook's stdin, its stdout+stderr */
	char out[HOOK_OUTPUT_MAX + 1];
	size_t out_len;
};

/* runs in: the forked hook child, between fork and execve: only
 * async-signal-safe calls. Never returns. */
static void __attribute__((noreturn))
hook_child(const struct conf_hook *h, int in_r, int out_w, int err_w)
{
	static char *const empty[] = { NULL };
	char *argv0[] = { h->path, NULL };
	char *const *argv = h->args && h->args[0] ? h->args : argv0;
	char *const *envp = h->env ? h->env : empty;
	sigset_t all;
	int e;

	/* its own process group, so a timeout kills what it started too */
	setpgid(0, 0);
	/* a clean signal state: the runtime may block or ignore some */
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);

	/* above 2 first, so that dup2 onto 0..2 cannot clobber them */
	int in = fcntl(in_r, F_DUPFD_CLOEXEC, 3);
	int out = fcntl(out_w, F_DUPFD_CLOEXEC, 3);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		goto fail;
	/* fds the runtime opened without O_CLOEXEC must not reach the hook */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	execve(h->path, argv, envp);
fail:
	e = errno;
	if (write(err_w, &e, sizeof(e)) < 0) {
		/* nothing more to do */
	}
	_exit(127);
}

/* Feeds the hook's stdin and drains its output, once each. */
static void pump(struct hook_run *r, short in_ev, short out_ev)
{
	if (in_ev && r->in_w >= 0) {
		ssize_t n = write(r->in_w, r->state + r->state_off, r->state_len - r->state_off);
		if (n > 0)
			r->state_off += (size_t)n;
		/* EPIPE: the hook does not read its stdin, which is its right */
		if ((n < 0 && errno != EAGAIN && errno != EINTR) || r->state_off == r->state_len) {
			close(r->in_w);
			r->in_w = -1;
		}
	}
	if (out_ev && r->out_r >= 0) {
		char buf[4096];
		ssize_t n = read(r->out_r, buf, sizeof(buf));
		if (n > 0 && r->out_len < HOOK_OUTPUT_MAX) {
			size_t k = (size_t)n < HOOK_OUTPUT_MAX - r->out_len ? (size_t)n
									    : HOOK_OUTPUT_MAX - r->out_len;
			memcpy(r->out + r->out_len, buf, k);
			r->out_len += k;
		}
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close(r->out_r);
			r->out_r = -1;
		}
	}
}

/* Waits for the hook, feeding and draining it, until it exits or the
 * deadline (0 = none) passes. Returns 1 when it exited, 0 on timeout. */
static int wait_hook(struct hook_run *r, pid_t pid, int pidfd, uint64_t deadline)
{
	for (;;) {
		struct pollfd pf[3];
		nfds_t n = 0;
		int i_pid = -1, i_in = -1, i_out = -1;
		int ms = -1;

		if (pidfd >= 0)
			pf[i_pid = n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		if (r->in_w >= 0)
			pf[i_in = n++] = (struct pollfd){ .fd = r->in_w, .events = POLLOUT };
		if (r->out_r >= 0)
			pf[i_out = n++] = (struct pollfd){ .fd = r->out_r, .events = POLLIN };
		if (deadline) {
			uint64_t now = vs_now_ns();
			if (now >= deadline)
				return 0;
			ms = (int)((deadline - now + 999999) / 1000000);
		}
		if (pidfd < 0) {
			/* no pidfd (kernel < 5.3): look at the child every 20 ms */
			siginfo_t si = { 0 };   /* WNOWAIT: peek, reap later */
			if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == pid)
				return 1;
			if (ms < 0 || ms > 20)
				ms = 20;
		}
		int k = poll(pf, n, ms);
		if (k < 0 && errno != EINTR)
			return 1;   /* cannot wait any better: treat as exited, waitpid blocks */
		if (k <= 0)
			continue;
		pump(r, i_in >= 0 ? pf[i_in].revents : 0, i_out >= 0 ? pf[i_out].revents : 0);
		if (i_pid >= 0 && pf[i_pid].revents)
			return 1;
	}
}

static void append_output(struct hook_run *r, struct vs_err *err)
{
	/* the child has exited: take what is already in the pipe, no more */
	for (int i = 0; i < 16 && r->out_r >= 0 && r->out_len < HOOK_OUTPUT_MAX; i++) {
		size_t before = r->out_len;
		pump(r, 0, POLLIN);
		if (r->out_len == before)
			break;
	}
	size_t len = r->out_len;
	while (len && (r->out[len - 1] == '\n' || r->out[len - 1] == ' ' ||
		       r->out[len - 1] == '\r' || r->out[len - 1] == '\t'))
		len--;
	if (!len)
		return;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)r->out[i] < 0x20 || r->out[i] == 0x7f)
			r->out[i] = ' ';
	r->out[len] = '\0';
	size_t used = strlen(err->msg);
	snprintf(err->msg + used, sizeof(err->msg) - used, ": output: %s", r->out);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int run_one(const struct conf_hook *h, const char *what, const char *state,
		   struct vs_err *err)
{
	struct hook_run r = { .state = state ? state : "",
			      .in_w = -1, .out_r = -1 };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, ep[2] = { -1, -1 };
	int ret = 0;

	if (!h->path || h->path[0] != '/')
		return vs_failx(err, EINVAL, "%s: path must be absolute", what);
	r.state_len = strlen(r.state);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		ret = vs_fail(err, errno, "%s: pipe", what);
		goto out_close;
	}
	r.in_w = in[1];
	r.out_r = out[0];
	fcntl(r.in_w, F_SETFL, O_NONBLOCK);
	fcntl(r.out_r, F_SETFL, O_NONBLOCK);
	/* most states fit in the pipe: write them before the hook exists */
	if (r.state_len > 65536)
		fcntl(r.in_w, F_SETPIPE_SZ, (int)(r.state_len < (1 << 20) ? r.state_len : 1 << 20));
	pump(&r, r.state_len ? POLLOUT : 0, 0);
	if (!r.state_len)
		close_fd(&r.in_w);

	pid_t runtime_pid = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		ret = vs_fail(err, errno, "%s: fork", what);
		goto out_close;
	}
	if (pid == 0) {
		/* a hook never outlives the runtime that waits for it (a vsrun
		 * killed with SIGKILL mid-create must leave no process behind) */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != runtime_pid)
			_exit(127);
		hook_child(h, in[0], out[1], ep[1]);
	}

	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&ep[1]);
	/* blocks until execve (EOF, as the pipe is close-on-exec) or its failure */
	int exec_errno = 0;
	ssize_t n;
	do
		n = read(ep[0], &exec_errno, sizeof(exec_errno));
	while (n < 0 && errno == EINTR);

	int pidfd = -1, st = 0;
	bool exited = true;
	if (n == sizeof(exec_errno)) {
		ret = vs_fail(err, exec_errno, "%s: execve", what);
	} else {
		/* SIGPIPE from feeding a hook that closed its stdin must not
		 * kill the runtime: block it, and take back one we caused */
		sigset_t pipe_set, old, pending;
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		sigprocmask(SIG_BLOCK, &pipe_set, &old);
		sigpending(&pending);
		bool was_pending = sigismember(&pending, SIGPIPE);

		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		uint64_t deadline = 0;
		if (h->timeout.set && h->timeout.v > 0)
			deadline = vs_now_ns() + (uint64_t)h->timeout.v * 1000000000ULL;
		exited = wait_hook(&r, pid, pidfd, deadline);
		if (!exited) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}

		sigpending(&pending);
		if (!was_pending && sigismember(&pending, SIGPIPE)) {
			struct timespec zero = { 0, 0 };
			sigtimedwait(&pipe_set, NULL, &zero);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
	}

	/* always reap: no zombie, whatever happened */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pidfd >= 0)
		close(pidfd);
	if (ret < 0)
		goto out_close;

	if (!exited) {
		ret = vs_failx(err, ETIMEDOUT, "%s: timed out after %lld s", what,
			       (long long)h->timeout.v);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
		ret = vs_failx(err, EIO, "%s: exited with status %d", what, WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(st));
		ret = vs_failx(err, EIO, "%s: killed by signal %d (SIG%s)", what, WTERMSIG(st),
			       abbrev ? abbrev : "?");
	}
	if (ret < 0)
		append_output(&r, err);

out_close:
	close_fd(&r.in_w);
	close_fd(&r.out_r);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	return ret;
}

/* runs in: the runtime (vsrun create/start/delete) for prestart,
 * createRuntime, poststart and poststop, with the runtime's namespaces; for
 * createContainer and startContainer, the caller runs it from inside the
 * container's namespaces, as the spec asks (the hook's path is then
 * resolved there). */
int rt_hooks_run(const struct conf_hook_list *l, enum conf_hook_kind kind,
		 const char *state_json, struct vs_err *err)
{
	for (size_t i = 0; l && i < l->n; i++) {
		const struct conf_hook *h = &l->v[i];
		char what[384];
		snprintf(what, sizeof(what), "hook %s[%zu] %s", kind_name(kind), i,
			 h->path ? h->path : "(no path)");
		int r = run_one(h, what, state_json, err);
		if (r < 0)
			return r;
	}
	return 0;
}
