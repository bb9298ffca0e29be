/* The container's init, from clone() to execve() of the user's process.
 * Each step runs in: the child of clone, inside the new namespaces. Errors go
 * to the parent over the sync socket as one fixed-size message. */
#include "internal.h"
#include "../namespaces/namespaces.h"
#include "../rootfs/rootfs.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int rt_find_exec(const char *argv0, char *const *env, char *out, size_t len)
{
	struct stat st;
	if (strchr(argv0, '/')) {
		if (stat(argv0, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode) || access(argv0, X_OK) < 0)
			return -EACCES;
		snprintf(out, len, "%s", argv0);
		return 0;
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], "PATH=", 5))
			path = env[i] + 5;
	int last = -ENOENT;
	while (*path) {
		const char *end = strchrnul(path, ':');
		int n = snprintf(out, len, "%.*s/%s", (int)(end - path), path, argv0);
		if (end == path)
			n = snprintf(out, len, "./%s", argv0);
		if (n > 0 && (size_t)n < len && stat(out, &st) == 0) {
			if (S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return 0;
			last = -EACCES;
		}
		path = *end ? end + 1 : end;
	}
	return last;
}

static bool seccomp_uses_notify(const struct conf_seccomp *s)
{
	if (!s)
		return false;
	if (s->default_action == CONF_SECCOMP_ACT_NOTIFY)
		return true;
	for (size_t i = 0; i < s->n_syscalls; i++)
		if (s->syscalls[i].action == CONF_SECCOMP_ACT_NOTIFY)
			return true;
	return false;
}

static int load_seccomp(const struct conf_process *p, const struct conf_linux *lx, int sync_fd,
			struct vs_err *err)
{
	int listener = -1;
	int r = rt_seccomp_load(lx->seccomp, p->no_new_privileges, &listener, err);
	if (r < 0)
		return r;
	if (listener >= 0) {
		r = rt_sync_send(sync_fd, SYNC_SECCOMP_FD, NULL);
		if (r >= 0)
			r = rt_send_fd(sync_fd, listener, "seccomp");
		close(listener);
		if (r < 0)
			return vs_fail(err, -r, "seccomp: send the listener fd to the runtime");
	}
	return 0;
}

/* runs in: container init or exec'd process, after pivot_root, before execve.
 * Without no_new_privs the kernel takes a seccomp filter only from a process
 * with CAP_SYS_ADMIN, so then the filter goes in before the user switch and
 * the capability drop; with it, as late as possible (after the caller's
 * last steps when seccomp_now is false). */
