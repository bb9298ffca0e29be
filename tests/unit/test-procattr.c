/* Unit tests for the process attributes of runtime/: caps.c, seccomp.c,
 * procattr.c, hooks.c, console.c. Everything that changes the process runs
 * in a forked child; the child reports through a pipe and its exit status.
 * Needs root (it is run as root on the project's machines); skips otherwise. */
#include "../../runtime/internal.h"
#include "tap.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/capability.h>
#include <netinet/in.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>

/* ---- running a test body in a child ---- */

static int report_fd = -1;

/* child side: a line for the parent (shown as a TAP comment on failure) */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (vs_write_all(report_fd, buf, (size_t)n) < 0) {
		/* parent gone */
	}
}

struct child_result {
	int status;            /* raw wait status */
	char out[4096];        /* what the child said */
};

/* Runs fn in a child; fn's return value is the exit code (0 = pass). */
static void in_child(int (*fn)(void *), void *arg, struct child_result *res)
{
	int p[2];
	memset(res, 0, sizeof(*res));
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		_exit(fn(arg) & 0xff);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t n;
	while ((n = read(p[0], res->out + len, sizeof(res->out) - 1 - len)) > 0)
		len += (size_t)n;
	res->out[len] = '\0';
	close(p[0]);
	while (waitpid(pid, &res->status, 0) < 0 && errno == EINTR)
		;
}

static bool child_passed(const struct child_result *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

static void show(const struct child_result *r)
{
	if (child_passed(r) || !r->out[0])
		return;
	char *s = strdup(r->out), *save = NULL;
	for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		printf("#   child: %s\n", l);
	free(s);
}

#define child_ok(fn, arg, ...) do { \
	struct child_result _r; \
	in_child(fn, arg, &_r); \
	ok(child_passed(&_r), __VA_ARGS__); \
	show(&_r); \
} while (0)

/* a hex field of /proc/self/status ("CapEff") */
static uint64_t status_hex(const char *field)
{
	_cleanup_free_ char *s = NULL;
	if (vs_read_file("/proc/self/status", &s, NULL) < 0)
		return ~0ULL;
	char key[32];
	snprintf(key, sizeof(key), "\n%s:", field);
	char *p = strstr(s, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ULL;
}

#define C(cap) (1ULL << (cap))

static void all_caps(struct conf_caps *c, uint64_t v)
{
	c->set = true;
	c->bounding = c->effective = c->inheritable = c->permitted = c->ambient = v;
}

/* ---- user and capabilities ---- */

static int t_caps_user_kill(void *unused)
{
	struct conf_process p = { 0 };
	uint32_t gids[] = { 1001, 1002 };
	struct vs_err err = { 0 };
	p.user.uid = 1000;
	p.user.gid = 1000;
	p.user.additional_gids = gids;
	p.user.n_additional_gids = 2;
	all_caps(&p.caps, C(CAP_KILL));

	if (rt_apply_user(&p, false, &err) < 0 || rt_apply_caps(&p, &err) < 0) {
		say("%s", err.msg);
		return 1;
	}
	int bad = 0;
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	if (r != 1000 || e != 1000 || s != 1000)
		say("uids %u %u %u", r, e, s), bad++;
	gid_t g[8];
	int ng = getgroups(8, g);
	if (ng != 2 || g[0] != 1001 || g[1] != 1002)
		say("groups: %d", ng), bad++;
	const char *f[] = { "CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(f); i++)
		if (status_hex(f[i]) != C(CAP_KILL))
			say("%s %#llx", f[i], (unsigned long long)status_hex(f[i])), bad++;
	/* no CAP_NET_RAW: a raw socket is refused */
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd >= 0 || errno != EPERM)
		say("raw socket: fd %d errno %d", fd, errno), bad++;
	/* CAP_KILL works: signal 0 to init */
	if (kill(1, 0) < 0)
		say("kill(1, 0): %s", strerror(errno)), bad++;
	if (prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 0)
		say("keepcaps left on"), bad++;
	return bad;
}

/* CAP_SYS_RESOURCE is not in this machine's bounding set; drop it here too so
 * the test means the same on a machine that has it. */
static void drop_sys_resource(void)
{
	prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0);
}

static int t_caps_outside_bounding(void *unused)
{
	struct conf_process p = { 0 };
	struct vs_err err = { 0 };
	drop_sys_resource();
	all_caps(&p.caps, C(CAP_KILL) | C(CAP_SYS_RESOURCE));
	p.caps.bounding = C(CAP_KILL);
	int r = rt_apply_caps(&p, &err);
	if (r != -EPERM)
		return say("r=%d %s", r, err.msg), 1;
	if (strcmp(err.msg, "process: capability CAP_SYS_RESOURCE: not in the runtime's bounding set"))
		return say("msg: %s", err.msg), 1;
	return 0;
}

