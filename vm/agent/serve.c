/* vserver-agent, part 2: the loop. As PID 1 it reaps every orphan, powers
 * the VM off when the server's command ends (printing its exit status on
 * the console for the host's monitor), turns the ACPI power button into
 * SIGTERM for the command (SIGKILL after 10 s), and serves one exec at a
 * time on the virtio-serial port named "vserver.agent" (proto.h).
 * Found without udev: /sys/class/virtio-ports/<dev>/name, /sys/class/input/
 * <ev>/device/name. The port's writes block while no host is connected, so
 * the port is non-blocking and a host that goes away ends the exec.
 *
 * "No host" (a read of 0, POLLHUP) is believed only after HUP_GRACE_MS: the
 * guest's driver learns that a host connected from a control message that a
 * work queue handles, while the host's first bytes are queued on the port by
 * the interrupt itself. So a new exec's EXEC (or half of it) can be read
 * while the port still says "no host", and the next read returns 0 although
 * the host is there. Ending the exec then (as this agent once did) left the
 * host waiting forever for a frame; it happened on a loaded machine, where
 * the work queue runs late. Within that grace the next host may read the end
 * of the last exec: each frame carries its exec's tag (proto.h), and that host
 * drops what is not its own.
 *
 * A command's output is copied PUMP_READS reads at a time per round of the
 * loop, so that a command that writes without end (`yes`) cannot keep the
 * host's SIGNAL or EOF unread: each round also reads the port. */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TERM_GRACE_MS 10000
#define HUP_GRACE_MS 3000
#define PUMP_READS 4           /* per pipe and round: 64 KiB, a pipe's worth */
#define PUMP_DRAIN 64          /* at the end of an exec: what its pipes still hold */

struct session {
	pid_t pid;             /* 0 = none */
	int in, out, err;      /* -1 = closed */
	bool exited;
	int code;
	uint32_t tag;          /* of its EXEC, on every frame of the reply */
};

static struct {
	pid_t workload;
	int port, power, sfd;
	bool test;             /* --serve-fd: the port is a test's socket */
	unsigned char buf[8 + AGENT_MAX_PAYLOAD];
	size_t have;
	struct session s;
	uint64_t term_deadline, hup_until, power_search_end;
	uint64_t hup_since;    /* when the port began to look hung up; 0 = it does not */
} g = { .port = -1, .power = -1, .sfd = -1 };

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* the /dev node whose /sys/class/<cls>/<node>/<attr> reads want */
static int find_dev(const char *cls, const char *attr, const char *want, char *out, size_t len)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "/sys/class/%s", cls);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *de;
	int r = -1;
	while (r < 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s/%s", dir, de->d_name, attr);
		char *v = agent_read_file(path, NULL);
		if (v) {
			v[strcspn(v, "\n")] = '\0';
			if (!strcmp(v, want)) {
				snprintf(out, len, "/dev/%s%s", !strcmp(cls, "input") ? "input/" : "",
					 de->d_name);
				r = 0;
			}
			free(v);
		}
	}
	closedir(d);
	return r;
}

static void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* writes all of buf to the port; false when the host went away */
static bool port_write(const void *buf, size_t len)
{
	const char *p = buf;
	int stalls = 0;
	while (len && g.port >= 0) {
		ssize_t n = write(g.port, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			stalls = 0;
			g.hup_since = 0;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return false;
		struct pollfd pf = { .fd = g.port, .events = POLLOUT };
		int k = poll(&pf, 1, 1000);
		if (k == 0 && ++stalls > 10)
			return false;
		if (k > 0 && !(pf.revents & POLLOUT) && (pf.revents & POLLHUP)) {
			/* no host, or its connect not yet seen: wait a while (see the top) */
			uint64_t now = now_ms();
			if (!g.hup_since)
				g.hup_since = now;
			if (now - g.hup_since >= HUP_GRACE_MS)
				return false;
			struct timespec ts = { 0, 20000000L };
			nanosleep(&ts, NULL);
		}
	}
	return len == 0;
}

static bool send_frame(uint8_t type, const void *data, size_t len)
{
	unsigned char h[8];
	agent_put_hdr(h, type, g.s.tag, (uint32_t)len);
	return port_write(h, sizeof(h)) && (!len || port_write(data, len));
}

static void session_end(bool send_exit)
{
	struct session *s = &g.s;
	if (s->pid > 0 && !s->exited) {
		kill(-s->pid, SIGKILL);
		kill(s->pid, SIGKILL);
	}
	closefd(&s->in);
	closefd(&s->out);
	closefd(&s->err);
	if (send_exit && s->pid > 0) {
		unsigned char c[4];
		agent_put_u32(c, (uint32_t)s->code);
		send_frame(AGENT_EXIT, c, 4);
	}
	/* a killed one is reaped by the SIGCHLD loop */
	s->pid = 0;
	s->exited = false;
}

/* an exec that could not be started: STARTED 0, why, and its status */
static void refuse(const char *why, int code)
{
	unsigned char c[4] = { 0 };
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "vserver-agent: %s\n", why);
	if (send_frame(AGENT_STARTED, c, 4) && send_frame(AGENT_STDERR, msg, (size_t)n)) {
		agent_put_u32(c, (uint32_t)code);
		send_frame(AGENT_EXIT, c, 4);
	}
}

