/* vserver start and stop, and the two steps a monitor runs in a helper
 * process (`vserver __start` and `vserver __stop`): how a server's workload
 * is started (disk, container, network) and undone. The monitor itself is a
 * separate small program (vserver-monitor, monitor.c): `vserver start` runs
 * it, detached, and waits for its first report. */
#include "internal.h"
#include "server-internal.h"
#include "server-vm.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Undoes a start: the container, its veth, ports and caps, the disk mount. */
static void undo_start(struct srv_ctx *c, const char *name, const char *net)
{
	struct vs_err ign = { 0 };
	char dir[PATH_MAX], rootfs[PATH_MAX];
	rt_delete(&c->rt, name, true, &ign);
	if (strcmp(net, "none")) {
		char netdir[PATH_MAX];
		srv_net_dir(c, netdir, sizeof(netdir));
		netns_server_stop(netdir, net, name, &ign);
	}
	srv_path(c, name, NULL, dir, sizeof(dir));
	srv_path(c, name, "rootfs", rootfs, sizeof(rootfs));
	vs_disk_umount(dir, rootfs, &ign);
}

int srv_net_start(struct srv_ctx *c, const struct conf_server *s, pid_t pid, int *tap,
		  struct netns_info *info, struct vs_err *err)
{
	if (!strcmp(s->net, "none"))
		return 0;
	size_t n = vs_strv_len(s->publish);
	_cleanup_free_ struct netns_port *ports = vs_xcalloc(n + 1, sizeof(*ports));
	_cleanup_free_ char (*ips)[64] = vs_xcalloc(n + 1, 64);
	for (size_t i = 0; i < n; i++) {
		unsigned hp, p;
		bool udp;
		if (conf_parse_publish(s->publish[i], ips[i], &hp, &p, &udp) < 0)
			return vs_failx(err, EINVAL, "publish \"%s\": expected [hostip:]hostport:port[/udp]",
					s->publish[i]);
		ports[i] = (struct netns_port){ .proto = udp ? IPPROTO_UDP : IPPROTO_TCP,
						.host_ip = ips[i][0] ? ips[i] : NULL,
						.host_port = (uint16_t)hp, .port = (uint16_t)p };
	}
	char netdir[PATH_MAX];
	srv_net_dir(c, netdir, sizeof(netdir));
	struct netns_server ns = { .state_dir = netdir, .net = s->net, .name = s->name,
				   .ip4 = s->ip, .netns_fd = -1, .pid = pid, .tap_fd = tap,
				   .rate_in = s->bw_in, .rate_out = s->bw_out,
				   .ports = ports, .n_ports = n };
	return netns_server_start(&ns, info, err);
}

static int monitor_path(const struct srv_ctx *c, char *buf, size_t len, struct vs_err *err);

/* runs in: the start helper. An --init server has a pty as /dev/console
 * (systemd writes its boot and shutdown messages there): a child of ours
 * execs the small monitor program as its relay (`vserver-monitor
 * --console-relay`, console-relay.c; a fork of this whole binary cost 1.1
 * MiB of its own memory) to and from the monitor's pipes (our stdin and
 * stdout) while the server lives, reparented to the monitor when we exit.
 * It gets fds 3-5: the master, the pty's other side and a pidfd of init,
 * all opened here, while init is surely our unreaped child. It keeps only
 * those: the report pipe (fd 3 here) must reach EOF when we exit, stderr is
 * the monitor's too. */