static int t_caps_bounding_only(void *unused)
{
	struct conf_process p = { 0 };
	struct vs_err err = { 0 };
	int last = 0;
	drop_sys_resource();
	_cleanup_free_ char *s = NULL;
	if (vs_read_file("/proc/sys/kernel/cap_last_cap", &s, NULL) >= 0)
		last = atoi(s);
	uint64_t before = status_hex("CapBnd");
	all_caps(&p.caps, C(CAP_KILL) | C(CAP_CHOWN));
	p.caps.bounding = ~0ULL;   /* every cap, also those above the kernel's last */
	p.caps.permitted |= C(63); /* unknown to the kernel: ignored */
	if (rt_apply_caps(&p, &err) < 0)
		return say("%s", err.msg), 1;
	if (status_hex("CapBnd") != before)
		return say("CapBnd %#llx, want %#llx (last %d)",
			   (unsigned long long)status_hex("CapBnd"), (unsigned long long)before,
			   last), 1;
	if (status_hex("CapPrm") != (C(CAP_KILL) | C(CAP_CHOWN)))
		return say("CapPrm %#llx", (unsigned long long)status_hex("CapPrm")), 1;
	return 0;
}

static int t_caps_ambient_needs_inheritable(void *unused)
{
	struct conf_process p = { 0 };
	struct vs_err err = { 0 };
	all_caps(&p.caps, C(CAP_KILL) | C(CAP_CHOWN));
	p.caps.inheritable = C(CAP_KILL);
	/* as runc and crun: an ambient cap that is not inheritable is left out,
	 * not an error (`runc spec` writes such configs) */
	int r = rt_apply_caps(&p, &err);
	if (r < 0)
		return say("r=%d %s", r, err.msg), 1;
	if (status_hex("CapAmb") != C(CAP_KILL))
		return say("CapAmb %#llx, want CAP_KILL only", (unsigned long long)status_hex("CapAmb")), 1;
	return 0;
}

static int t_setresuid_error(void *unused)
{
	struct conf_process p = { 0 };
	struct vs_err err = { 0 };
	/* root without CAP_SETUID: setgroups/setresgid work, setresuid fails */
	all_caps(&p.caps, status_hex("CapBnd") & ~C(CAP_SETUID));
	p.caps.ambient = 0;
	if (rt_apply_caps(&p, &err) < 0)
		return say("%s", err.msg), 1;
	p.user.uid = 1000;
	p.user.gid = 1000;
	int r = rt_apply_user(&p, false, &err);
	if (r != -EPERM || strncmp(err.msg, "process: setresuid 1000: EPERM (", 32))
		return say("r=%d %s", r, err.msg), 1;
	return 0;
}

static int t_setgroups_deny_skipped(void *unused)
{
	/* a user namespace with setgroups "deny", mapped to root inside */
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER) < 0)
		return say("unshare: %s", strerror(errno)), 1;
	char map[64];
	if (vs_write_file("/proc/self/setgroups", "deny") < 0)
		return say("setgroups deny"), 1;
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (vs_write_file("/proc/self/uid_map", map) < 0)
		return say("uid_map"), 1;
	snprintf(map, sizeof(map), "0 %u 1", gid);
	if (vs_write_file("/proc/self/gid_map", map) < 0)
		return say("gid_map"), 1;
	struct conf_process p = { 0 };
	uint32_t gids[] = { 0 };
	struct vs_err err = { 0 };
	p.user.additional_gids = gids;
	p.user.n_additional_gids = 1;
	if (rt_apply_user(&p, true, &err) < 0)
		return say("%s", err.msg), 1;
	/* and the same outside "in_userns" fails in setgroups, as the kernel says */
	int r = rt_apply_user(&p, false, &err);
	if (r != -EPERM || !strstr(err.msg, "setgroups"))
		return say("r=%d %s", r, err.msg), 1;
	return 0;
}

/* ---- seccomp ---- */

struct sc_case {
	struct conf_seccomp s;
	struct conf_seccomp_rule rules[4];
	struct conf_seccomp_arg args[4];
	bool nnp;
};

static char *mkdir_names[] = { "mkdir", "mkdirat", "no_such_syscall_at_all", NULL };

static void sc_init(struct sc_case *c)
{
	memset(c, 0, sizeof(*c));
	c->s.default_action = CONF_SECCOMP_ACT_ALLOW;
	c->s.syscalls = c->rules;
	c->nnp = true;
}

static int sc_load(struct sc_case *c, int *listener)
{
	struct vs_err err = { 0 };
	int fd = -1;
	if (rt_seccomp_load(&c->s, c->nnp, &fd, &err) < 0) {
		say("%s", err.msg);
		return -1;
	}
	if (listener)
		*listener = fd;
	return 0;
}

static int t_seccomp_errno(void *unused)
{
	struct sc_case c;
	sc_init(&c);
	c.rules[0] = (struct conf_seccomp_rule){ .names = mkdir_names,
						 .action = CONF_SECCOMP_ACT_ERRNO };
	/* a rule equal to the default: skipped, not an error */
	static char *getpid_name[] = { "getpid", NULL };
	c.rules[1] = (struct conf_seccomp_rule){ .names = getpid_name,
						 .action = CONF_SECCOMP_ACT_ALLOW };
	c.s.n_syscalls = 2;
	if (sc_load(&c, NULL) < 0)
		return 1;
	if (mkdir("/tmp/vs-test-seccomp-never", 0700) == 0 || errno != EPERM)
		return say("mkdir: %s", strerror(errno)), 1;
	if (syscall(SYS_getpid) != getpid() || getpid() <= 0)
		return say("getpid"), 1;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return say("no_new_privs not set"), 1;
	return 0;
}

