/* vserver-agent, part 1: the boot. Runs as /init of the initramfs the host
 * builds (vm/initramfs.c): mounts proc, sys and dev, loads the modules in
 * /modules/order, mounts the server's disk (/dev/vda), configures eth0 from
 * the kernel command line (vs.ip=ADDR/PREFIX vs.gw=ADDR vs.ip6=ADDR/PREFIX
 * vs.gw6=ADDR vs.host=NAME),
 * switches root to the disk and starts the server's command (/vs/process),
 * or, with /vs/init present, forks itself to keep serving and execs the
 * image's /sbin/init as PID 1. Then serves exec requests (serve.c).
 * Static, no libraries beyond libc. Messages go to the console. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void agent_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	int out = fd >= 0 ? fd : 2;
	if (write(out, "vserver-agent: ", 15) > 0 && write(out, buf, (size_t)n) > 0) {
	}
	if (fd >= 0)
		close(fd);
}

char *agent_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (n + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		ssize_t k = read(fd, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

bool agent_cmdline(const char *key, char *buf, size_t len)
{
	static char *cmd;
	if (!cmd && !(cmd = agent_read_file("/proc/cmdline", NULL)))
		return false;
	size_t kl = strlen(key);
	for (const char *p = cmd; *p;) {
		while (*p == ' ' || *p == '\n')
			p++;
		size_t w = strcspn(p, " \n");
		if (w > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t v = w - kl - 1;
			if (v >= len)
				v = len - 1;
			memcpy(buf, p + kl + 1, v);
			buf[v] = '\0';
			return true;
		}
		p += w;
	}
	return false;
}

int agent_decode_proc(const unsigned char *p, size_t len, struct agent_proc *out)
{
	if (len < 8)
		return -1;
	uint32_t argc = agent_get_u32(p), envc = agent_get_u32(p + 4);
	if (argc == 0 || argc > 4096 || envc > 4096)
		return -1;
	const char *s = (const char *)p + 8, *end = (const char *)p + len;
	char **v = calloc(argc + 1 + envc + 1, sizeof(char *));
	for (uint32_t i = 0; i < argc + envc + 1; i++) {
		const char *z = memchr(s, '\0', (size_t)(end - s));
		if (!z) {
			free(v);
			return -1;
		}
		if (i < argc)
			v[i] = (char *)s;
		else if (i < argc + envc)
			v[i + 1] = (char *)s;
		else
			out->cwd = s;
		s = z + 1;
	}
	/* the user, when the request carries one */
	const unsigned char *u = (const unsigned char *)s, *e = (const unsigned char *)end;
	if (e - u >= 12) {
		out->uid = agent_get_u32(u);
		out->gid = agent_get_u32(u + 4);
		out->ngids = agent_get_u32(u + 8);
		if (out->ngids > AGENT_MAX_GIDS || (size_t)(e - u - 12) < 4 * (size_t)out->ngids) {
			free(v);
			return -1;
		}
		for (uint32_t i = 0; i < out->ngids; i++)
			out->gids[i] = agent_get_u32(u + 12 + 4 * i);
	}
	out->argv = v;
	out->envp = v + argc + 1;
	return 0;
}

int agent_become(const struct agent_proc *p)
{
	if (setgroups(p->ngids, p->gids) < 0) {
		dprintf(2, "vserver-agent: setgroups: %s\n", strerror(errno));
		return -1;
	}
	if (setgid(p->gid) < 0 || setuid(p->uid) < 0) {
		dprintf(2, "vserver-agent: become %u:%u: %s\n", p->uid, p->gid, strerror(errno));
		return -1;
	}
	if (p->cwd && *p->cwd && chdir(p->cwd) < 0) {
		dprintf(2, "vserver-agent: chdir %s: %s\n", p->cwd, strerror(errno));
		return -1;
	}
	return 0;
}

static void mount_or_log(const char *src, const char *dst, const char *type, unsigned long fl,
			 const char *data)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, fl, data) < 0 && errno != EBUSY)
		agent_log("mount %s on %s: %s", type, dst, strerror(errno));
}