static void console_relay(const struct srv_ctx *c, int master, pid_t init)
{
	char mon[PATH_MAX];
	struct vs_err ign = { 0 };
	if (monitor_path(c, mon, sizeof(mon), &ign) < 0)
		return;
	int fds[3] = { master, ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC),
		       (int)syscall(SYS_pidfd_open, init, 0) };
	pid_t p = fds[1] >= 0 && fds[2] >= 0 ? fork() : -1;
	if (p != 0) {
		for (int i = 1; i < 3; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return;
	}
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull >= 0)
		dup2(devnull, 2);
	/* above every target first, so no dup2 below overwrites a source */
	for (int i = 0; i < 3; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 6)) < 0)
			_exit(1);
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], 3 + i) < 0)  /* dup2 clears FD_CLOEXEC */
			_exit(1);
	syscall(SYS_close_range, 6, ~0U, 0);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	execl(mon, "vserver-console", "--console-relay", (char *)NULL);
	_exit(1);
}

/* runs in: the start helper (`vserver __start NAME`), a child of the
 * server's monitor. Mount, create, network, start; on failure everything is
 * undone. With adopt, a server that already runs (its previous monitor was
 * killed) is reported instead of started again. The container's init is our
 * child: when this helper exits it is reparented to the monitor, a child
 * subreaper. */
int srv_workload_start(struct srv_ctx *c, const char *name, bool adopt, struct srv_started *out,
		       struct vs_err *err)
{
	struct conf_server *s = NULL;
	memset(out, 0, sizeof(*out));
	int r = srv_load(c, name, &s, err);
	if (r < 0)
		return r;
	if (s->vm) {  /* --- VM servers: QEMU is our child (server-vm.c) --- */
		r = srv_vm_workload_start(c, s, adopt, out, err);
		conf_server_free(s);
		return r;
	}
	if ((r = srv_check_init_host(s, err)) < 0) {  /* the host may have changed */
		conf_server_free(s);
		return r;
	}
	struct rt_record rec;
	struct vs_err ign = { 0 };
	if (adopt && rt_record_read(&c->rt, name, &rec, &ign) >= 0) {
		bool running = rt_live_status(&c->rt, &rec) == RT_RUNNING;
		rt_state_free(&rec.st);
		if (running) {
			out->adopted = true;
			out->pid = rec.st.pid;
			out->cg_mode = (int)rec.cg.mode;
			snprintf(out->cg_path, sizeof(out->cg_path), "%s", rec.cg.path);
			conf_server_free(s);
			return 0;
		}
	}
	char dir[PATH_MAX], rootfs[PATH_MAX], sdir[PATH_MAX];
	struct vs_store *store = NULL;
	struct vs_image *img = NULL;
	srv_path(c, name, NULL, dir, sizeof(dir));
	srv_path(c, name, "rootfs", rootfs, sizeof(rootfs));
	srv_store_dir(c, sdir, sizeof(sdir));
	r = vs_store_open(sdir, &store, err);
	if (r >= 0)
		r = vs_image_get(store, s->image, &img, err);
	if (r >= 0)
		r = vs_disk_mount(store, img, dir, rootfs, err);
	vs_image_free(img);
	vs_store_close(store);
	if (r < 0) {
		conf_server_free(s);
		return r;
	}
	/* a stale container of the same name (a monitor killed with -9) */
	rt_delete(&c->rt, name, true, &ign);
	struct rt_create_opts o = { .id = name, .bundle = dir, .detach_tty_ok = true };
	int master = -1;
	r = rt_create_full(&c->rt, &o, &out->pid, &master, err);
	struct netns_info ni;
	if (r >= 0)
		r = srv_net_start(c, s, out->pid, NULL, &ni, err);
	if (r >= 0)
		r = rt_start(&c->rt, name, err);
	if (r >= 0 && master >= 0)
		console_relay(c, master, out->pid);
	if (master >= 0)
		close(master);
	if (r >= 0 && rt_record_read(&c->rt, name, &rec, err) >= 0) {
		out->cg_mode = (int)rec.cg.mode;
		snprintf(out->cg_path, sizeof(out->cg_path), "%s", rec.cg.path);
		rt_state_free(&rec.st);
	}
	if (r < 0)
		undo_start(c, name, s->net ? s->net : NETNS_DEFAULT_NET);
	conf_server_free(s);
	return r;
}

