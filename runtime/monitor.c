/* The per-server monitor: the program vserver-monitor, one per running
 * server, kept small because a host runs one per server. It links only this
 * file, server-base.c, procinfo.c, alert.c, the record parser and the
 * cgroup statistics: never the container engine.
 *
 * It is a child subreaper. Starting the workload is a step run by a
 * short-lived helper (`vserver __start NAME`): the helper creates the
 * container and exits, and the server's init, its child, is reparented to
 * us. We reap it, copy its output into console.log (rotated) and to any
 * attached `vserver console`, pass what those type to its standard input,
 * record its exit, undo the start with a second helper (`vserver __stop`),
 * apply the restart policy and evaluate alerts every second. No central
 * daemon: one monitor's death touches no other server. */
#include "internal.h"
#include "server-internal.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#define LOG_ROTATE_BYTES (1u << 20)
#define MAX_CLIENTS 8

struct mon {
	struct srv_ctx *c;
	const char *name, *exe;
	struct conf_server *s;
	struct srv_status st;
	char log[PATH_MAX], stop_flag[PATH_MAX], sock[PATH_MAX];
	int log_fd;
	size_t log_size;
	/* the server's standard input and output: pipes we keep both ends of,
	 * so each start's helper (and through it init) gets the same ones */
	int in_rd, in_wr, out_rd, out_wr;
	int listen_fd, clients[MAX_CLIENTS];
	struct srv_alert *alerts;
	size_t n_alerts;
	struct timespec rec_mtim; /* server.json as last loaded: a change reloads the rules */
	ino_t rec_ino;
	struct vs_cgroup cg;      /* the running server's, from the start helper */
	uint64_t last_cpu, last_t;
	pid_t init;
	bool init_reaped;
	int init_status;
};

/* ---- console: the log file and attached clients ---- */

static void drop_client(struct mon *m, int i)
{
	close(m->clients[i]);
	m->clients[i] = -1;
}