static int t_seccomp_errno_ret(void *unused)
{
	struct sc_case c;
	sc_init(&c);
	c.rules[0] = (struct conf_seccomp_rule){ .names = mkdir_names,
						 .action = CONF_SECCOMP_ACT_ERRNO,
						 .errno_ret = { true, 38 } };
	c.s.n_syscalls = 1;
	c.s.architectures = (char *[]){ "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
	c.s.flags = (char *[]){ "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL };
	if (sc_load(&c, NULL) < 0)
		return 1;
	if (mkdir("/tmp/vs-test-seccomp-never", 0700) == 0 || errno != 38)
		return say("mkdir: errno %d", errno), 1;
	return 0;
}

/* defaultAction ERRNO with defaultErrnoRet, and an allow list */
static int t_seccomp_default_errno(void *unused)
{
	static char *allow[] = { "write", "exit_group", "exit", "rt_sigreturn", "rt_sigprocmask",
				 "getpid", "brk", "mmap", "munmap", "madvise", "futex", "close",
				 /* for the sanitizers' runtime */
				 "sigaltstack", "rt_sigaction", "gettid", "prctl", "sched_yield",
				 NULL };
	struct sc_case c;
	sc_init(&c);
	c.s.default_action = CONF_SECCOMP_ACT_ERRNO;
	c.s.default_errno_ret = (struct opt_u64){ true, 38 };
	c.rules[0] = (struct conf_seccomp_rule){ .names = allow, .action = CONF_SECCOMP_ACT_ALLOW };
	c.s.n_syscalls = 1;
	if (sc_load(&c, NULL) < 0)
		return 1;
	if (syscall(SYS_mkdir, "/tmp/vs-test-seccomp-never", 0700) == 0 || errno != 38)
		return say("mkdir: errno %d", errno), 1;
	if (syscall(SYS_getpid) <= 0)
		return say("getpid"), 1;
	return 0;
}

static char *kill_names[] = { "kill", NULL };

/* kill(pid, 0) blocked by an arg condition; other signals go through */
static int t_seccomp_args(void *arg)
{
	int variant = *(int *)arg;
	struct sc_case c;
	sc_init(&c);
	c.rules[0] = (struct conf_seccomp_rule){ .names = kill_names,
						 .action = CONF_SECCOMP_ACT_ERRNO,
						 .args = c.args, .n_args = 1 };
	c.s.n_syscalls = 1;
	signal(SIGUSR2, SIG_IGN);
	if (variant == 0) {
		c.args[0] = (struct conf_seccomp_arg){ .index = 1, .value = 0, .op = SCMP_CMP_EQ };
	} else if (variant == 1) {
		/* the same index twice: one rule each (0 or SIGUSR2 blocked) */
		c.args[0] = (struct conf_seccomp_arg){ .index = 1, .value = 0, .op = SCMP_CMP_EQ };
		c.args[1] = (struct conf_seccomp_arg){ .index = 1, .value = SIGUSR2, .op = SCMP_CMP_EQ };
		c.rules[0].n_args = 2;
	} else {
		/* (sig & 0xff) == 0 */
		c.args[0] = (struct conf_seccomp_arg){ .index = 1, .value = 0xff, .value_two = 0,
						       .op = SCMP_CMP_MASKED_EQ };
	}
	if (sc_load(&c, NULL) < 0)
		return 1;
	if (kill(getpid(), 0) == 0 || errno != EPERM)
		return say("kill 0 not blocked"), 1;
	if (kill(getpid(), SIGCONT) < 0)
		return say("kill SIGCONT blocked: %s", strerror(errno)), 1;
	int r = kill(getpid(), SIGUSR2);
	if (variant == 1 ? (r == 0 || errno != EPERM) : r != 0)
		return say("kill SIGUSR2: r=%d %s", r, strerror(errno)), 1;
	return 0;
}

static int t_seccomp_kill_process(void *unused)
{
	struct sc_case c;
	static char *names[] = { "getppid", NULL };
	sc_init(&c);
	c.rules[0] = (struct conf_seccomp_rule){ .names = names,
						 .action = CONF_SECCOMP_ACT_KILL_PROCESS };
	c.s.n_syscalls = 1;
	if (sc_load(&c, NULL) < 0)
		return 1;
	syscall(SYS_getppid);
	return say("still alive after getppid"), 1;
}

static int t_seccomp_bad_config(void *unused)
{
	struct sc_case c;
	struct vs_err err = { 0 };
	int fd, bad = 0;

	sc_init(&c);
	c.s.architectures = (char *[]){ "SCMP_ARCH_PDP11", NULL };
	if (rt_seccomp_load(&c.s, true, &fd, &err) != -EINVAL ||
	    strcmp(err.msg, "seccomp: unknown architecture SCMP_ARCH_PDP11"))
		say("arch: %s", err.msg), bad++;
	sc_init(&c);
	c.s.flags = (char *[]){ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL };
	int r = rt_seccomp_load(&c.s, true, &fd, &err);
	if (r != -EOPNOTSUPP || !strstr(err.msg, "libseccomp >= 2.6"))
		say("waitkill: %d %s", r, err.msg), bad++;
	return bad;
}

/* without no_new_privs and without CAP_SYS_ADMIN the kernel refuses */
static int t_seccomp_needs_admin(void *unused)
{
	struct conf_process p = { 0 };
	struct vs_err err = { 0 };
	struct sc_case c;
	int fd;

	all_caps(&p.caps, C(CAP_KILL));
	if (rt_apply_caps(&p, &err) < 0)
		return say("%s", err.msg), 1;
	sc_init(&c);
	c.rules[0] = (struct conf_seccomp_rule){ .names = mkdir_names,
						 .action = CONF_SECCOMP_ACT_ERRNO };
	c.s.n_syscalls = 1;
	int r = rt_seccomp_load(&c.s, false, &fd, &err);
	if (r >= 0 || !strstr(err.msg, "noNewPrivileges is false and the process lacks CAP_SYS_ADMIN"))
		return say("r=%d %s", r, err.msg), 1;
	return 0;
}

static int notify_sock = -1;

static int t_seccomp_notify_child(void *unused)
{
	struct sc_case c;
	static char *names[] = { "getppid", NULL };
	int fd = -1;
	sc_init(&c);
	c.nnp = false;   /* root with CAP_SYS_ADMIN: allowed */
	c.rules[0] = (struct conf_seccomp_rule){ .names = names, .action = CONF_SECCOMP_ACT_NOTIFY };
	c.s.n_syscalls = 1;
	if (sc_load(&c, &fd) < 0)
		return 1;
	if (fd < 0)
		return say("no listener fd"), 1;
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		return say("listener not cloexec"), 1;
	int r = rt_send_fd(notify_sock, fd, "seccomp");
	if (r < 0)
		return say("send: %s", strerror(-r)), 1;
	long v = syscall(SYS_getppid);
	if (v != 4242)
		return say("getppid returned %ld", v), 1;
	return 0;
}

static void test_seccomp_notify(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	notify_sock = sv[1];
	fflush(stdout);
	int rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0)
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		close(rp[0]);
		report_fd = rp[1];
		_exit(t_seccomp_notify_child(NULL));
	}
	close(rp[1]);
	close(sv[1]);
	char buf[64] = "";
	int fd = rt_recv_fd(sv[0], buf, sizeof(buf));
	ok(fd >= 0, "seccomp notify: the child sends the listener fd");
	is_str(buf, "seccomp", "seccomp notify: the payload arrives with it");

	/* through listenerPath, as the runtime does: a socket of our own */
	char dir[] = "/tmp/vs-test-listener-XXXXXX", path[128] = "";
	int lfd = -1, afd = -1, got = -1;
	char state[256] = "";
	if (fd >= 0 && mkdtemp(dir)) {
		snprintf(path, sizeof(path), "%s/listener.sock", dir);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		strcpy(sa.sun_path, path);
		lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 1) == 0) {
			struct conf_seccomp s = { .listener_path = path };
			struct vs_err err = { 0 };
			const char *js = "{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],"
					 "\"metadata\":\"m\"}";
			int r = rt_seccomp_send_listener(&s, fd, js, &err);
			ok(r == 0, "seccomp: rt_seccomp_send_listener: %s", r ? err.msg : "sent");
			afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			got = rt_recv_fd(afd, state, sizeof(state));
			ok(got >= 0, "seccomp: the listenerPath agent receives the fd");
			is_str(state, js, "seccomp: and the state JSON in the same message");
		} else {
			ok(0, "bind %s: %s", path, strerror(errno));
		}
	}

	int use = got >= 0 ? got : fd;
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	bool served = false;
	if (use >= 0 && seccomp_notify_alloc(&req, &resp) == 0) {
		struct pollfd pf = { .fd = use, .events = POLLIN };
		if (poll(&pf, 1, 5000) == 1 && seccomp_notify_receive(use, req) == 0) {
			is_int(req->data.nr, SYS_getppid, "seccomp notify: the notification names getppid");
			resp->id = req->id;
			resp->val = 4242;
			resp->error = 0;
			resp->flags = 0;
			served = seccomp_notify_respond(use, resp) == 0;
		}
		seccomp_notify_free(req, resp);
	}
	ok(served, "seccomp notify: a notification was received and answered");
	if (!served)
		kill(pid, SIGKILL);
	struct child_result res;
	memset(&res, 0, sizeof(res));
	ssize_t n = read(rp[0], res.out, sizeof(res.out) - 1);
	res.out[n > 0 ? n : 0] = '\0';
	waitpid(pid, &res.status, 0);
	ok(child_passed(&res), "seccomp notify: the child's getppid returns the agent's answer");
	show(&res);
	if (fd >= 0) close(fd);
	if (got >= 0) close(got);
	if (afd >= 0) close(afd);
	if (lfd >= 0) close(lfd);
	close(rp[0]);
	close(sv[0]);
	if (path[0]) {
		unlink(path);
		rmdir(dir);
	}
}