/* runs in: the stop helper (`vserver __stop NAME`), after the server's init
 * exited: the container, its network and its disk mount go. *exit_code is
 * the workload's own exit status when the helper knows better than the
 * monitor's wait status (a VM: the agent's line on the console), else -1. */
int srv_workload_stop(struct srv_ctx *c, const char *name, int *exit_code, struct vs_err *err)
{
	struct conf_server *s = NULL;
	*exit_code = -1;
	int r = srv_load(c, name, &s, err);
	if (r < 0)
		return r;
	if (!s->net)
		s->net = vs_xstrdup(NETNS_DEFAULT_NET);
	if (s->vm) {  /* --- VM servers: the status the agent printed --- */
		*exit_code = srv_vm_exit_code(c, name, -1);
		srv_vm_teardown(c, s);
	} else {
		undo_start(c, name, s->net);
	}
	conf_server_free(s);
	return 0;
}

/* The server's record is there and reads. */
static int srv_exists(struct srv_ctx *c, const char *name, struct vs_err *err)
{
	struct conf_server *s = NULL;
	int r = srv_load(c, name, &s, err);
	conf_server_free(s);
	return r;
}

int srv_console_connect(struct srv_ctx *c, const char *name, struct vs_err *err)
{
	int r = srv_exists(c, name, err);
	if (r < 0)
		return r;
	struct srv_status st;
	srv_status_read(c, name, &st);
	if (!srv_monitor_alive(&st))
		return vs_failx(err, ESRCH, "server \"%s\" is not running under a monitor", name);
	char path[PATH_MAX];
	srv_console_path(c, name, path, sizeof(path));
	r = rt_unix_connect(path, err);
	return r < 0 ? vs_wrap(err, "console of \"%s\"", name) : r;
}

/* The monitor program: beside the vserver binary (the build tree), or in
 * ../libexec/vserver/ from it (an installed tree). */
static int monitor_path(const struct srv_ctx *c, char *buf, size_t len, struct vs_err *err)
{
	if (!c->exe[0])
		return vs_failx(err, ENOENT, "vserver: the path of the vserver binary is unknown");
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", c->exe);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return vs_failx(err, ENOENT, "vserver: %s: not an absolute path", c->exe);
	*slash = '\0';
	snprintf(buf, len, "%s/vserver-monitor", dir);
	if (access(buf, X_OK) == 0)
		return 0;
	snprintf(buf, len, "%s/../libexec/vserver/vserver-monitor", dir);
	if (access(buf, X_OK) == 0)
		return 0;
	return vs_failx(err, ENOENT, "vserver: the monitor program is missing: neither %s/vserver-monitor "
			"nor %s", dir, buf);
}

/* runs in: the grandchild of `vserver start`, in its own session: becomes
 * the monitor. Never returns. */
static void exec_monitor(struct srv_ctx *c, const char *name, const char *mon, int ready_fd)
{
	char fdnum[16];
	int fd = ready_fd;
	if (fd < 3)
		fd = fcntl(ready_fd, F_DUPFD, 3);
	if (fd >= 0)
		fcntl(fd, F_SETFD, 0);
	snprintf(fdnum, sizeof(fdnum), "%d", fd);
	int nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		for (int i = 0; i <= 2; i++)
			dup2(nul, i);
		if (nul > 2)
			close(nul);
	}
	execl(mon, "vserver-monitor", "--ready-fd", fdnum, "--vserver", c->exe, name, (char *)NULL);
	dprintf(ready_fd, "run the monitor %s: %s\n", mon, strerror(errno));
	_exit(1);
}