int rt_setup_process(const struct conf_process *p, const struct conf_linux *lx,
		     bool in_userns, bool seccomp_now, int sync_fd, struct vs_err *err)
{
	bool has_filter = lx && lx->seccomp;
	bool early = has_filter && !p->no_new_privileges;
	int r = rt_apply_rlimits(p, err);
	if (r >= 0)
		r = rt_apply_process_misc(p, lx, err);
	/* before the user switch and no_new_privs, as runc */
	if (r >= 0)
		r = rt_apply_apparmor(p->apparmor_profile, err);
	if (r >= 0)
		r = rt_apply_selinux_label(p->selinux_label, err);
	if (r >= 0 && early)
		r = load_seccomp(p, lx, sync_fd, err);
	if (r >= 0)
		r = rt_apply_user(p, in_userns, err);
	if (r >= 0 && p->cwd && chdir(p->cwd) < 0)
		r = vs_fail(err, errno, "process: chdir to cwd %s", p->cwd);
	if (r >= 0 && p->cwd)
		r = rt_check_cwd(p->cwd, err);
	if (r >= 0)
		r = rt_apply_caps(p, err);
	if (r >= 0 && p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = vs_fail(err, errno, "process: set no_new_privs");
	if (r >= 0 && seccomp_now && has_filter && !early)
		r = load_seccomp(p, lx, sync_fd, err);
	return r;
}

static int write_sysctls(const struct conf_linux *lx, struct vs_err *err)
{
	for (size_t i = 0; i < lx->n_sysctl; i++) {
		char path[PATH_MAX];
		const char *key = lx->sysctl[i].key;
		/* conf checked the key and its namespace */
		if (conf_sysctl_path(key, path, sizeof(path)) < 0)
			return vs_failx(err, EINVAL, "sysctl %s: invalid key", key);
		int r = vs_write_file(path, lx->sysctl[i].value);
		if (r < 0)
			return vs_fail(err, -r, "sysctl %s=%s", key, lx->sysctl[i].value);
	}
	return 0;
}

static int wait_cgroup(void *arg, struct vs_err *err);

/* A new time namespace takes its offsets before anyone enters it. In a user
 * namespace init, not dumpable, may not write its own timens_offsets (the
 * file is the host root's): the runtime writes it then (SYNC_TIMENS), rather
 * than init being made dumpable (ptrace, /proc/PID/mem) while it still has
 * the host's root and cwd. */
static int enter_time_ns(const struct rt_init_args *a, struct vs_err *err)
{
	const struct conf_linux *lx = &a->cfg->linux_;
	if (unshare(CLONE_NEWTIME) < 0)
		return vs_fail(err, errno, "namespaces: unshare time namespace");
	/* our pid as the host's /proc (still mounted here) knows it: getpid()
	 * is 1 in the new pid namespace, and /proc/1 is the host's init */
	char self[32];
	ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
	if (n <= 0)
		return vs_fail(err, errno, "namespaces: readlink /proc/self");
	self[n] = '\0';
	pid_t pid = (pid_t)strtol(self, NULL, 10);
	int r = ns_write_time_offsets(pid, lx, err);
	if (r == -EACCES) {
		struct sync_msg m;
		*err = (struct vs_err){ 0 };
		/* the parent answers in order: take its cgroup word first */
		if ((r = wait_cgroup((void *)a, err)) < 0)
			return r;
		if (rt_sync_send(a->sync_fd, SYNC_TIMENS, NULL) < 0 ||
		    rt_sync_recv(a->sync_fd, &m) < 0)
			_exit(1); /* the parent is gone: nothing to report to */
		if (m.type != SYNC_TIMENS)
			return vs_failx(err, EPROTO, "sync: unexpected message %d from the runtime",
					m.type);
		r = 0;
	}
	if (r < 0)
		return r;
	_cleanup_close_ int fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0)
		return vs_fail(err, errno, "namespaces: enter time namespace");
	return 0;
}

/* runs in: container init, after pivot_root, with the pty slave on fd 0.
 * /dev/console is bound by fd, not by path: a symlink there (the image's, or
 * one a masked path left) must not send the bind elsewhere. */
static int bind_console(struct vs_err *err)
{
	char target[64];
	int fd = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
			fd = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
	}
	if (fd < 0)
		return vs_fail(err, errno, "console: open /dev/console");
	struct stat st;
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
		close(fd);
		return vs_failx(err, EPERM, "console: /dev/console is not a file or a device: refused");
	}
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	int r = mount("/proc/self/fd/0", target, NULL, MS_BIND, NULL);
	int e = errno;
	close(fd);
	if (r < 0)
		return vs_fail(err, e, "console: bind the pty on /dev/console");
	return 0;
}

/* The parent moves init into its v1 cgroups (a slow write: a cgroup
 * migration waits for an RCU grace period) while init already makes its
 * mounts, the cgroup mount too (it binds the directories the parent named,
 * a->cg_dirs); init waits for the word only where its cgroup matters: before
 * a cgroup namespace is made, before /dev (the devices cgroup decides
 * mknod), before the hooks. Once. */
