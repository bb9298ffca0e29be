/* vm: the VMM process. Started jailed (the server's cgroups, its own
 * namespaces, QEMU's seccomp filter through -sandbox), controlled only over
 * its QMP socket and its pid, so any process that knows both (the server's
 * monitor, a later vserver command) can stop, pause or inspect it. */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#define START_TIMEOUT_MS 15000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* runs in: the forked child, before exec. The pid goes into every cgroup
 * first, so nothing QEMU does (its threads, its memory) is ever accounted
 * outside the server. */
static int child_jail(const struct vm_jail *jail, struct vs_err *err)
{
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (const char *const *d = jail->cgroup_dirs; d && *d; d++) {
		_cleanup_free_ char *procs = vs_xasprintf("%s/cgroup.procs", *d);
		if (access(procs, F_OK) < 0) {
			free(procs);
			procs = vs_xasprintf("%s/tasks", *d);
		}
		if (vs_write_file(procs, pid) < 0)
			return vs_fail(err, errno, "vm: join cgroup %s", *d);
	}
	if (jail->unshare_flags) {
		if (unshare(jail->unshare_flags) < 0)
			return vs_fail(err, errno, "vm: unshare 0x%x", jail->unshare_flags);
		/* nothing mounted in here may propagate back to the host */
		if ((jail->unshare_flags & CLONE_NEWNS) &&
		    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
			return vs_fail(err, errno, "vm: make / a slave mount");
	}
	return 0;
}

static int child_stdio(const char *log_path, struct vs_err *err)
{
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0)
		return vs_fail(err, errno, "vm: open /dev/null");
	int out = nul;
	if (log_path) {
		out = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (out < 0)
			return vs_fail(err, errno, "vm: open %s", log_path);
	}
	if (dup2(nul, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		return vs_fail(err, errno, "vm: dup2");
	return 0;
}

/* runs in: the forked child, after child_stdio. With in >= 0 (a copy of
 * the caller's stdin), the console both ways on stdin/stdout: QEMU's stdio
 * chardev. */
static int child_console_stdio(int in, struct vs_err *err)
{
	if (in < 0)
		return 0;
	if (dup2(in, STDIN_FILENO) < 0 || dup2(VM_CONSOLE_FD, STDOUT_FILENO) < 0)
		return vs_fail(err, errno, "vm: the console on stdin/stdout");
	return 0;
}

int vm_spawn(char *const *argv, const char *log_path, const struct vm_jail *jail,
	     pid_t *pid_out, struct vs_err *err)
{
	return vm_spawn_fd(argv, log_path, jail, -1, -1, false, pid_out, err);
}

/* runs in: the forked child. fd (if >= 0) becomes want, without
 * close-on-exec; through a high copy first, so two fds never clobber each
 * other whatever their numbers */
static int pass_fd(int fd, int want, struct vs_err *err)
{
	if (fd < 0)
		return 0;
	if (dup2(fd, want) < 0)
		return vs_fail(err, errno, "vm: pass fd %d as %d", fd, want);
	return 0;
}

int vm_spawn_fd(char *const *argv, const char *log_path, const struct vm_jail *jail,
		int tap_fd, int console_fd, bool console_stdin, pid_t *pid_out,
		struct vs_err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return vs_fail(err, errno, "vm: pipe");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return vs_fail(err, e, "vm: fork");
	}
	if (pid == 0) {
		struct vs_err ce = { 0 };
		close(p[0]);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* its own session: a terminal's ^C to the caller is not the VM's */
		setsid();
		/* the tap and the console: dup2 leaves the copies open across exec */
		int t = tap_fd >= 0 ? fcntl(tap_fd, F_DUPFD_CLOEXEC, 200) : -1;
		int k = console_fd >= 0 ? fcntl(console_fd, F_DUPFD_CLOEXEC, 200) : -1;
		int in = console_stdin ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 200) : -1;
		if ((tap_fd >= 0 && t < 0) || (console_fd >= 0 && k < 0) || (console_stdin && in < 0))
			vs_fail(&ce, errno, "vm: copy the fds to pass");
		else if (pass_fd(t, VM_TAP_FD, &ce) >= 0 && pass_fd(k, VM_CONSOLE_FD, &ce) >= 0 &&
			 (!jail || child_jail(jail, &ce) >= 0) && child_stdio(log_path, &ce) >= 0 &&
			 child_console_stdio(in, &ce) >= 0) {
			execvp(argv[0], argv);
			vs_fail(&ce, errno, "vm: exec %s", argv[0]);
		}
		(void)vs_write_all(p[1], &ce, sizeof(ce));
		_exit(127);
	}
	close(p[1]);
	struct vs_err ce = { 0 };
	ssize_t n = vs_read_all(p[0], &ce, sizeof(ce));
	close(p[0]);
	if (n == (ssize_t)sizeof(ce)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		*err = ce;
		return -(ce.code > 0 ? ce.code : EIO);
	}
	*pid_out = pid;
	return 0;
}