int srv_start(struct srv_ctx *c, const char *name, struct vs_err *err)
{
	int r = srv_exists(c, name, err);
	if (r < 0)
		return r;
	char mon[PATH_MAX];
	r = monitor_path(c, mon, sizeof(mon), err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = srv_lock(c, name, err);
	if (lock < 0)
		return lock;
	struct srv_status st;
	srv_status_read(c, name, &st);
	if (srv_monitor_alive(&st))
		return vs_failx(err, EBUSY, "server \"%s\" is already running", name);
	srv_vm_warn(c, name);  /* --- VM servers: software emulation is announced --- */
	srv_stop_flag(c, name, false);
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) < 0)
		return vs_fail(err, errno, "vserver: pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pp[0]);
		close(pp[1]);
		return vs_fail(err, errno, "vserver: fork the monitor");
	}
	if (pid == 0) {
		close(pp[0]);
		close(lock);
		setsid();
		pid_t m = fork();
		if (m != 0)
			_exit(m < 0);
		exec_monitor(c, name, mon, pp[1]);
	}
	close(pp[1]);
	waitpid(pid, NULL, 0);
	char line[sizeof(err->msg)];
	ssize_t n = vs_read_all(pp[0], line, 1) == 1 ? 1 : 0;
	if (n == 1) {
		ssize_t k = read(pp[0], line + 1, sizeof(line) - 2);
		n += k > 0 ? k : 0;
	}
	close(pp[0]);
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (!strcmp(line, "ok"))
		return 0;
	return vs_failx(err, EIO, "start \"%s\": %s", name, n ? line : "the monitor died");
}

static bool wait_monitor(const struct srv_status *st, int timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, st->monitor, 0);
	if (pfd < 0)
		return true;
	bool gone = true;
	if (rt_pid_alive(st->monitor, st->monitor_start)) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		gone = poll(&p, 1, timeout_ms) > 0;
	}
	close(pfd);
	return gone;
}

/* Waits up to timeout_ms for a process that is not our child to go. */
bool srv_wait_pid_gone(pid_t pid, int timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return errno == ESRCH;
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	bool gone = poll(&p, 1, timeout_ms) > 0;
	close(pfd);
	return gone;
}

/* A server whose monitor was killed: stop its init ourselves and undo what
 * the monitor would have undone at its exit. */
static int stop_unmonitored(struct srv_ctx *c, const char *name, struct srv_status *st,
			    int timeout_s, struct vs_err *err)
{
	struct rt_state rs;
	struct vs_err ign = { 0 };
	if (rt_state(&c->rt, name, &rs, &ign) < 0)
		return vs_failx(err, ESRCH, "server \"%s\" is not running", name);
	pid_t pid = rs.status != RT_STOPPED ? rs.pid : 0;
	rt_state_free(&rs);
	struct conf_server *s = NULL;
	bool init = false;
	_cleanup_free_ char *net = NULL;
	if (srv_load(c, name, &s, NULL) >= 0) {
		init = s->init;
		net = s->net ? vs_xstrdup(s->net) : NULL;
		conf_server_free(s);
	}
	if (pid > 0) {
		if (timeout_s > 0)
			rt_kill(&c->rt, name, init ? SIGRTMIN + 3 : SIGTERM, false, &ign);
		if (timeout_s <= 0 || !srv_wait_pid_gone(pid, timeout_s * 1000)) {
			rt_kill(&c->rt, name, SIGKILL, true, &ign);
			if (!srv_wait_pid_gone(pid, 10000))
				return vs_failx(err, ETIMEDOUT, "stop \"%s\": its init did not exit", name);
		}
	}
	/* a stopped container left behind is torn down the same way */
	undo_start(c, name, net ? net : NETNS_DEFAULT_NET);
	if (pid <= 0)
		return vs_failx(err, ESRCH, "server \"%s\" is not running", name);
	snprintf(st->state, sizeof(st->state), "stopped");
	st->pid = 0;
	st->monitor = 0;
	st->exit_code = -1;
	rt_now_rfc3339(st->stopped, sizeof(st->stopped));
	srv_status_write(c, name, st);
	return 0;
}