/* ---- rlimits and the other attributes ---- */

static int t_rlimits(void *unused)
{
	struct conf_rlimit rl[] = {
		{ .type = RLIMIT_NOFILE, .name = "RLIMIT_NOFILE", .soft = 1024, .hard = 4096 },
		{ .type = RLIMIT_CORE, .name = "RLIMIT_CORE", .soft = 0, .hard = 0 },
	};
	struct conf_process p = { .rlimits = rl, .n_rlimits = 2 };
	struct vs_err err = { 0 };
	struct rlimit v;
	if (rt_apply_rlimits(&p, &err) < 0)
		return say("%s", err.msg), 1;
	getrlimit(RLIMIT_NOFILE, &v);
	if (v.rlim_cur != 1024 || v.rlim_max != 4096)
		return say("NOFILE %llu/%llu", (unsigned long long)v.rlim_cur,
			   (unsigned long long)v.rlim_max), 1;
	getrlimit(RLIMIT_CORE, &v);
	if (v.rlim_cur != 0 || v.rlim_max != 0)
		return say("CORE"), 1;
	return 0;
}

/* above the hard limit without CAP_SYS_RESOURCE: a clear EPERM */
static int t_rlimit_above_hard(void *unused)
{
	struct rlimit cur;
	drop_sys_resource();
	struct conf_process q = { 0 };
	struct vs_err err = { 0 };
	all_caps(&q.caps, status_hex("CapBnd"));
	q.caps.ambient = 0;
	if (rt_apply_caps(&q, &err) < 0)   /* CAP_SYS_RESOURCE gone from every set */
		return say("%s", err.msg), 1;
	getrlimit(RLIMIT_NOFILE, &cur);
	struct conf_rlimit rl = { .type = RLIMIT_NOFILE, .name = "RLIMIT_NOFILE",
				  .soft = cur.rlim_max + 10000, .hard = cur.rlim_max + 10000 };
	struct conf_process p = { .rlimits = &rl, .n_rlimits = 1 };
	int r = rt_apply_rlimits(&p, &err);
	if (r != -EPERM || !strstr(err.msg, "process: setrlimit RLIMIT_NOFILE") ||
	    !strstr(err.msg, "needs CAP_SYS_RESOURCE"))
		return say("r=%d %s", r, err.msg), 1;
	rl.soft = 10;
	rl.hard = 5;
	r = rt_apply_rlimits(&p, &err);
	if (r != -EINVAL || !strstr(err.msg, "soft limit 10 is above the hard limit 5"))
		return say("r=%d %s", r, err.msg), 1;
	return 0;
}