static int wait_cgroup(void *arg, struct vs_err *err)
{
	static bool done;
	const struct rt_init_args *a = arg;
	struct sync_msg m;
	if (done)
		return 0;
	if (rt_sync_recv(a->sync_fd, &m) < 0)
		_exit(1); /* the parent is gone: nothing to report to */
	if (m.type != SYNC_CGROUP)
		return vs_failx(err, EPROTO, "sync: unexpected message %d from the runtime", m.type);
	done = true;
	return 0;
}

static int init_setup(const struct rt_init_args *a, char **state_json, char *exe, size_t exelen,
		      bool *seccomp_done, struct vs_err *err)
{
	const struct conf_config *cfg = a->cfg;
	const struct conf_linux *lx = &cfg->linux_;
	const struct conf_process *p = cfg->process;
	struct sync_msg m;
	int r;

	if (rt_sync_recv(a->sync_fd, &m) < 0 || m.type != SYNC_GO)
		_exit(1); /* the parent is gone: nothing to report to */
	if (a->new_userns) {
		/* become root of the new user namespace when it maps 0 */
		if (ns_map_to_host(lx->gid_mappings, lx->n_gid_mappings, 0) != (uint32_t)-1)
			(void)!setresgid(0, 0, 0);
		if (ns_map_to_host(lx->uid_mappings, lx->n_uid_mappings, 0) != (uint32_t)-1)
			(void)!setresuid(0, 0, 0);
	}
	if (a->unshare_ipc && unshare(CLONE_NEWIPC) < 0)
		return vs_fail(err, errno, "namespaces: unshare ipc namespace");
	int fds[CONF_NS__MAX];
	memcpy(fds, a->ns_fds, sizeof(fds));
	r = ns_join(fds, (1u << CONF_NS_PID) | (a->userns_joined ? 1u << CONF_NS_USER : 0), err);
	if (r < 0)
		return r;
	for (int t = 0; t < CONF_NS__MAX; t++)
		if (fds[t] >= 0)
			close(fds[t]);
	/* a cgroup namespace is rooted where init is when it is made */
	if (lx->ns[CONF_NS_CGROUP].present && !lx->ns[CONF_NS_CGROUP].path &&
	    (wait_cgroup((void *)a, err) < 0 || unshare(CLONE_NEWCGROUP) < 0))
		return err->code ? -err->code
				 : vs_fail(err, errno, "namespaces: unshare cgroup namespace");
	if (lx->ns[CONF_NS_TIME].present && !lx->ns[CONF_NS_TIME].path) {
		r = enter_time_ns(a, err);
		if (r < 0)
			return r;
	}
	if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return vs_fail(err, errno, "sethostname %s", cfg->hostname);
	if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
		return vs_fail(err, errno, "setdomainname %s", cfg->domainname);
	if (!a->no_new_keyring && (r = rt_apply_selinux_keylabel(p->selinux_label, err)) < 0)
		return r;
	if (!a->no_new_keyring &&
	    syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
		return vs_fail(err, errno, "keyctl: join a new session keyring");

	r = rootfs_setup_wait(cfg, a->rootfs, NULL, (const char *const *)a->cg_dirs, wait_cgroup,
			      (void *)a, err);
	if (r >= 0)
		r = wait_cgroup((void *)a, err);
	if (r < 0)
		return r;

	/* prestart and createRuntime hooks run in the parent now; the state
	 * they get comes back for createContainer and startContainer. Without
	 * any of these four, no round trip (the parent only answers) */
	if (cfg->hooks[CONF_HOOK_PRESTART].n || cfg->hooks[CONF_HOOK_CREATE_RUNTIME].n ||
	    cfg->hooks[CONF_HOOK_CREATE_CONTAINER].n || cfg->hooks[CONF_HOOK_START_CONTAINER].n) {
		r = rt_sync_send(a->sync_fd, SYNC_HOOKS, NULL);
		if (r < 0 || rt_sync_recv(a->sync_fd, &m) < 0 || m.type != SYNC_HOOKS_DONE ||
		    rt_sync_recv_data(a->sync_fd, state_json) < 0)
			_exit(1);
		r = rt_hooks_run(&cfg->hooks[CONF_HOOK_CREATE_CONTAINER], CONF_HOOK_CREATE_CONTAINER,
				 *state_json, err);
		if (r < 0)
			return r;
	}

	if (!lx->ns[CONF_NS_MOUNT].present)
		r = rootfs_chroot(a->rootfs, err);
	else
		r = rootfs_pivot(a->rootfs, a->no_pivot, err);
	if (r < 0)
		return r;
	r = write_sysctls(lx, err);
	if (r < 0)
		return r;
	r = rootfs_finalize(cfg, err);
	if (r < 0)
		return r;
	if (p->terminal) {
		r = rt_console_setup(a->console_fd, p, err);
		if (r < 0)
			return r;
		r = bind_console(err);
		if (r < 0)
			return r;
	}
	if (a->console_fd >= 0)
		close(a->console_fd);

	r = rt_find_exec(p->args[0], p->env, exe, exelen);
	if (r < 0)
		return vs_fail(err, -r, "exec: %s", p->args[0]);

	/* what the setup opened since (all O_CLOEXEC) goes at execve; what
	 * was inherited went at the top of rt_init_main */
	if (syscall(SYS_close_range, 3 + a->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return vs_fail(err, errno, "close_range");

	*seccomp_done = seccomp_uses_notify(lx->seccomp) || !p->no_new_privileges;
	return rt_setup_process(p, lx, a->new_userns || lx->ns[CONF_NS_USER].present,
				*seccomp_done, a->sync_fd, err);
}

void rt_init_main(const struct rt_init_args *a)
{
	struct vs_err err = { 0 };
	char exe[PATH_MAX];
	char *state_json = NULL;
	bool seccomp_done = false;

	/* first of all (see fdguard.c): no process of the container may open
	 * our /proc/PID/fd or ptrace us until execve, and of what we inherited
	 * only stdio, the preserved fds and our own channels stay open. A flock
	 * belongs to the open file: our copy of the state lock would keep it
	 * locked for as long as the container lives. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	int keep[4 + CONF_NS__MAX] = { a->sync_fd, a->fifo_fd, a->console_fd };
	size_t nkeep = 3;
	for (int t = 0; t < CONF_NS__MAX; t++)
		keep[nkeep++] = a->ns_fds[t];
	rt_close_fds_except(3 + a->preserve_fds, keep, nkeep);
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	/* the parent's death kills us; a parent that died before this line is
	 * seen as EOF on the sync socket */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (init_setup(a, &state_json, exe, sizeof(exe), &seccomp_done, &err) < 0) {
		rt_sync_send(a->sync_fd, SYNC_ERROR, &err);
		_exit(1);
	}
	/* the parent exits after create: from here on we outlive it */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	if (rt_sync_send(a->sync_fd, SYNC_READY, NULL) < 0)
		_exit(1);
	close(a->sync_fd);

	/* wait for `start`: it writes one byte to the exec fifo */
	char c;
	ssize_t n;
	do
		n = read(a->fifo_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(1);
	close(a->fifo_fd);

	const struct conf_config *cfg = a->cfg;
	if (rt_hooks_run(&cfg->hooks[CONF_HOOK_START_CONTAINER], CONF_HOOK_START_CONTAINER,
			 state_json, &err) < 0)
		goto fail;
	if (!seccomp_done && cfg->linux_.seccomp &&
	    load_seccomp(cfg->process, &cfg->linux_, -1, &err) < 0)
		goto fail;
	execve(exe, cfg->process->args, cfg->process->env ? cfg->process->env : (char *[]){ NULL });
	vs_fail(&err, errno, "exec %s", exe);
fail:
	dprintf(2, "vsrun: %s\n", err.msg);
	_exit(127);
}
