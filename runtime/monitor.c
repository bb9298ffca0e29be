/* vserver start/stop and the per-server monitor: a small process that is the
 * parent of the server's init. It mounts the disk, creates and starts the
 * container, wires the network, keeps the console log (rotated), records the
 * exit, applies the restart policy and evaluates alerts. No central daemon:
 * one monitor's death touches no other server. */
#include "internal.h"
#include "server-internal.h"
#include "server-vm.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#define LOG_ROTATE_BYTES (1u << 20)

int srv_status_write(const struct srv_ctx *c, const char *name, const struct srv_status *st)
{
	char path[PATH_MAX], buf[1024];
	srv_path(c, name, "status.json", path, sizeof(path));
	int n = snprintf(buf, sizeof(buf),
			 "{\"state\":\"%s\",\"pid\":%d,\"monitor\":%d,\"monitorStart\":%llu,"
			 "\"exitCode\":%d,\"restarts\":%u,\"started\":\"%s\",\"stopped\":\"%s\"}\n",
			 st->state, (int)st->pid, (int)st->monitor, st->monitor_start, st->exit_code,
			 st->restarts, st->started, st->stopped);
	return vs_write_file_atomic(path, buf, (size_t)n, 0600);
}

int srv_status_read(const struct srv_ctx *c, const char *name, struct srv_status *st)
{
	char path[PATH_MAX];
	memset(st, 0, sizeof(*st));
	snprintf(st->state, sizeof(st->state), "stopped");
	st->exit_code = -1;
	srv_path(c, name, "status.json", path, sizeof(path));
	_cleanup_free_ char *data = NULL;
	int r = vs_read_file(path, &data, NULL);
	if (r < 0)
		return r;
	yajl_val root = yajl_tree_parse(data, NULL, 0);
	if (!root)
		return -EINVAL;
	const char *k[2] = { NULL, NULL };
#define S(key, dst) k[0] = key; { yajl_val v = yajl_tree_get(root, k, yajl_t_string); \
	if (v) snprintf(dst, sizeof(dst), "%s", YAJL_GET_STRING(v)); }
#define I(key, dst) k[0] = key; { yajl_val v = yajl_tree_get(root, k, yajl_t_number); \
	if (v && YAJL_IS_INTEGER(v)) dst = YAJL_GET_INTEGER(v); }
	S("state", st->state);
	S("started", st->started);
	S("stopped", st->stopped);
	I("pid", st->pid);
	I("monitor", st->monitor);
	I("monitorStart", st->monitor_start);
	I("exitCode", st->exit_code);
	I("restarts", st->restarts);
#undef S
#undef I
	yajl_tree_free(root);
	return 0;
}

bool srv_monitor_alive(const struct srv_status *st)
{
	return st->monitor > 0 && rt_pid_alive(st->monitor, st->monitor_start);
}

/* ---- the monitor ---- */

struct mon {
	struct srv_ctx *c;
	const char *name;
	struct conf_server *s;
	struct srv_status st;
	char dir[PATH_MAX], rootfs[PATH_MAX], log[PATH_MAX], stop_flag[PATH_MAX];
	int log_fd, pipe_rd;
	size_t log_size;
	struct srv_alert *alerts;
	size_t n_alerts;
	struct timespec rec_mtim; /* server.json as last loaded: a change reloads the rules */
	ino_t rec_ino;
};

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

static void teardown(struct mon *m)
{
	if (m->s->vm) {  /* --- VM servers --- */
		srv_vm_teardown(m->c, m->s);
		return;
	}
	undo_start(m->c, m->name, m->s->net);
}

static int net_start(struct mon *m, pid_t pid, struct vs_err *err)
{
	const struct conf_server *s = m->s;
	if (!strcmp(s->net, "none"))
		return 0;
	size_t n = vs_strv_len(s->publish);
	struct netns_port *ports = vs_xcalloc(n + 1, sizeof(*ports));
	char (*ips)[64] = vs_xcalloc(n + 1, 64);
	for (size_t i = 0; i < n; i++) {
		unsigned hp, p;
		bool udp;
		if (conf_parse_publish(s->publish[i], ips[i], &hp, &p, &udp) < 0) {
			free(ports);
			free(ips);
			return vs_failx(err, EINVAL, "publish \"%s\": expected [hostip:]hostport:port[/udp]",
					s->publish[i]);
		}
		ports[i] = (struct netns_port){ .proto = udp ? IPPROTO_UDP : IPPROTO_TCP,
						.host_ip = ips[i][0] ? ips[i] : NULL,
						.host_port = (uint16_t)hp, .port = (uint16_t)p };
	}
	char netdir[PATH_MAX];
	srv_net_dir(m->c, netdir, sizeof(netdir));
	struct netns_server ns = { .state_dir = netdir, .net = s->net, .name = s->name,
				   .ip4 = s->ip, .netns_fd = -1, .pid = pid,
				   .rate_in = s->bw_in, .rate_out = s->bw_out,
				   .ports = ports, .n_ports = n };
	struct netns_info info;
	int r = netns_server_start(&ns, &info, err);
	free(ports);
	free(ips);
	return r;
}