static void load_modules(void)
{
	char *order = agent_read_file("/modules/order", NULL);
	if (!order)
		return;
	for (char *save = NULL, *m = strtok_r(order, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) {
		char path[256];
		snprintf(path, sizeof(path), "/modules/%s.ko", m);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
			agent_log("load module %s: %s", m, strerror(errno));
		close(fd);
	}
	free(order);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* devices appear when their driver has probed: wait a little */
static bool wait_path(const char *path, int ms)
{
	for (int t = 0; t < ms; t += 20) {
		if (access(path, F_OK) == 0)
			return true;
		sleep_ms(20);
	}
	return access(path, F_OK) == 0;
}

static int ifreq_addr(int s, unsigned long req, const char *ifname, in_addr_t a)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = a;
	return ioctl(s, req, &ifr);
}

static int if_up(int s, const char *ifname)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* the kernel's struct in6_ifreq (linux/ipv6.h clashes with netinet/in.h) */
struct agent_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static void write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		agent_log("write %s: %s", path, strerror(errno));
	close(fd);
}

/* eth0 (up already) from vs.ip6=ADDR/PREFIX and vs.gw6=ADDR: the address
 * without duplicate address detection (the host allocated it; DAD would
 * keep it tentative, unusable, for a second or more), a default route */
static void setup_net6(void)
{
	char ip[80], gw[64];
	if (!agent_cmdline("vs.ip6", ip, sizeof(ip)))
		return;
	char *slash = strchr(ip, '/');
	int prefix = slash ? atoi(slash + 1) : 64;
	if (slash)
		*slash = '\0';
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		agent_log("ipv6 socket: %s (no IPv6 in this kernel?)", strerror(errno));
		return;
	}
	write_sysctl("/proc/sys/net/ipv6/conf/eth0/accept_dad", "0");
	write_sysctl("/proc/sys/net/ipv6/conf/eth0/accept_ra", "0");
	struct agent_in6_ifreq r6 = { .prefixlen = (uint32_t)prefix,
				      .ifindex = (int)if_nametoindex("eth0") };
	if (inet_pton(AF_INET6, ip, &r6.addr) != 1 || !r6.ifindex ||
	    ioctl(s, SIOCSIFADDR, &r6) < 0) {
		agent_log("configure eth0 %s/%d: %s", ip, prefix, strerror(errno));
		goto out;
	}
	if (agent_cmdline("vs.gw6", gw, sizeof(gw)) && *gw) {
		struct in6_rtmsg rt = { .rtmsg_flags = RTF_UP | RTF_GATEWAY, .rtmsg_metric = 1,
					.rtmsg_ifindex = r6.ifindex };
		if (inet_pton(AF_INET6, gw, &rt.rtmsg_gateway) != 1 ||
		    (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST))
			agent_log("default route via %s: %s", gw, strerror(errno));
	}
out:
	close(s);
}

/* lo up; eth0 from vs.ip=ADDR/PREFIX and vs.gw=ADDR, then IPv6 */
static void setup_net(void)
{
	char ip[64], gw[64];
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	if_up(s, "lo");
	if (!agent_cmdline("vs.ip", ip, sizeof(ip)))
		goto out;
	char *slash = strchr(ip, '/');
	int prefix = slash ? atoi(slash + 1) : 24;
	if (slash)
		*slash = '\0';
	in_addr_t a = inet_addr(ip);
	in_addr_t mask = prefix <= 0 ? 0 : htonl(0xffffffffu << (32 - prefix));
	if (!wait_path("/sys/class/net/eth0", 5000)) {
		agent_log("no eth0: the network is not configured");
		goto out;
	}
	if (ifreq_addr(s, SIOCSIFADDR, "eth0", a) < 0 ||
	    ifreq_addr(s, SIOCSIFNETMASK, "eth0", mask) < 0 || if_up(s, "eth0") < 0) {
		agent_log("configure eth0 %s/%d: %s", ip, prefix, strerror(errno));
		goto out;
	}
	if (agent_cmdline("vs.gw", gw, sizeof(gw)) && *gw) {
		struct rtentry rt = { 0 };
		struct sockaddr_in *d = (struct sockaddr_in *)&rt.rt_dst;
		struct sockaddr_in *g = (struct sockaddr_in *)&rt.rt_gateway;
		struct sockaddr_in *m = (struct sockaddr_in *)&rt.rt_genmask;
		d->sin_family = g->sin_family = m->sin_family = AF_INET;
		g->sin_addr.s_addr = inet_addr(gw);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = (char *)"eth0";
		if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
			agent_log("default route via %s: %s", gw, strerror(errno));
	}
	setup_net6();
out:
	close(s);
}