int srv_stop(struct srv_ctx *c, const char *name, int timeout_s, struct vs_err *err)
{
	int r = srv_check_name(name, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = srv_lock(c, name, err);
	if (lock < 0)
		return lock;
	struct srv_status st;
	srv_status_read(c, name, &st);
	if (srv_is_vm(c, name))  /* --- VM servers: the ACPI power button --- */
		return srv_vm_stop(c, name, &st, timeout_s, err);
	if (!srv_monitor_alive(&st))
		return stop_unmonitored(c, name, &st, timeout_s, err);
	srv_stop_flag(c, name, true);
	struct conf_server *s = NULL;
	bool init = srv_load(c, name, &s, NULL) >= 0 && s->init;
	conf_server_free(s);
	struct vs_err ign = { 0 };
	/* the init's own shutdown signal: systemd halts on SIGRTMIN+3 */
	if (timeout_s > 0)
		rt_kill(&c->rt, name, init ? SIGRTMIN + 3 : SIGTERM, false, &ign);
	if (timeout_s <= 0 || !wait_monitor(&st, timeout_s * 1000)) {
		rt_kill(&c->rt, name, SIGKILL, true, &ign);
		if (!wait_monitor(&st, 10000))
			return vs_failx(err, ETIMEDOUT, "stop \"%s\": the monitor did not exit", name);
	}
	return 0;
}

/* Every running server, in parallel: one child per server runs srv_stop.
 * *stopped counts those stopped; the first failure is returned. */
int srv_shutdown(struct srv_ctx *c, int timeout_s, unsigned *stopped, struct vs_err *err)
{
	char **names = NULL;
	*stopped = 0;
	int r = srv_names(c, &names, err);
	if (r < 0)
		return r;
	size_t n = vs_strv_len(names), started = 0;
	pid_t *kids = vs_xcalloc(n + 1, sizeof(*kids));
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) {
		free(kids);
		vs_strv_free(names);
		return vs_fail(err, errno, "vserver: pipe");
	}
	bool forkfail = false;
	for (size_t i = 0; i < n; i++) {
		struct srv_status st;
		srv_status_read(c, names[i], &st);
		struct rt_state rs;
		struct vs_err ign = { 0 };
		bool unmonitored = false;
		if (!srv_monitor_alive(&st) && rt_state(&c->rt, names[i], &rs, &ign) >= 0) {
			unmonitored = rs.status == RT_RUNNING || rs.status == RT_PAUSED;
			rt_state_free(&rs);
		}
		if (!srv_monitor_alive(&st) && srv_vm_running(c, names[i]))
			unmonitored = true;  /* --- VM servers: a VMM without its monitor --- */
		if (!srv_monitor_alive(&st) && !unmonitored)
			continue;
		pid_t p = fork();
		if (p == 0) {
			struct vs_err e = { 0 };
			if (srv_stop(c, names[i], timeout_s, &e) < 0 && e.code != ESRCH) {
				/* one line each, atomically (below PIPE_BUF) */
				char line[sizeof(e.msg) + 2];
				int k = snprintf(line, sizeof(line), "%s\n", e.msg);
				vs_write_all(ep[1], line, (size_t)(k < (int)sizeof(line) ? k : (int)sizeof(line) - 1));
				_exit(1);
			}
			_exit(0);
		}
		if (p > 0)
			kids[started++] = p;
		else if (p < 0)
			forkfail = true;  /* that server keeps running: not a success */
	}
	close(ep[1]);
	int first = forkfail ? -EIO : 0;
	for (size_t i = 0; i < started; i++) {
		int status = 0;
		while (waitpid(kids[i], &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			(*stopped)++;
		else
			first = -EIO;
	}
	if (first < 0) {
		char line[sizeof(err->msg)];
		ssize_t k = read(ep[0], line, sizeof(line) - 1);
		line[k > 0 ? k : 0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		vs_failx(err, EIO, "shutdown: %s", line[0] ? line : forkfail ? "fork failed" : "a stop failed");
	}
	close(ep[0]);
	free(kids);
	vs_strv_free(names);
	return first;
}