/* Mount, create, network, start. On failure everything is undone. */
static int start_once(struct mon *m, pid_t *pid, struct vs_err *err)
{
	if (m->s->vm) {  /* --- VM servers: QEMU is the child (server-vm.c) --- */
		char warn[256] = "";
		/* the console through our stdout, the pipe into the log */
		int r = srv_vm_start(m->c, m->s, STDOUT_FILENO, pid, warn, sizeof(warn), err);
		if (warn[0])
			log_line(m, "%s", warn);
		return r;
	}
	char sdir[PATH_MAX];
	struct vs_store *store = NULL;
	struct vs_image *img = NULL;
	srv_store_dir(m->c, sdir, sizeof(sdir));
	int r = vs_store_open(sdir, &store, err);
	if (r >= 0)
		r = vs_image_get(store, m->s->image, &img, err);
	if (r >= 0)
		r = vs_disk_mount(store, img, m->dir, m->rootfs, err);
	vs_image_free(img);
	vs_store_close(store);
	if (r < 0)
		return r;
	/* a stale container of the same name (a monitor killed with -9) */
	struct vs_err ign = { 0 };
	rt_delete(&m->c->rt, m->name, true, &ign);
	struct rt_create_opts o = { .id = m->name, .bundle = m->dir };
	r = rt_create_full(&m->c->rt, &o, pid, NULL, err);
	if (r >= 0)
		r = net_start(m, *pid, err);
	if (r >= 0)
		r = rt_start(&m->c->rt, m->name, err);
	if (r < 0)
		teardown(m);
	return r;
}

static void load_alerts(struct mon *m);

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

static void check_alerts(struct mon *m)
{
	reload_alerts(m);
	if (!m->n_alerts)
		return;
	struct srv_stats st;
	struct vs_err err = { 0 };
	if (srv_stats(m->c, m->name, 0, &st, &err) < 0)
		return;
	/* cpu % over the last tick, from the usage counter */
	for (size_t i = 0; i < m->n_alerts; i++) {
		struct srv_alert *a = &m->alerts[i];
		double v;
		if (!strcmp(a->metric, "memory"))
			v = a->percent ? (st.mem_limit ? 100.0 * (double)st.mem_usage / (double)st.mem_limit : 0)
				       : (double)st.mem_usage;
		else if (!strcmp(a->metric, "pids"))
			v = a->percent ? (st.pids_limit ? 100.0 * (double)st.pids / (double)st.pids_limit : 0)
				       : (double)st.pids;
		else
			v = st.cpu_percent;
		bool hit = a->op == '>' ? v > a->value : v < a->value;
		a->held = hit ? a->held + 1 : 0;
		if (!hit)
			a->fired = false;
		if (hit && !a->fired && a->held >= a->for_s) {
			a->fired = true;
			log_line(m, "alert: %s %c %g%s for %us (now %.1f)", a->metric, a->op, a->value,
				 a->percent ? "%" : "", a->for_s, v);
			char path[PATH_MAX], line[512], ts[64];
			rt_now_rfc3339(ts, sizeof(ts));
			srv_path(m->c, m->name, "alerts.log", path, sizeof(path));
			int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
			if (fd >= 0) {
				int n = snprintf(line, sizeof(line), "%.19s %s %c %g%s for %us: %.1f\n", ts,
						 a->metric, a->op, a->value, a->percent ? "%" : "",
						 a->for_s, v);
				vs_write_all(fd, line, (size_t)n);
				close(fd);
			}
			if (a->cmd) {
				/* forked twice, so the command is never our child: the
				 * monitor waits for nothing but the server's init */
				pid_t p = fork();
				if (p == 0 && fork() != 0)
					_exit(0);
				if (p == 0) {
					setenv("VSERVER_NAME", m->name, 1);
					setenv("VSERVER_ALERT", a->metric, 1);
					int nul = open("/dev/null", O_RDWR);
					dup2(nul, 0);
					execl("/bin/sh", "sh", "-c", a->cmd, (char *)NULL);
					_exit(127);
				}
				if (p > 0)
					waitpid(p, NULL, 0);
			}
		}
	}
}