static void log_write(struct mon *m, const char *buf, size_t n)
{
	if (m->log_size + n > LOG_ROTATE_BYTES) {
		char old[PATH_MAX + 4];
		snprintf(old, sizeof(old), "%s.1", m->log);
		rename(m->log, old);
		close(m->log_fd);
		m->log_fd = open(m->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		m->log_size = 0;
	}
	if (m->log_fd >= 0 && vs_write_all(m->log_fd, buf, n) >= 0)
		m->log_size += n;
	/* a client that cannot keep up loses output, never stalls the server */
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (m->clients[i] >= 0 && send(m->clients[i], buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN)
			drop_client(m, i);
}

static void log_line(struct mon *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(struct mon *m, const char *fmt, ...)
{
	char buf[768], ts[64];
	rt_now_rfc3339(ts, sizeof(ts));
	int n = snprintf(buf, sizeof(buf), "[vserver %.19s] ", ts);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	log_write(m, buf, (size_t)n);
}

static void read_output(struct mon *m)
{
	char buf[4096];
	ssize_t k = read(m->out_rd, buf, sizeof(buf));
	if (k > 0)
		log_write(m, buf, (size_t)k);
}

/* what is in the pipe now, without waiting */
static void drain_output(struct mon *m)
{
	struct pollfd p = { .fd = m->out_rd, .events = POLLIN };
	while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
		char buf[4096];
		ssize_t k = read(m->out_rd, buf, sizeof(buf));
		if (k <= 0)
			break;
		log_write(m, buf, (size_t)k);
	}
}

/* The console socket, <run>/<name>.console: a stale one (a monitor killed
 * with -9) is replaced. Without it the server runs, unattachable. */
static void console_listen(struct mon *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	m->listen_fd = -1;
	if (strlen(m->sock) >= sizeof(sa.sun_path)) {
		log_line(m, "console: %s: path too long, console attach disabled", m->sock);
		return;
	}
	strcpy(sa.sun_path, m->sock);
	unlink(m->sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(m->sock, 0600) < 0 ||
	    listen(fd, 4) < 0) {
		log_line(m, "console: %s: %s, console attach disabled", m->sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	m->listen_fd = fd;
}

static void accept_client(struct mon *m)
{
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (m->clients[i] < 0) {
			m->clients[i] = fd;
			return;
		}
	static const char full[] = "vserver: too many consoles attached\n";
	send(fd, full, sizeof(full) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/* What a client typed goes to the server's standard input; input the
 * server does not read is dropped, it never blocks us. */
static void client_input(struct mon *m, int i)
{
	char buf[1024];
	ssize_t k = read(m->clients[i], buf, sizeof(buf));
	if (k <= 0) {
		if (k == 0 || errno != EAGAIN)
			drop_client(m, i);
		return;
	}
	if (write(m->in_wr, buf, (size_t)k) < 0 && errno != EAGAIN)
		log_line(m, "console: input: %s", strerror(errno));
}

/* ---- children: helpers, init (reparented to us), strays ---- */

/* Reaps whatever child has exited: init (noting its status), the second
 * half of alert commands, any descendant orphaned to us. */
static void reap(struct mon *m)
{
	int status;
	pid_t w;
	while ((w = waitpid(-1, &status, WNOHANG)) > 0)
		if (w == m->init) {
			m->init_status = status;
			m->init_reaped = true;
		}
}

/* Runs `vserver VERB [--adopt] NAME` with the server's stdio and our report
 * pipe on fd 3, waits for it, returns its report (at most len-1 bytes; empty
 * when it wrote none) and its wait status. */
static int run_helper(struct mon *m, const char *verb, bool adopt, char *report, size_t len,
		      int *status)
{
	int rp[2];
	report[0] = '\0';
	if (pipe2(rp, O_CLOEXEC) < 0)
		return -errno;
	pid_t p = fork();
	if (p < 0) {
		int e = errno;
		close(rp[0]);
		close(rp[1]);
		return -e;
	}
	if (p == 0) {
		/* every fd of ours is above 2 (our stdio is /dev/null): set the
		 * server's stdio first, then the report pipe on 3, which may
		 * overwrite one of the sources just used */
		if (dup2(m->in_rd, 0) < 0 || dup2(m->out_wr, 1) < 0 || dup2(m->out_wr, 2) < 0 ||
		    (rp[1] != 3 && dup2(rp[1], 3) < 0) || fcntl(3, F_SETFD, 0) < 0)
			_exit(126);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (adopt)
			execl(m->exe, "vserver", verb, "--adopt", m->name, (char *)NULL);
		else
			execl(m->exe, "vserver", verb, m->name, (char *)NULL);
		dprintf(3, "error run %s: %s\n", m->exe, strerror(errno));
		_exit(127);
	}
	close(rp[1]);
	size_t got = 0;
	for (;;) {
		ssize_t k = read(rp[0], report + got, len - 1 - got);
		if (k > 0 && (got += (size_t)k) < len - 1)
			continue;
		if (k < 0 && errno == EINTR)
			continue;
		break;
	}
	report[got] = '\0';
	close(rp[0]);
	/* only the helper: its child init, maybe exited already, is reaped
	 * by watch() once its pid is known */
	*status = 0;
	while (waitpid(p, status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* How the workload starts: a helper makes it and exits. On success *pid is
 * its init (our child unless adopted). This and workload_stop() are the
 * only places that know what a server's workload is. */
static int workload_start(struct mon *m, bool adopt, pid_t *pid, bool *adopted, struct vs_err *err)
{
	char report[sizeof(err->msg) + 4200], ign[512];
	int status;
	int r = run_helper(m, "__start", adopt, report, sizeof(report), &status);
	if (r < 0)
		return vs_fail(err, -r, "monitor: run the start helper");
	struct srv_started s;
	if (!report[0]) {
		/* it died midway: undo whatever it made */
		run_helper(m, "__stop", false, ign, sizeof(ign), &status);
		return vs_failx(err, EIO, "the start helper %s died (%s %d)", m->exe,
				WIFSIGNALED(status) ? "signal" : "status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	r = srv_report_parse(report, &s, err);
	if (r < 0)
		return r;
	*pid = s.pid;
	*adopted = s.adopted;
	m->cg.mode = (enum cg_mode)s.cg_mode;
	snprintf(m->cg.path, sizeof(m->cg.path), "%s", s.cg_path);
	m->last_t = 0;
	return 0;
}

/* The helper may know the workload's own exit status better than our wait
 * status ("exit N": a VM's QEMU exits 0, its guest agent printed the
 * command's status on the console); it replaces *exit_code then. */
static void workload_stop(struct mon *m, int *exit_code)
{
	char report[sizeof(((struct vs_err *)0)->msg) + 16];
	int status, code;
	if (run_helper(m, "__stop", false, report, sizeof(report), &status) < 0)
		return;
	if (!strncmp(report, "error ", 6))
		log_line(m, "stop: %.*s", (int)strcspn(report + 6, "\n"), report + 6);
	else if (sscanf(report, "exit %d", &code) == 1 && code >= 0 && code <= 255)
		*exit_code = code;
}

/* ---- alerts ---- */

static void load_alerts(struct mon *m)
{
	size_t n = vs_strv_len(m->s->alerts);
	m->alerts = vs_xcalloc(n + 1, sizeof(*m->alerts));
	for (size_t i = 0; i < n; i++) {
		struct vs_err e = { 0 };
		if (srv_alert_parse(m->s->alerts[i], &m->alerts[m->n_alerts], &e) >= 0)
			m->n_alerts++;
		else
			log_line(m, "%s", e.msg);
	}
}

/* Remembers which server.json the rules came from; true when it changed
 * (written atomically, so a new inode or a new mtime). */
static bool record_changed(struct mon *m)
{
	char path[PATH_MAX];
	struct stat st;
	srv_path(m->c, m->name, "server.json", path, sizeof(path));
	if (stat(path, &st) < 0)
		return false;
	bool changed = st.st_ino != m->rec_ino || st.st_mtim.tv_sec != m->rec_mtim.tv_sec ||
		       st.st_mtim.tv_nsec != m->rec_mtim.tv_nsec;
	m->rec_ino = st.st_ino;
	m->rec_mtim = st.st_mtim;
	return changed;
}

/* `vserver alert add|rm` rewrite server.json: pick the rules up live */
static void reload_alerts(struct mon *m)
{
	struct conf_server *s = NULL;
	if (!record_changed(m) || srv_load(m->c, m->name, &s, NULL) < 0)
		return;
	vs_strv_free(m->s->alerts);
	m->s->alerts = TAKE_PTR(s->alerts);
	conf_server_free(s);
	for (size_t i = 0; i < m->n_alerts; i++)
		free(m->alerts[i].cmd);
	free(m->alerts);
	m->n_alerts = 0;
	load_alerts(m);
}

/* forked twice, so the command is never our direct child: it is reaped
 * by reap() when it ends (we are its subreaper) */
static void run_alert_cmd(struct mon *m, const struct srv_alert *a)
{
	pid_t p = fork();
	if (p == 0 && fork() != 0)
		_exit(0);
	if (p == 0) {
		setenv("VSERVER_NAME", m->name, 1);
		setenv("VSERVER_ALERT", a->metric, 1);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl("/bin/sh", "sh", "-c", a->cmd, (char *)NULL);
		_exit(127);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
}

static void fire(struct mon *m, const struct srv_alert *a, double v)
{
	log_line(m, "alert: %s %c %g%s for %us (now %.1f)", a->metric, a->op, a->value,
		 a->percent ? "%" : "", a->for_s, v);
	char path[PATH_MAX], line[512], ts[64];
	rt_now_rfc3339(ts, sizeof(ts));
	srv_path(m->c, m->name, "alerts.log", path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		int n = snprintf(line, sizeof(line), "%.19s %s %c %g%s for %us: %.1f\n", ts, a->metric,
				 a->op, a->value, a->percent ? "%" : "", a->for_s, v);
		vs_write_all(fd, line, (size_t)n);
		close(fd);
	}
	if (a->cmd)
		run_alert_cmd(m, a);
}

static void check_alerts(struct mon *m)
{
	reload_alerts(m);
	if (!m->n_alerts || !m->cg.path[0])
		return;
	struct cg_stats st;
	struct vs_err err = { 0 };
	if (cg_stats(&m->cg, &st, &err) < 0)
		return;
	/* cpu % over the last tick, from the usage counter */
	uint64_t now = vs_now_ns();
	double cpu = m->last_t && now > m->last_t
		? 100.0 * (double)(st.cpu_usage_ns - m->last_cpu) / (double)(now - m->last_t) : 0;
	m->last_cpu = st.cpu_usage_ns;
	m->last_t = now;
	for (size_t i = 0; i < m->n_alerts; i++) {
		struct srv_alert *a = &m->alerts[i];
		double v;
		if (!strcmp(a->metric, "memory"))
			v = a->percent ? (st.mem_limit ? 100.0 * (double)st.mem_usage / (double)st.mem_limit : 0)
				       : (double)st.mem_usage;
		else if (!strcmp(a->metric, "pids"))
			v = a->percent ? (st.pids_limit ? 100.0 * (double)st.pids_current /
							  (double)st.pids_limit : 0)
				       : (double)st.pids_current;
		else
			v = cpu;
		bool hit = a->op == '>' ? v > a->value : v < a->value;
		a->held = hit ? a->held + 1 : 0;
		if (!hit)
			a->fired = false;
		if (hit && !a->fired && a->held >= a->for_s) {
			a->fired = true;
			fire(m, a, v);
		}
	}
}

/* cg_stats() needs about 210 KiB of stack (the cgroups module's struct
 * cg_dirs, twice), which would stay resident for the monitor's lifetime
 * after the first tick: twice what an idle monitor needs otherwise. After a
 * tick those pages, below the frame of our caller, are unused: give them
 * back. Called from watch(), never from a signal handler (we have none). */
#define STACK_TRIM (512u << 10)
static __attribute__((noinline)) void trim_stack(void)
{
	volatile char here = 0;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	/* keep 16 KiB below us for this function and madvise's own frame */
	uintptr_t top = ((uintptr_t)&here - (16u << 10)) & ~(page - 1);
	/* the part of the range below the stack's mapping fails with ENOMEM
	 * after the mapped part is done: that is all we want */
	madvise((void *)(top - STACK_TRIM), STACK_TRIM, MADV_DONTNEED);
	(void)here;
}

/* ---- the loop ---- */

/* After init's exit: an --init server's console relay (our child once its
 * start helper exited) ends once it drained the pty, so its last lines
 * (systemd's "Exiting container.") are read before the stop; waiting for
 * whatever other child is left (an alert command) is bounded by 1 s. */
static void drain_relay(struct mon *m)
{
	uint64_t end = vs_now_ns() + 1000000000ULL;
	pid_t w;
	while ((w = waitpid(-1, NULL, WNOHANG)) >= 0 && vs_now_ns() < end) {
		if (w > 0)
			continue;  /* one gone: maybe more left */
		struct pollfd p = { .fd = m->out_rd, .events = POLLIN };
		if (poll(&p, 1, 20) > 0 && (p.revents & POLLIN))
			read_output(m);
	}
	drain_output(m);
}

/* Serves the console and the alerts until init exits; returns its wait
 * status (255 << 8 for an adopted init, whose status is not ours to see). */
static int watch(struct mon *m, pid_t pid)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	uint64_t next_tick = vs_now_ns() + 1000000000ULL;
	m->init = pid;
	m->init_reaped = false;
	reap(m);
	while (!m->init_reaped) {
		struct pollfd p[3 + MAX_CLIENTS];
		int n = 0;
		p[n++] = (struct pollfd){ .fd = pfd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = m->out_rd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = m->listen_fd, .events = POLLIN };
		for (int i = 0; i < MAX_CLIENTS; i++)
			p[n++] = (struct pollfd){ .fd = m->clients[i], .events = POLLIN };
		uint64_t now = vs_now_ns();
		int timeout = now >= next_tick ? 0 : (int)((next_tick - now) / 1000000ULL) + 1;
		if (poll(p, (nfds_t)n, pfd < 0 ? 200 : timeout) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN)
			read_output(m);
		if (p[2].revents & POLLIN)
			accept_client(m);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (m->clients[i] >= 0 && (p[3 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				client_input(m, i);
		if (vs_now_ns() >= next_tick) {
			next_tick += 1000000000ULL;
			check_alerts(m);
			if (m->n_alerts)
				trim_stack();
			reap(m);
		}
		if (pfd < 0 || (p[0].revents & POLLIN)) {
			reap(m);
			if (m->init_reaped)
				break;
			/* not our child (adopted): gone all the same */
			if (!rt_pid_alive(pid, 0) || (pfd >= 0 && p[0].revents)) {
				m->init_status = 255 << 8;
				break;
			}
		}
	}
	drain_relay(m);
	if (pfd >= 0)
		close(pfd);
	m->init = 0;
	return m->init_status;
}

static void set_state(struct mon *m, const char *state)
{
	snprintf(m->st.state, sizeof(m->st.state), "%s", state);
	srv_status_write(m->c, m->name, &m->st);
}

/* Starts the server once (or adopts it, first time round) and watches it
 * until it exits. Returns 0 when it ran, -errno when it did not start. */
static int run_once(struct mon *m, bool first, int ready_fd)
{
	struct vs_err err = { 0 };
	pid_t pid = 0;
	bool adopted = false;
	if (!first) {
		set_state(m, "starting");
	}
	int r = workload_start(m, first, &pid, &adopted, &err);
	if (r < 0) {
		drain_output(m);
		log_line(m, "start failed: %s", err.msg);
		if (first)
			dprintf(ready_fd, "%s\n", err.msg);
		return r;
	}
	/* what the helper wrote (a VM's accelerator warning) comes first */
	drain_output(m);
	if (adopted)
		log_line(m, "adopting the running server (pid %d)", (int)pid);
	m->st.pid = pid;
	rt_now_rfc3339(m->st.started, sizeof(m->st.started));
	set_state(m, "running");
	log_line(m, "started (pid %d)", (int)pid);
	if (first) {
		dprintf(ready_fd, "ok\n");
		close(ready_fd);
	}
	int status = watch(m, pid);
	m->st.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	rt_now_rfc3339(m->st.stopped, sizeof(m->st.stopped));
	workload_stop(m, &m->st.exit_code);
	log_line(m, "exited with status %d", m->st.exit_code);
	return 0;
}

static int setup(struct mon *m, struct vs_err *err)
{
	srv_path(m->c, m->name, "console.log", m->log, sizeof(m->log));
	srv_stop_flag_path(m->c, m->name, m->stop_flag, sizeof(m->stop_flag));
	srv_console_path(m->c, m->name, m->sock, sizeof(m->sock));
	m->log_fd = open(m->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct stat lst;
	if (m->log_fd >= 0 && fstat(m->log_fd, &lst) == 0)
		m->log_size = (size_t)lst.st_size;
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return vs_fail(err, errno, "monitor: pipe");
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return vs_fail(err, errno, "monitor: pipe");
	}
	m->in_rd = in[0];
	m->in_wr = in[1];
	m->out_rd = out[0];
	m->out_wr = out[1];
	fcntl(m->in_wr, F_SETFL, O_NONBLOCK);
	record_changed(m);
	int r = srv_load(m->c, m->name, &m->s, err);
	if (r < 0)
		return r;
	console_listen(m);
	load_alerts(m);
	return 0;
}

void srv_monitor_main(struct srv_ctx *c, const char *name, const char *exe, int ready_fd)
{
	struct mon m = { .c = c, .name = name, .exe = exe, .log_fd = -1, .listen_fd = -1 };
	for (int i = 0; i < MAX_CLIENTS; i++)
		m.clients[i] = -1;
	struct vs_err err = { 0 };
	prctl(PR_SET_NAME, "vserver-mon", 0, 0, 0);
	/* the server's init becomes our child when the start helper exits */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		dprintf(ready_fd, "monitor: become a child subreaper: %s\n", strerror(errno));
		_exit(1);
	}
	signal(SIGPIPE, SIG_IGN);
	if (setup(&m, &err) < 0) {
		dprintf(ready_fd, "%s\n", err.msg);
		_exit(1);
	}
	srv_status_read(c, name, &m.st);
	m.st.monitor = getpid();
	m.st.monitor_start = rt_pid_start_time(getpid());
	m.st.restarts = 0;
	set_state(&m, "starting");
	unsigned backoff = 1;
	for (bool first = true;; first = false) {
		int r = run_once(&m, first, ready_fd);
		if (r < 0 && first) {
			m.st.monitor = 0;
			set_state(&m, "stopped");
			unlink(m.sock);
			_exit(1);
		}
		if (r >= 0)
			backoff = 1;
		bool stop = access(m.stop_flag, F_OK) == 0;
		enum conf_restart pol = m.s->restart;
		bool again = !stop && (pol == CONF_RESTART_ALWAYS ||
				       (pol == CONF_RESTART_ON_FAILURE && (r < 0 || m.st.exit_code != 0)));
		if (!again)
			break;
		m.st.restarts++;
		m.st.pid = 0;
		set_state(&m, "restarting");
		log_line(&m, "restart policy %s: restarting in %us", conf_restart_name(pol), backoff);
		/* `vserver stop` during the back-off: notice it within 100 ms, not
		 * after up to 30 s (stop gives up waiting long before that) */
		for (unsigned t = 0; t < backoff * 10 && access(m.stop_flag, F_OK) < 0; t++) {
			poll(NULL, 0, 100);
			reap(&m);
		}
		backoff = backoff < 30 ? backoff * 2 : 30;
		if (access(m.stop_flag, F_OK) == 0)
			break;
	}
	m.st.pid = 0;
	m.st.monitor = 0;
	set_state(&m, "stopped");
	unlink(m.stop_flag);
	unlink(m.sock);
	_exit(0);
}