int vm_wait_exit(pid_t pid, unsigned timeout_ms, int *status)
{
	int st = -1;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd pf = { .fd = pfd, .events = POLLIN };
		int r;
		do
			r = poll(&pf, 1, (int)timeout_ms);
		while (r < 0 && errno == EINTR);
		close(pfd);
		if (r == 0)
			return -ETIMEDOUT;
	} else if (errno != ESRCH) {
		/* no pidfds: poll the process every 20 ms */
		uint64_t end = vs_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
		for (;;) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid) {
				if (status)
					*status = st;
				return 0;
			}
			if (w < 0 && kill(pid, 0) < 0 && errno == ESRCH)
				break;
			if (vs_now_ns() >= end)
				return -ETIMEDOUT;
			sleep_ms(20);
		}
	}
	/* it ended: reap it if it is ours */
	pid_t w;
	do
		w = waitpid(pid, &st, 0);
	while (w < 0 && errno == EINTR);
	if (status)
		*status = w == pid ? st : -1;
	return 0;
}

/* the last non-empty line of a file, for an error message */
static void log_tail(const char *path, char *buf, size_t len)
{
	_cleanup_free_ char *data = NULL;
	buf[0] = '\0';
	if (!path || vs_read_file(path, &data, NULL) < 0)
		return;
	size_t n = strlen(data);
	while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		data[--n] = '\0';
	char *nl = strrchr(data, '\n');
	snprintf(buf, len, "%s", nl ? nl + 1 : data);
}

int vm_start(const struct vm_spec *spec, const struct vm_jail *jail, pid_t *pid_out,
	     unsigned timeout_ms, struct vs_err *err)
{
	_cleanup_strv_ char **argv = NULL;
	pid_t pid;
	int r, status;
	char tail[256];

	if (!spec->qmp_socket)
		return vs_failx(err, EINVAL, "vm: no qmp socket: the vm could not be controlled");
	/* a tap by name is opened by QEMU: it must see the host's network; a
	 * tap by fd works from anywhere */
	if (jail && (jail->unshare_flags & CLONE_NEWNET) && spec->tap_ifname)
		return vs_failx(err, EINVAL, "vm: tap %s would be out of reach in a new network namespace",
				spec->tap_ifname);
	r = vm_build_cmdline(spec, &argv, err);
	if (r < 0)
		return r;
	if (unlink(spec->qmp_socket) < 0 && errno != ENOENT)
		return vs_fail(err, errno, "vm: remove stale qmp socket %s", spec->qmp_socket);
	r = vm_spawn_fd(argv, spec->vmm_log, jail, spec->tap_fd > 0 ? spec->tap_fd : -1,
			spec->console_fd > 0 ? spec->console_fd : -1,
			spec->console_fd > 0 && spec->console_stdin, &pid, err);
	if (r < 0)
		return r;

	uint64_t end = vs_now_ns() + (uint64_t)(timeout_ms ? timeout_ms : START_TIMEOUT_MS) * 1000000ULL;
	for (;;) {
		struct vs_err qe = { 0 };
		if (vm_wait_exit(pid, 0, &status) == 0) {
			log_tail(spec->vmm_log, tail, sizeof(tail));
			if (status >= 0 && WIFEXITED(status))
				return vs_failx(err, EIO, "vm: qemu exited with status %d%s%s",
						WEXITSTATUS(status), *tail ? ": " : "", tail);
			return vs_failx(err, EIO, "vm: qemu died before answering qmp%s%s",
					*tail ? ": " : "", tail);
		}
		if (vm_qmp(spec->qmp_socket, "{\"execute\":\"query-status\"}", NULL, &qe) >= 0)
			break;
		if (vs_now_ns() >= end) {
			kill(pid, SIGKILL);
			(void)vm_wait_exit(pid, 2000, NULL);
			return vs_failx(err, ETIMEDOUT, "vm: qemu did not answer on %s (%s)",
					spec->qmp_socket, qe.msg);
		}
		sleep_ms(20);
	}
	*pid_out = pid;
	return 0;
}