static int t_umask(void *unused)
{
	struct conf_process p = { 0 };
	struct vs_err err = { 0 };
	p.user.umask = (struct opt_u64){ true, 027 };
	if (rt_apply_process_misc(&p, NULL, &err) < 0)
		return say("%s", err.msg), 1;
	mode_t m = umask(0);
	if (m != 027)
		return say("umask %o", m), 1;
	p.user.umask.set = false;
	umask(0777);
	if (rt_apply_process_misc(&p, NULL, &err) < 0)
		return say("%s", err.msg), 1;
	if ((m = umask(0)) != 022)
		return say("default umask %o", m), 1;
	return 0;
}

static int t_oom_score_adj(void *unused)
{
	struct conf_process p = { 0 };
	struct vs_err err = { 0 };
	_cleanup_free_ char *s = NULL;
	vs_read_file("/proc/self/oom_score_adj", &s, NULL);
	int cur = s ? atoi(s) : 0;
	int want = cur + 100 > 1000 ? 1000 : cur + 100;
	p.oom_score_adj = (struct opt_i64){ true, want };
	if (rt_apply_oom_score_adj(getpid(), &p, &err) < 0)
		return say("%s", err.msg), 1;
	free(s);
	s = NULL;
	vs_read_file("/proc/self/oom_score_adj", &s, NULL);
	if (!s || atoi(s) != want)
		return say("oom_score_adj %s, want %d", s ? s : "?", want), 1;
	return 0;
}

static int t_personality(void *unused)
{
	struct conf_process p = { 0 };
	struct conf_linux lx = { 0 };
	struct vs_err err = { 0 };
	struct utsname u;
	lx.personality.set = true;
	lx.personality.domain = "LINUX32";
	if (rt_apply_process_misc(&p, &lx, &err) < 0)
		return say("%s", err.msg), 1;
	uname(&u);
	if (strcmp(u.machine, "i686"))
		return say("uname -m: %s", u.machine), 1;
	lx.personality.domain = "LINUX";
	lx.personality.flags = (char *[]){ "ADDR_NO_RANDOMIZE", NULL };
	if (rt_apply_process_misc(&p, &lx, &err) < 0)
		return say("%s", err.msg), 1;
	uname(&u);
	if (strcmp(u.machine, "x86_64") || personality(0xffffffff) != ADDR_NO_RANDOMIZE)
		return say("uname -m: %s, personality %#x", u.machine, personality(0xffffffff)), 1;
	lx.personality.domain = "BSD";
	if (rt_apply_process_misc(&p, &lx, &err) != -EINVAL || !strstr(err.msg, "BSD"))
		return say("BSD: %s", err.msg), 1;
	return 0;
}

static int t_ioprio(void *unused)
{
	struct conf_process p = { 0 };
	struct vs_err err = { 0 };
	p.io_priority = (struct conf_io_priority){ true, 2, 5 };
	if (rt_apply_process_misc(&p, NULL, &err) < 0)
		return say("%s", err.msg), 1;
	long v = syscall(SYS_ioprio_get, 1, 0);
	if (v != ((2 << 13) | 5))
		return say("ioprio %#lx", v), 1;
	p.io_priority = (struct conf_io_priority){ true, 3, 0 };
	if (rt_apply_process_misc(&p, NULL, &err) < 0)
		return say("%s", err.msg), 1;
	if ((v = syscall(SYS_ioprio_get, 1, 0)) != (3 << 13))
		return say("idle ioprio %#lx", v), 1;
	p.io_priority = (struct conf_io_priority){ true, 9, 0 };
	if (rt_apply_process_misc(&p, NULL, &err) != -EINVAL)
		return say("class 9 accepted"), 1;
	return 0;
}