static void session_start(uint32_t tag, const unsigned char *p, size_t len)
{
	struct agent_proc proc = { 0 };
	if (g.s.pid)
		session_end(false);
	g.s.tag = tag;
	if (agent_decode_proc(p, len, &proc) < 0) {
		refuse("bad exec request", 127);
		return;
	}
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		for (int i = 0; i < 2; i++) {
			closefd(&in[i]);
			closefd(&out[i]);
			closefd(&err[i]);
		}
		free(proc.argv);
		refuse("exec: out of pipes", 126);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (agent_become(&proc) < 0)
			_exit(126);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);  /* the agent ignores it; its commands must not */
		execvpe(proc.argv[0], proc.argv, proc.envp);
		dprintf(2, "vserver-agent: exec %s: %s\n", proc.argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	free(proc.argv);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	g.s = (struct session){ .pid = pid, .in = in[1], .out = out[0], .err = err[0], .tag = tag };
	fcntl(g.s.out, F_SETFL, O_NONBLOCK);
	fcntl(g.s.err, F_SETFL, O_NONBLOCK);
	if (pid < 0) {
		session_end(false);
		refuse("exec: fork failed", 126);
		return;
	}
	unsigned char c[4];
	agent_put_u32(c, (uint32_t)pid);
	if (!send_frame(AGENT_STARTED, c, 4))
		session_end(false);
}

/* copies what a pipe has to the host, at most reads reads; closes it at EOF */
static void pump(int *fd, uint8_t type, int reads)
{
	char buf[16384];
	while (reads-- > 0) {
		ssize_t n = read(*fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			closefd(fd);
			return;
		}
		if (!send_frame(type, buf, (size_t)n)) {
			session_end(false);
			return;
		}
	}
}

static void on_frame(uint8_t type, uint32_t tag, const unsigned char *p, size_t len)
{
	if (type != AGENT_EXEC && tag != g.s.tag)
		return;  /* for an exec that is over */
	switch (type) {
	case AGENT_EXEC:
		session_start(tag, p, len);
		break;
	case AGENT_STDIN:
		if (g.s.in >= 0) {
			size_t off = 0;
			while (off < len) {
				ssize_t n = write(g.s.in, p + off, len - off);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					closefd(&g.s.in);
					break;
				}
				off += (size_t)n;
			}
		}
		break;
	case AGENT_EOF:
		closefd(&g.s.in);
		break;
	case AGENT_SIGNAL:
		if (len >= 4 && g.s.pid > 0 && !g.s.exited)
			kill(-g.s.pid, (int)agent_get_u32(p));
		break;
	}
}

/* the host went away: drop the exec and what was half received */
static void port_hup(void)
{
	if (g.s.pid)
		session_end(false);
	g.have = 0;
	g.hup_since = 0;
	g.hup_until = now_ms() + 200;
}

/* a read of 0: no host, or one whose connect is not yet seen (see the top).
 * With nothing under way that is just idle; otherwise look again shortly and
 * end the exec only when the port stays hung up. */
static void port_eof(void)
{
	uint64_t now = now_ms();
	if (g.test && !g.s.pid)
		_exit(0);  /* the test closed its end */
	if (!g.s.pid && !g.have) {
		g.hup_since = 0;
		g.hup_until = now + 200;
		return;
	}
	if (!g.hup_since)
		g.hup_since = now;
	if (now - g.hup_since >= HUP_GRACE_MS)
		port_hup();
	else
		g.hup_until = now + 20;
}

static void port_read(void)
{
	ssize_t n = read(g.port, g.buf + g.have, sizeof(g.buf) - g.have);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		port_hup();
		return;
	}
	if (n == 0) {
		port_eof();
		return;
	}
	g.hup_since = 0;
	g.have += (size_t)n;
	for (;;) {
		if (g.have < 8)
			return;
		uint32_t len = agent_get_u32(g.buf + 4);
		if (len > AGENT_MAX_PAYLOAD) {
			port_hup();  /* out of step: start over */
			return;
		}
		if (g.have < 8 + len)
			return;
		on_frame(g.buf[0], agent_hdr_tag(g.buf), g.buf + 8, len);
		memmove(g.buf, g.buf + 8 + len, g.have - 8 - len);
		g.have -= 8 + len;
	}
}