/* Copies the server's output into the log until init exits; returns its
 * wait status. */
static int watch(struct mon *m, pid_t pid)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status = 0;
	uint64_t next_tick = vs_now_ns() + 1000000000ULL;
	for (;;) {
		struct pollfd p[2] = { { .fd = pfd, .events = POLLIN },
				       { .fd = m->pipe_rd, .events = POLLIN } };
		uint64_t now = vs_now_ns();
		int timeout = now >= next_tick ? 0 : (int)((next_tick - now) / 1000000ULL) + 1;
		int n = poll(p, 2, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN) {
			char buf[16384];
			ssize_t k = read(m->pipe_rd, buf, sizeof(buf));
			if (k > 0)
				log_write(m, buf, (size_t)k);
		}
		if (vs_now_ns() >= next_tick) {
			next_tick += 1000000000ULL;
			check_alerts(m);
		}
		if (pfd < 0 || (p[0].revents & POLLIN)) {
			pid_t w = waitpid(pid, &status, pfd < 0 ? 0 : WNOHANG);
			if (w == pid)
				break;
			if (w < 0 && errno == ECHILD) {
				/* adopted from a dead monitor: not our child, status unknown */
				status = 255 << 8;
				break;
			}
		}
	}
	/* drain what is left */
	for (;;) {
		struct pollfd p = { .fd = m->pipe_rd, .events = POLLIN };
		char buf[16384];
		if (poll(&p, 1, 0) <= 0)
			break;
		ssize_t k = read(m->pipe_rd, buf, sizeof(buf));
		if (k <= 0)
			break;
		log_write(m, buf, (size_t)k);
	}
	if (pfd >= 0)
		close(pfd);
	return status;
}

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