static int t_scheduler(void *unused)
{
	struct conf_process p = { 0 };
	struct vs_err err = { 0 };
	p.scheduler = (struct conf_scheduler){ .set = true, .policy = SCHED_BATCH, .nice = 7 };
	if (rt_apply_process_misc(&p, NULL, &err) < 0)
		return say("%s", err.msg), 1;
	if (sched_getscheduler(0) != SCHED_BATCH)
		return say("policy %d", sched_getscheduler(0)), 1;
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) != 7)
		return say("nice %d", getpriority(PRIO_PROCESS, 0)), 1;
	p.scheduler = (struct conf_scheduler){ .set = true, .policy = SCHED_FIFO, .priority = 5 };
	if (rt_apply_process_misc(&p, NULL, &err) < 0)
		return say("%s", err.msg), 1;
	if (sched_getscheduler(0) != SCHED_FIFO)
		return say("policy %d", sched_getscheduler(0)), 1;
	return 0;
}

static int t_affinity(void *unused)
{
	struct conf_process p = { 0 };
	struct vs_err err = { 0 };
	cpu_set_t set;
	p.exec_cpu_affinity_initial = "0";
	if (rt_apply_process_misc(&p, NULL, &err) < 0)
		return say("%s", err.msg), 1;
	sched_getaffinity(0, sizeof(set), &set);
	if (CPU_COUNT(&set) != 1 || !CPU_ISSET(0, &set))
		return say("affinity count %d", CPU_COUNT(&set)), 1;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	char list[32];
	snprintf(list, sizeof(list), "0-%ld\n", n - 1);
	if (rt_set_cpu_affinity(list, &err) < 0)
		return say("%s", err.msg), 1;
	sched_getaffinity(0, sizeof(set), &set);
	if (CPU_COUNT(&set) != n)
		return say("affinity count %d after %s", CPU_COUNT(&set), list), 1;
	if (n > 1 && (rt_set_cpu_affinity("1,0", &err) < 0 ||
		      sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) != 2))
		return say("1,0: %s", err.msg), 1;
	const char *bad[] = { "", "0-", "3-1", "a", "0,,1", "1 2", "-1" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++)
		if (rt_set_cpu_affinity(bad[i], &err) != -EINVAL)
			return say("\"%s\" accepted", bad[i]), 1;
	if (!strstr(err.msg, "expected a list like 0-3,5"))
		return say("msg: %s", err.msg), 1;
	return 0;
}

/* ---- hooks ---- */

static char tmpdir[] = "/tmp/vs-test-procattr-XXXXXX";

static char *slurp(const char *name)
{
	char path[256];
	char *s = NULL;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (vs_read_file(path, &s, NULL) < 0)
		return NULL;
	return s;
}