void agent_poweroff(void)
{
	if (getpid() != 1)
		_exit(0);
	kill(-1, SIGTERM);
	for (int i = 0; i < 20; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (kill(-1, 0) < 0 && errno == ESRCH)
			break;
		struct timespec ts = { 0, 100000000L };
		nanosleep(&ts, NULL);
	}
	kill(-1, SIGKILL);
	sync();
	mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
	sync();
	reboot(RB_POWER_OFF);
	_exit(1);
}

static int status_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void reap(void)
{
	struct signalfd_siginfo si;
	while (read(g.sfd, &si, sizeof(si)) > 0)
		;
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == g.workload) {
			agent_log(AGENT_EXIT_MARK "%d", status_code(st));
			agent_poweroff();
		}
		if (pid == g.s.pid) {
			g.s.exited = true;
			g.s.code = status_code(st);
		}
	}
}

static void power_key(void)
{
	struct input_event ev[8];
	ssize_t n = read(g.power, ev, sizeof(ev));
	for (ssize_t i = 0; n > 0 && i < n / (ssize_t)sizeof(ev[0]); i++) {
		if (ev[i].type != EV_KEY || ev[i].code != KEY_POWER || ev[i].value != 1)
			continue;
		if (g.workload <= 0 || g.term_deadline)
			continue;
		agent_log("power button: stopping the server");
		kill(-g.workload, SIGTERM);
		kill(g.workload, SIGTERM);
		g.term_deadline = now_ms() + TERM_GRACE_MS;
	}
}

static void find_devices(void)
{
	char path[300];
	uint64_t now = now_ms();
	if (g.port < 0 && now >= g.hup_until &&
	    find_dev("virtio-ports", "name", AGENT_PORT_NAME, path, sizeof(path)) == 0)
		g.port = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (g.power < 0 && g.workload > 0 && now < g.power_search_end &&
	    find_dev("input", "device/name", "Power Button", path, sizeof(path)) == 0)
		g.power = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

void agent_serve_fd(int fd)
{
	g.port = fd;
	g.test = true;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	agent_serve(0);
}

void agent_serve(pid_t workload)
{
	g.workload = workload;
	g.s = (struct session){ .in = -1, .out = -1, .err = -1 };
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	g.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	g.power_search_end = now_ms() + 15000;
	reap();
	for (;;) {
		find_devices();
		uint64_t now = now_ms();
		if (g.term_deadline && now >= g.term_deadline) {
			agent_log("the server did not stop in time: killing it");
			kill(-1, SIGKILL);
			g.term_deadline = 0;
		}
		struct pollfd p[5];
		int n = 0, ip = -1, iw = -1, io = -1, ie = -1;
		p[n++] = (struct pollfd){ .fd = g.sfd, .events = POLLIN };
		if (g.port >= 0 && now >= g.hup_until) {
			ip = n;
			p[n++] = (struct pollfd){ .fd = g.port, .events = POLLIN };
		}
		if (g.power >= 0) {
			iw = n;
			p[n++] = (struct pollfd){ .fd = g.power, .events = POLLIN };
		}
		if (g.s.out >= 0) {
			io = n;
			p[n++] = (struct pollfd){ .fd = g.s.out, .events = POLLIN };
		}
		if (g.s.err >= 0) {
			ie = n;
			p[n++] = (struct pollfd){ .fd = g.s.err, .events = POLLIN };
		}
		bool searching = g.port < 0 || (g.power < 0 && g.workload > 0 && now < g.power_search_end);
		int timeout = (searching || now < g.hup_until || g.term_deadline) ? 200 : -1;
		if (now < g.hup_until && g.hup_until - now < 200)
			timeout = (int)(g.hup_until - now);
		if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR)
			continue;
		if (p[0].revents)
			reap();
		if (io >= 0 && p[io].revents)
			pump(&g.s.out, AGENT_STDOUT, PUMP_READS);
		if (ie >= 0 && g.s.err >= 0 && p[ie].revents)
			pump(&g.s.err, AGENT_STDERR, PUMP_READS);
		if (iw >= 0 && p[iw].revents)
			power_key();
		if (ip >= 0 && g.port >= 0 && p[ip].revents)
			port_read();
		/* the exec ended: what is left in its pipes, then its status */
		if (g.s.pid > 0 && g.s.exited) {
			if (g.s.out >= 0)
				pump(&g.s.out, AGENT_STDOUT, PUMP_DRAIN);
			if (g.s.err >= 0)
				pump(&g.s.err, AGENT_STDERR, PUMP_DRAIN);
			if (g.s.pid > 0)
				session_end(true);
		}
	}
}