int vm_stop(pid_t pid, const char *qmp, unsigned timeout_ms, struct vs_err *err)
{
	struct vs_err qe = { 0 };
	if (pid <= 0)
		return vs_failx(err, EINVAL, "vm: stop: no pid");
	/* The ACPI power button. A failure here (QEMU already going, socket
	 * gone) is not the stop failing: waiting and killing still stop it. */
	if (qmp)
		(void)vm_qmp(qmp, "{\"execute\":\"system_powerdown\"}", NULL, &qe);
	if (vm_wait_exit(pid, timeout_ms, NULL) == 0)
		return 0;
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return vs_fail(err, errno, "vm: kill qemu %d", (int)pid);
	if (vm_wait_exit(pid, 5000, NULL) < 0)
		return vs_failx(err, ETIMEDOUT, "vm: qemu %d still runs after SIGKILL", (int)pid);
	return 1;
}

int vm_pause(const char *qmp, struct vs_err *err)
{
	int r = vm_qmp(qmp, "{\"execute\":\"stop\"}", NULL, err);
	return r < 0 ? vs_wrap(err, "vm: pause") : 0;
}

int vm_balloon(const char *qmp, uint64_t bytes, struct vs_err *err)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "{\"execute\":\"balloon\",\"arguments\":{\"value\":%llu}}",
		 (unsigned long long)bytes);
	int r = vm_qmp(qmp, cmd, NULL, err);
	return r < 0 ? vs_wrap(err, "vm: balloon") : 0;
}

int vm_resume(const char *qmp, struct vs_err *err)
{
	int r = vm_qmp(qmp, "{\"execute\":\"cont\"}", NULL, err);
	return r < 0 ? vs_wrap(err, "vm: resume") : 0;
}

/* runs cmd and gives the parsed tree of its reply */
static int qmp_tree(const char *qmp, const char *cmd, yajl_val *tree, struct vs_err *err)
{
	_cleanup_free_ char *reply = NULL;
	char ebuf[128];
	int r = vm_qmp(qmp, cmd, &reply, err);
	if (r < 0)
		return r;
	*tree = yajl_tree_parse(reply, ebuf, sizeof(ebuf));
	if (!*tree)
		return vs_failx(err, EPROTO, "vm: qmp: bad reply: %s", ebuf);
	return 0;
}

int vm_status(const char *qmp, char *status, size_t len, struct vs_err *err)
{
	yajl_val tree = NULL;
	const char *path[] = { "return", "status", NULL };
	int r = qmp_tree(qmp, "{\"execute\":\"query-status\"}", &tree, err);
	if (r < 0)
		return r;
	yajl_val s = yajl_tree_get(tree, path, yajl_t_string);
	if (!s)
		r = vs_failx(err, EPROTO, "vm: query-status: no status in the reply");
	else
		snprintf(status, len, "%s", YAJL_GET_STRING(s));
	yajl_tree_free(tree);
	return r;
}

static uint64_t vmrss_bytes(pid_t pid)
{
	char path[64];
	_cleanup_free_ char *st = NULL;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (vs_read_file(path, &st, NULL) < 0)
		return 0;
	const char *p = strstr(st, "\nVmRSS:");
	return p ? strtoull(p + 7, NULL, 10) * 1024 : 0;
}

int vm_stats(pid_t pid, const char *qmp, struct vm_stats *out, struct vs_err *err)
{
	yajl_val tree = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = vm_status(qmp, out->status, sizeof(out->status), err);
	if (r < 0)
		return r;
	const char *ret[] = { "return", NULL };
	r = qmp_tree(qmp, "{\"execute\":\"query-cpus-fast\"}", &tree, err);
	if (r < 0)
		return r;
	yajl_val cpus = yajl_tree_get(tree, ret, yajl_t_array);
	out->vcpus = cpus ? (unsigned)YAJL_GET_ARRAY(cpus)->len : 0;
	yajl_tree_free(tree);

	const char *mem[] = { "return", "base-memory", NULL };
	r = qmp_tree(qmp, "{\"execute\":\"query-memory-size-summary\"}", &tree, err);
	if (r < 0)
		return r;
	yajl_val m = yajl_tree_get(tree, mem, yajl_t_number);
	out->memory_bytes = m && YAJL_IS_INTEGER(m) ? (uint64_t)YAJL_GET_INTEGER(m) : 0;
	yajl_tree_free(tree);
	if (pid > 0)
		out->vmm_rss_bytes = vmrss_bytes(pid);
	return 0;
}