static bool no_children_left(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static void test_hooks(void)
{
	const char *state = "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\","
			    "\"pid\":42,\"bundle\":\"/b\"}";
	char out_env[300], script[512];
	struct vs_err err = { 0 };

	snprintf(out_env, sizeof(out_env), "OUT=%s", tmpdir);
	snprintf(script, sizeof(script),
		 "cat > \"$OUT/state\"; printf '%%s|%%s|%%s|%%s' \"$FOO\" \"$0\" \"$1\" \"${HOME-unset}\""
		 " > \"$OUT/env\"");
	char *args0[] = { "sh", "-c", script, "myname", "arg1", NULL };
	char *env0[] = { out_env, "FOO=bar baz", NULL };
	char *args1[] = { "sh", "-c", "cat >/dev/null; echo 'oops: it broke' >&2; exit 3", NULL };
	struct conf_hook hooks[] = {
		{ .path = "/bin/sh", .args = args0, .env = env0 },
		{ .path = "/bin/sh", .args = args1 },
	};
	struct conf_hook_list l = { hooks, 1 };

	int r = rt_hooks_run(&l, CONF_HOOK_CREATE_RUNTIME, state, &err);
	ok(r == 0, "hooks: a hook runs: %s", r ? err.msg : "ok");
	char *s = slurp("state");
	is_str(s, state, "hooks: the state arrives on stdin");
	free(s);
	s = slurp("env");
	is_str(s, "bar baz|myname|arg1|unset", "hooks: env exactly as given, args[0] is argv[0]");
	free(s);

	l.n = 2;
	r = rt_hooks_run(&l, CONF_HOOK_PRESTART, state, &err);
	is_int(r, -EIO, "hooks: a non-zero exit fails");
	is_str(err.msg, "hook prestart[1] /bin/sh: exited with status 3: output: oops: it broke",
	       "hooks: the message names the hook, the status and its output");
	ok(no_children_left(), "hooks: no zombie after a failure");

	/* timeout: a grandchild too (sh runs sleep as a child, not exec) */
	char *args2[] = { "sh", "-c", "sleep 100; true", NULL };
	struct conf_hook th = { .path = "/bin/sh", .args = args2, .timeout = { true, 1 } };
	struct conf_hook_list tl = { &th, 1 };
	uint64_t t0 = vs_now_ns();
	r = rt_hooks_run(&tl, CONF_HOOK_CREATE_RUNTIME, state, &err);
	uint64_t ms = (vs_now_ns() - t0) / 1000000;
	is_int(r, -ETIMEDOUT, "hooks: a hook past its timeout fails");
	is_str(err.msg, "hook createRuntime[0] /bin/sh: timed out after 1 s",
	       "hooks: timeout message");
	ok(ms >= 900 && ms < 2500, "hooks: ... within the timeout (%llu ms)", (unsigned long long)ms);
	ok(no_children_left(), "hooks: no zombie after a timeout");

	/* no args: argv[0] is the path; missing binary */
	struct conf_hook nh = { .path = "/nonexistent/hook" };
	struct conf_hook_list nl = { &nh, 1 };
	r = rt_hooks_run(&nl, CONF_HOOK_POSTSTOP, state, &err);
	ok(r == -ENOENT && !strcmp(err.msg, "hook poststop[0] /nonexistent/hook: execve: ENOENT "
					    "(No such file or directory)"),
	   "hooks: a missing hook binary: %s", err.msg);

	/* a hook that ignores a large stdin: no SIGPIPE, no hang */
	size_t big = 300 * 1024;
	char *bigstate = vs_xmalloc(big + 1);
	memset(bigstate, 'x', big);
	bigstate[big] = '\0';
	struct conf_hook th2 = { .path = "/bin/true", .timeout = { true, 5 } };
	struct conf_hook_list tl2 = { &th2, 1 };
	r = rt_hooks_run(&tl2, CONF_HOOK_POSTSTART, bigstate, &err);
	ok(r == 0, "hooks: a hook that does not read a 300 KiB state: %s", r ? err.msg : "ok");
	char *args3[] = { "sh", "-c", "wc -c > \"$OUT/wc\"", NULL };
	char *env3[] = { out_env, "PATH=/usr/bin:/bin", NULL };
	struct conf_hook h3 = { .path = "/bin/sh", .args = args3, .env = env3 };
	struct conf_hook_list l3 = { &h3, 1 };
	r = rt_hooks_run(&l3, CONF_HOOK_POSTSTART, bigstate, &err);
	s = slurp("wc");
	ok(r == 0 && s && atol(s) == (long)big, "hooks: a 300 KiB state arrives whole (%ld bytes)",
	   s ? atol(s) : -1L);
	free(s);
	free(bigstate);

	/* killed by a signal */
	char *args4[] = { "sh", "-c", "kill -9 $$", NULL };
	struct conf_hook h4 = { .path = "/bin/sh", .args = args4 };
	struct conf_hook_list l4 = { &h4, 1 };
	r = rt_hooks_run(&l4, CONF_HOOK_START_CONTAINER, state, &err);
	is_str(err.msg, "hook startContainer[0] /bin/sh: killed by signal 9 (SIGKILL)",
	       "hooks: death by signal is reported");
	ok(no_children_left(), "hooks: no zombies at all");
}

/* ---- console, fd passing ---- */

static int console_sock = -1;

static int t_console_child(void *unused)
{
	struct conf_process p = { .terminal = true, .has_console_size = true,
				  .console_height = 40, .console_width = 100 };
	struct vs_err err = { 0 };
	if (rt_console_setup(console_sock, &p, &err) < 0)
		return say("%s", err.msg), 1;
	close(console_sock);
	int bad = 0;
	for (int i = 0; i <= 2; i++)
		if (!isatty(i) || (fcntl(i, F_GETFD) & FD_CLOEXEC))
			bad++;
	if (tcgetsid(0) != getpid())
		bad++;
	/* through the terminal, so the parent reads it from the master */
	dprintf(1, "%s\n", bad ? "bad" : "hello from the pty");
	return bad;
}

static void test_console(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	console_sock = sv[1];
	fflush(stdout);
	int rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0)
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		close(rp[0]);
		close(sv[0]);
		report_fd = rp[1];
		_exit(t_console_child(NULL));
	}
	close(rp[1]);
	close(sv[1]);
	char name[64] = "";
	int master = rt_recv_fd(sv[0], name, sizeof(name));
	ok(master >= 0 && isatty(master), "console: the runtime receives a pty master");
	char pn[64] = "";
	if (master >= 0)
		ptsname_r(master, pn, sizeof(pn));
	ok(pn[0] && !strcmp(pn, name), "console: the payload is the slave's name (%s, %s)", name, pn);
	ok(master >= 0 && (fcntl(master, F_GETFD) & FD_CLOEXEC), "console: received fd is O_CLOEXEC");
	struct winsize ws = { 0 };
	if (master >= 0)
		ioctl(master, TIOCGWINSZ, &ws);
	ok(ws.ws_row == 40 && ws.ws_col == 100, "console: size %ux%u", ws.ws_col, ws.ws_row);
	char buf[256] = "";
	size_t len = 0;
	for (;;) {
		struct pollfd pf = { .fd = master, .events = POLLIN };
		if (master < 0 || poll(&pf, 1, 5000) <= 0)
			break;
		ssize_t n = read(master, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;   /* EIO once the slave side is gone */
		len += (size_t)n;
		if (strchr(buf, '\n'))
			break;
	}
	buf[len] = '\0';
	is_str(buf, "hello from the pty\r\n", "console: the child's stdout is the pty, with a ctty");
	struct child_result res;
	memset(&res, 0, sizeof(res));
	ssize_t n = read(rp[0], res.out, sizeof(res.out) - 1);
	res.out[n > 0 ? n : 0] = '\0';
	waitpid(pid, &res.status, 0);
	ok(child_passed(&res), "console: the child's checks pass");
	show(&res);
	if (master >= 0)
		close(master);
	close(sv[0]);
	close(rp[0]);
}