void srv_monitor_main(struct srv_ctx *c, const char *name, int ready_fd)
{
	struct mon m = { .c = c, .name = name, .log_fd = -1 };
	struct vs_err err = { 0 };
	prctl(PR_SET_NAME, "vserver-mon", 0, 0, 0);
	srv_path(c, name, NULL, m.dir, sizeof(m.dir));
	srv_path(c, name, "rootfs", m.rootfs, sizeof(m.rootfs));
	srv_path(c, name, "console.log", m.log, sizeof(m.log));
	snprintf(m.stop_flag, sizeof(m.stop_flag), "%s/%s.stop", c->run, name);
	m.log_fd = open(m.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct stat lst;
	if (m.log_fd >= 0 && fstat(m.log_fd, &lst) == 0)
		m.log_size = (size_t)lst.st_size;

	/* the server's stdio: nothing in, everything out into our pipe */
	int pp[2];
	int nul = open("/dev/null", O_RDWR);
	record_changed(&m);
	if (pipe2(pp, O_CLOEXEC) < 0 || nul < 0 || srv_load(c, name, &m.s, &err) < 0) {
		if (!err.msg[0])
			vs_fail(&err, errno, "monitor: setup");
		dprintf(ready_fd, "%s\n", err.msg);
		_exit(1);
	}
	m.pipe_rd = pp[0];
	dup2(nul, 0);
	dup2(pp[1], 1);
	dup2(pp[1], 2);
	close(pp[1]);
	close(nul);
	load_alerts(&m);
	if (!m.s->net)
		m.s->net = vs_xstrdup(NETNS_DEFAULT_NET);

	srv_status_read(c, name, &m.st);
	m.st.monitor = getpid();
	m.st.monitor_start = rt_pid_start_time(getpid());
	m.st.restarts = 0;
	unsigned backoff = 1;
	bool first = true;
	for (;;) {
		pid_t pid = 0;
		int r;
		struct rt_state rs;
		struct vs_err ign = { 0 };
		bool have = first && !m.s->vm && rt_state(&c->rt, name, &rs, &ign) >= 0;
		bool running = have && rs.status == RT_RUNNING;
		if (running)
			pid = rs.pid;
		/* --- VM servers: a VMM left by a killed monitor is adopted --- */
		if (first && m.s->vm && m.st.pid > 0 && rt_pid_alive(m.st.pid, 0)) {
			running = true;
			pid = m.st.pid;
		}
		if (have)
			rt_state_free(&rs);
		if (running) {
			/* the previous monitor was killed; its server still runs: adopt it */
			log_line(&m, "adopting the running server (pid %d)", (int)pid);
			r = 0;
		} else {
			snprintf(m.st.state, sizeof(m.st.state), "starting");
			srv_status_write(c, name, &m.st);
			r = start_once(&m, &pid, &err);
		}
		if (r < 0) {
			log_line(&m, "start failed: %s", err.msg);
			if (first) {
				dprintf(ready_fd, "%s\n", err.msg);
				snprintf(m.st.state, sizeof(m.st.state), "stopped");
				m.st.monitor = 0;
				srv_status_write(c, name, &m.st);
				_exit(1);
			}
		} else {
			m.st.pid = pid;
			rt_now_rfc3339(m.st.started, sizeof(m.st.started));
			snprintf(m.st.state, sizeof(m.st.state), "running");
			srv_status_write(c, name, &m.st);
			log_line(&m, "started (pid %d)", (int)pid);
			if (first) {
				dprintf(ready_fd, "ok\n");
				close(ready_fd);
				first = false;
			}
			int status = watch(&m, pid);
			m.st.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			if (m.s->vm)  /* --- VM servers: the status the agent printed --- */
				m.st.exit_code = srv_vm_exit_code(c, name, m.st.exit_code);
			rt_now_rfc3339(m.st.stopped, sizeof(m.st.stopped));
			log_line(&m, "exited with status %d", m.st.exit_code);
			teardown(&m);
			backoff = 1;
		}
		bool stop = access(m.stop_flag, F_OK) == 0;
		enum conf_restart pol = m.s->restart;
		bool again = !stop && (pol == CONF_RESTART_ALWAYS ||
				       (pol == CONF_RESTART_ON_FAILURE && (r < 0 || m.st.exit_code != 0)));
		if (!again)
			break;
		m.st.restarts++;
		snprintf(m.st.state, sizeof(m.st.state), "restarting");
		m.st.pid = 0;
		srv_status_write(c, name, &m.st);
		log_line(&m, "restart policy %s: restarting in %us", conf_restart_name(pol), backoff);
		/* `vserver stop` during the back-off: notice it within 100 ms, not
		 * after up to 30 s (stop gives up waiting long before that) */
		for (unsigned t = 0; t < backoff * 10 && access(m.stop_flag, F_OK) < 0; t++)
			poll(NULL, 0, 100);
		backoff = backoff < 30 ? backoff * 2 : 30;
		if (access(m.stop_flag, F_OK) == 0)
			break;
	}
	snprintf(m.st.state, sizeof(m.st.state), "stopped");
	m.st.pid = 0;
	m.st.monitor = 0;
	srv_status_write(c, name, &m.st);
	unlink(m.stop_flag);
	_exit(0);
}

int srv_start(struct srv_ctx *c, const char *name, struct vs_err *err)
{
	struct conf_server *s = NULL;
	int r = srv_load(c, name, &s, err);
	if (r < 0)
		return r;
	conf_server_free(s);
	_cleanup_close_ int lock = srv_lock(c, name, err);
	if (lock < 0)
		return lock;
	struct srv_status st;
	srv_status_read(c, name, &st);
	if (srv_monitor_alive(&st))
		return vs_failx(err, EBUSY, "server \"%s\" is already running", name);
	srv_vm_warn(c, name);  /* --- VM servers: software emulation is announced --- */
	char flag[PATH_MAX];
	snprintf(flag, sizeof(flag), "%s/%s.stop", c->run, name);
	unlink(flag);
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
		srv_monitor_main(c, name, pp[1]);
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
static bool wait_pid_gone(pid_t pid, int timeout_ms)
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
		if (timeout_s <= 0 || !wait_pid_gone(pid, timeout_s * 1000)) {
			rt_kill(&c->rt, name, SIGKILL, true, &ign);
			if (!wait_pid_gone(pid, 10000))
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
	char flag[PATH_MAX];
	snprintf(flag, sizeof(flag), "%s/%s.stop", c->run, name);
	int fd = open(flag, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
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