/* the disk becomes / (the initramfs stays underneath, unreachable) */
static int switch_root(void)
{
	mkdir("/newroot", 0755);
	if (!wait_path("/dev/vda", 10000)) {
		agent_log("no disk /dev/vda");
		return -1;
	}
	if (mount("/dev/vda", "/newroot", "ext4", 0, NULL) < 0) {
		agent_log("mount /dev/vda: %s", strerror(errno));
		return -1;
	}
	if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0) {
		agent_log("switch root: %s", strerror(errno));
		return -1;
	}
	mount_or_log("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_or_log("sys", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_or_log("dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_or_log("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=666");
	mount_or_log("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_or_log("run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	return 0;
}

/* the server's command on the console, as a container's init is on the
 * server's pipes: its output goes to the console log, and what `vserver
 * console` types reaches its stdin (the host feeds the serial port). Not
 * its controlling terminal: when a session leader with a serial ctty exits,
 * the kernel hangs the tty up and drops the output still queued for the
 * (slow, emulated) UART, so the command's last lines would be lost. */
static pid_t start_workload(struct agent_proc *p)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	setsid();
	int con = open("/dev/console", O_RDWR | O_NOCTTY);
	if (con >= 0) {
		dup2(con, 0);
		dup2(con, 1);
		dup2(con, 2);
	} else {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
	}
	if (agent_become(p) < 0)
		_exit(126);
	execvpe(p->argv[0], p->argv, p->envp);
	agent_log("exec %s: %s", p->argv[0], strerror(errno));
	_exit(127);
}

int main(int argc, char **argv)
{
	/* the exec loop alone, on the host, for tests (never as the guest's init) */
	if (getpid() != 1 && argc == 3 && !strcmp(argv[1], "--serve-fd"))
		agent_serve_fd(atoi(argv[2]));
	mount_or_log("proc", "/proc", "proc", 0, NULL);
	mount_or_log("sys", "/sys", "sysfs", 0, NULL);
	mount_or_log("dev", "/dev", "devtmpfs", 0, NULL);
	load_modules();
	char host[65];
	if (agent_cmdline("vs.host", host, sizeof(host)))
		sethostname(host, strlen(host));
	size_t len = 0;
	unsigned char *spec = (unsigned char *)agent_read_file("/vs/process", &len);
	bool init = access("/vs/init", F_OK) == 0;
	struct agent_proc proc = { 0 };
	if (!init && (!spec || agent_decode_proc(spec, len, &proc) < 0)) {
		agent_log("no valid /vs/process: nothing to run");
		agent_poweroff();
	}
	setup_net();
	if (switch_root() < 0)
		agent_poweroff();
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	if (init) {
		/* the image's init must be PID 1: the agent goes on as its child */
		pid_t pid = fork();
		if (pid > 0) {
			char *init_argv[] = { "/sbin/init", NULL };
			execv(init_argv[0], init_argv);
			agent_log("exec /sbin/init: %s", strerror(errno));
			agent_poweroff();
		}
		if (pid == 0)
			agent_serve(0);
		agent_log("fork: %s", strerror(errno));
		agent_poweroff();
	}
	agent_log("started");
	pid_t w = start_workload(&proc);
	if (w < 0) {
		agent_log("fork: %s", strerror(errno));
		agent_poweroff();
	}
	agent_serve(w);
}