static void test_send_recv_fd(void)
{
	int sv[2], p[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(p, O_CLOEXEC) < 0)
		abort();
	is_int(rt_send_fd(sv[0], p[1], "hello"), 0, "fd passing: send");
	char buf[3];
	int fd = rt_recv_fd(sv[1], buf, sizeof(buf));
	ok(fd >= 0, "fd passing: receive");
	is_str(buf, "he", "fd passing: the payload is truncated to the buffer");
	/* a stream socket keeps the rest ("llo") for the next read */
	char rest[8];
	is_int(read(sv[1], rest, sizeof(rest)), 3, "fd passing: the rest of a long payload stays queued");
	if (fd >= 0) {
		if (write(fd, "x", 1) != 1)
			ok(0, "write");
		char c = 0;
		if (read(p[0], &c, 1) != 1)
			c = 0;
		ok(c == 'x', "fd passing: the fd is the same pipe");
		close(fd);
	}
	/* an empty message still carries the fd; a message without one is EBADMSG */
	is_int(rt_send_fd(sv[0], p[1], NULL), 0, "fd passing: send without a payload");
	fd = rt_recv_fd(sv[1], NULL, 0);
	ok(fd >= 0, "fd passing: receive without a buffer");
	if (fd >= 0)
		close(fd);
	if (write(sv[0], "plain", 5) != 5)
		ok(0, "write");
	is_int(rt_recv_fd(sv[1], buf, sizeof(buf)), -EBADMSG, "fd passing: no fd -> -EBADMSG");
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

static void test_unix_connect_long(void)
{
	char path[512], dir[400];
	struct vs_err err = { 0 };
	snprintf(dir, sizeof(dir), "%s/%0120d", tmpdir, 0);
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	if (mkdir(dir, 0700) < 0) {
		ok(0, "mkdir %s", dir);
		return;
	}
	int dfd = open(dir, O_PATH | O_CLOEXEC);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/s.sock", dfd);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0) {
		ok(0, "bind: %s", strerror(errno));
		return;
	}
	int c = rt_unix_connect(path, &err);
	ok(c >= 0, "rt_unix_connect: a path of %zu bytes: %s", strlen(path), c < 0 ? err.msg : "ok");
	if (c >= 0)
		close(c);
	c = rt_unix_connect("/nonexistent/sock", &err);
	is_str(err.msg, "connect /nonexistent/sock: ENOENT (No such file or directory)",
	       "rt_unix_connect: error names the path");
	close(l);
	close(dfd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	if (geteuid() != 0) {
		skip(1, "needs root");
		return tap_done();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_DFL);   /* the hooks code must cope on its own */
	if (!mkdtemp(tmpdir)) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	static int v0 = 0, v1 = 1, v2 = 2;
	struct child_result r;

	child_ok(t_caps_user_kill, NULL, "caps: uid 1000 with {CAP_KILL}: every set is exactly CAP_KILL");
	child_ok(t_caps_outside_bounding, NULL, "caps: a cap outside the runtime's bounding set is named");
	child_ok(t_caps_bounding_only, NULL, "caps: unavailable caps only in bounding are skipped");
	child_ok(t_caps_ambient_needs_inheritable, NULL, "caps: ambient caps that are not inheritable are left out");
	child_ok(t_setresuid_error, NULL, "user: setresuid failure says so");
	child_ok(t_setgroups_deny_skipped, NULL, "user: setgroups skipped when the userns denies it");

	child_ok(t_seccomp_errno, NULL, "seccomp: ERRNO on mkdir gives EPERM, getpid works");
	child_ok(t_seccomp_errno_ret, NULL, "seccomp: errnoRet 38, architectures, flags");
	child_ok(t_seccomp_default_errno, NULL, "seccomp: defaultAction ERRNO with defaultErrnoRet 38");
	child_ok(t_seccomp_args, &v0, "seccomp: kill only with signal 0 blocked");
	child_ok(t_seccomp_args, &v1, "seccomp: two conditions on one arg are two rules");
	child_ok(t_seccomp_args, &v2, "seccomp: SCMP_CMP_MASKED_EQ");
	in_child(t_seccomp_kill_process, NULL, &r);
	ok(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS,
	   "seccomp: KILL_PROCESS kills the child with SIGSYS");
	show(&r);
	child_ok(t_seccomp_bad_config, NULL, "seccomp: unknown arch, unsupported flag: clear errors");
	child_ok(t_seccomp_needs_admin, NULL, "seccomp: without NNP and CAP_SYS_ADMIN: clear error");
	test_seccomp_notify();

	child_ok(t_rlimits, NULL, "rlimits: NOFILE and CORE set and read back");
	child_ok(t_rlimit_above_hard, NULL, "rlimits: above the hard limit fails clearly");
	child_ok(t_umask, NULL, "umask: set, and 0022 by default");
	child_ok(t_oom_score_adj, NULL, "oom_score_adj: raised");
	child_ok(t_personality, NULL, "personality: LINUX32 says i686; flags; bad domain");
	child_ok(t_ioprio, NULL, "ioPriority: BE 5, IDLE");
	child_ok(t_scheduler, NULL, "scheduler: SCHED_BATCH nice 7, SCHED_FIFO 5");
	child_ok(t_affinity, NULL, "execCPUAffinity: cpu lists");

	test_hooks();
	test_console();
	test_send_recv_fd();
	test_unix_connect_long();

	vs_rm_rf(tmpdir);
	return tap_done();
}
