/* vsrun create: the parent side. Makes the state directory, the cgroup and
 * the exec fifo, clones the container's init into its new namespaces, writes
 * its id maps, places it, runs the createRuntime hooks when it asks, and
 * records the container as created once init waits on the fifo. On any
 * failure everything made so far is undone. */
#include "internal.h"
#include "../namespaces/namespaces.h"
#include "../rootfs/rootfs.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef RDTGROUP_SUPER_MAGIC
#define RDTGROUP_SUPER_MAGIC 0x7655821
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct create_ctx {
	const struct rt_ctx *ctx;
	const struct rt_create_opts *o;
	struct conf_config *cfg;
	char *cfg_json;
	size_t cfg_len;
	char bundle[PATH_MAX], rootfs[PATH_MAX], dir[PATH_MAX];
	struct rt_record rec;
	bool cg_made;
	char **cg_dirs;           /* run_cg's directories, for init (rt_init_args) */
	pid_t pid;
	int sync_fd, fifo_fd, console_fd, lock_fd, pty_master;
};

static bool same_ns(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* linux.intelRdt is not implemented: refused with the reason, never
 * ignored (a cache or bandwidth split the container was promised would be
 * silently missing). runc refuses schemas where RDT is not enabled too. */
static int check_intel_rdt(const struct conf_linux *lx, struct vs_err *err)
{
	struct statfs sf;
	if (!lx->intel_rdt.set)
		return 0;
	if (statfs("/sys/fs/resctrl", &sf) < 0 || (unsigned long)sf.f_type != RDTGROUP_SUPER_MAGIC)
		return vs_failx(err, EOPNOTSUPP, "conf: config.json: linux.intelRdt: Intel RDT is "
				"not available on this host (no resctrl at /sys/fs/resctrl)");
	return vs_failx(err, EOPNOTSUPP, "conf: config.json: linux.intelRdt: not supported by "
			"vsrun (resctrl groups are not managed)");
}

static int load_config(struct create_ctx *c, struct vs_err *err)
{
	const struct rt_create_opts *o = c->o;
	if (!realpath(o->bundle ? o->bundle : ".", c->bundle))
		return vs_fail(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
	char path[PATH_MAX + 16];
	if (o->config_path)
		snprintf(path, sizeof(path), "%s", o->config_path);
	else
		snprintf(path, sizeof(path), "%s/config.json", c->bundle);
	int r = vs_read_file(path, &c->cfg_json, &c->cfg_len);
	if (r < 0)
		return vs_fail(err, -r, "conf: %s", path);
	r = conf_parse(c->cfg_json, c->cfg_len, "config.json", &c->cfg, err);
	if (r < 0)
		return r;
	const struct conf_config *cfg = c->cfg;
	if (!cfg->process || !cfg->process->args || !cfg->process->args[0])
		return vs_failx(err, EINVAL, "conf: config.json: process: required to create a container");
	if (!cfg->root.path)
		return vs_failx(err, EINVAL, "conf: config.json: root.path: required on linux");
	int r2 = rt_lsm_check(cfg->process, &cfg->linux_, "conf: config.json: process.", err);
	if (r2 >= 0)
		r2 = check_intel_rdt(&cfg->linux_, err);
	if (r2 < 0)
		return r2;
	char msg[512];
	if (rt_mount_label_drop(&c->cfg->linux_, msg, sizeof(msg)) && c->ctx->warn)
		c->ctx->warn(msg);
	if (cfg->process->terminal && !o->console_socket && !o->detach_tty_ok)
		return vs_failx(err, EINVAL, "process.terminal is true: --console-socket is required");
	if (!cfg->process->terminal && o->console_socket)
		return vs_failx(err, EINVAL, "--console-socket given but process.terminal is false");
	/* a uts namespace joined by path gets the hostname, as with runc;
	 * unless it is the runtime's own, which would rename the host */
	if (cfg->hostname && !cfg->linux_.ns[CONF_NS_UTS].present)
		return vs_failx(err, EINVAL, "conf: config.json: hostname: needs a uts namespace");
	if ((cfg->hostname || cfg->domainname) && cfg->linux_.ns[CONF_NS_UTS].path &&
	    same_ns(cfg->linux_.ns[CONF_NS_UTS].path, "/proc/self/ns/uts"))
		return vs_failx(err, EINVAL, "conf: config.json: hostname: the uts namespace %s "
				"is the host's", cfg->linux_.ns[CONF_NS_UTS].path);
	char rp[PATH_MAX * 2];
	if (cfg->root.path[0] == '/')
		snprintf(rp, sizeof(rp), "%s", cfg->root.path);
	else
		snprintf(rp, sizeof(rp), "%s/%s", c->bundle, cfg->root.path);
	struct stat st;
	if (!realpath(rp, c->rootfs) || stat(c->rootfs, &st) < 0)
		return vs_fail(err, errno, "rootfs %s", rp);
	if (!S_ISDIR(st.st_mode))
		return vs_failx(err, ENOTDIR, "rootfs %s: not a directory", rp);
	return 0;
}

static int make_fifo(struct create_ctx *c, struct vs_err *err)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/exec.fifo", c->dir);
	if (mkfifo(path, 0600) < 0)
		return vs_fail(err, errno, "state: mkfifo %s", path);
	/* O_RDWR: init reads from it and is never alone with no writer, so its
	 * read blocks until `start` writes */
	c->fifo_fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fifo_fd < 0)
		return vs_fail(err, errno, "state: open %s", path);
	return 0;
}

/* The devices every container needs whatever its device rules say, appended
 * after the config's rules (a rule list that starts with "deny all" would
 * otherwise take /dev/null and /dev/zero from the container): mknod of any
 * device, the standard character devices, the ptys, and each device of
 * linux.devices. At the end, so that the cgroup lists the config's own
 * rules first and in order (as runtime-tools checks); a default the config
 * names itself after its last "deny all" (deny c 1:3, deny c *:*, or allow
 * c 1:3 read-only) is left out, so the config's rule stands. Only when the config has device
 * rules at all: no rules leave the cgroup's default (allow all) alone. */
static bool rule_names(const struct conf_dev_rule *r, const struct conf_dev_rule *d)
{
	return (r->type == 'a' || r->type == d->type) &&
	       (r->major < 0 || r->major == d->major) && (r->minor < 0 || r->minor == d->minor);
}

static void add_default_device_rules(struct conf_linux *lx)
{
	static const struct conf_dev_rule defaults[] = {
		{ true, 'c', -1, -1, "m" }, { true, 'b', -1, -1, "m" },
		{ true, 'c', 1, 3, "rwm" }, { true, 'c', 1, 5, "rwm" },
		{ true, 'c', 1, 7, "rwm" }, { true, 'c', 1, 8, "rwm" },
		{ true, 'c', 1, 9, "rwm" }, { true, 'c', 5, 0, "rwm" },
		{ true, 'c', 5, 1, "rwm" }, { true, 'c', 5, 2, "rwm" },
		{ true, 'c', 136, -1, "rwm" },
	};
	struct conf_resources *res = &lx->resources;
	if (!lx->has_resources || !res->n_devices)
		return;
	size_t from = 0;  /* the config's rules after its last "deny all" */
	for (size_t i = 0; i < res->n_devices; i++)
		if (!res->devices[i].allow && res->devices[i].type == 'a')
			from = i + 1;
	size_t n = res->n_devices, cfg_n = res->n_devices;
	res->devices = vs_xrealloc(res->devices, (n + VS_ARRAY_SIZE(defaults) + lx->n_devices) *
						 sizeof(*res->devices));
	for (size_t k = 0; k < VS_ARRAY_SIZE(defaults) + lx->n_devices; k++) {
		struct conf_dev_rule d;
		if (k < VS_ARRAY_SIZE(defaults)) {
			d = defaults[k];
		} else {
			const struct conf_device *dev = &lx->devices[k - VS_ARRAY_SIZE(defaults)];
			if (dev->type != 'c' && dev->type != 'b' && dev->type != 'u')
				continue;
			d = (struct conf_dev_rule){ true, dev->type == 'b' ? 'b' : 'c', dev->major,
						    dev->minor, "rwm" };
		}
		/* the config names it: the same device, or a deny that covers it
		 * (an allow of "c *:* m" does not take /dev/null's rwm away) */
		bool named = false;
		for (size_t i = from; i < cfg_n && !named; i++) {
			const struct conf_dev_rule *r = &res->devices[i];
			named = r->type != 'a' && (r->allow ? r->type == d.type && r->major == d.major &&
								      r->minor == d.minor
							    : rule_names(r, &d));
		}
		if (!named)
			res->devices[n++] = d;
	}
	res->n_devices = n;
}

static pid_t clone_init(struct create_ctx *c, int flags, int cg_fd, struct rt_init_args *a,
			struct vs_err *err)
{
	struct clone_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.flags = (uint64_t)flags;
	ca.exit_signal = SIGCHLD;
	if (cg_fd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)cg_fd;
	}
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0 && cg_fd >= 0) {
		ca.flags &= ~CLONE_INTO_CGROUP;
		ca.cgroup = 0;
		pid = syscall(SYS_clone3, &ca, sizeof(ca));
	}
	if (pid < 0 && errno == ENOSYS) {
		pid = fork();
		if (pid == 0 && flags && unshare(flags) < 0)
			_exit(1);
	}
	if (pid < 0)
		return vs_fail(err, errno, "clone the container's init");
	if (pid == 0) {
		/* the host's cgroup directory: never in the container's reach */
		if (cg_fd >= 0)
			close(cg_fd);
		rt_init_main(a);
	}
	return (pid_t)pid;
}

/* A user namespace joined by path with new namespaces besides: these must
 * be owned by the joined user namespace, so they are made by a process
 * inside it. A helper joins it (the pid namespace of the config first, for
 * its children, while it still has the host's rights), becomes its root,
 * and clones init with CLONE_PARENT: init is our child, as on the usual
 * path, and the helper exits. The id maps belong to whoever made the user
 * namespace and are not written. The helper's clone knows no cgroup
 * (CLONE_INTO_CGROUP needs rights the helper has dropped): the caller moves
 * init. */
static pid_t clone_init_in_userns(int flags, struct rt_init_args *a, const char *path,
				  struct vs_err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return vs_fail(err, errno, "pipe");
	pid_t helper = fork();
	if (helper < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return vs_fail(err, e, "fork");
	}
	if (helper == 0) {
		long pid = -1;
		int e = 0;
		close(p[0]);
		if (a->ns_fds[CONF_NS_PID] >= 0 && setns(a->ns_fds[CONF_NS_PID], CLONE_NEWPID) < 0)
			e = errno;
		else if (setns(a->ns_fds[CONF_NS_USER], CLONE_NEWUSER) < 0)
			e = errno;
		if (!e) {
			(void)!setresgid(0, 0, 0);
			(void)!setresuid(0, 0, 0);
			struct clone_args ca;
			memset(&ca, 0, sizeof(ca));
			/* no exit_signal with CLONE_PARENT: init inherits the
			 * helper's, SIGCHLD (it was forked) */
			ca.flags = (uint64_t)flags | CLONE_PARENT;
			pid = syscall(SYS_clone3, &ca, sizeof(ca));
			if (pid == 0) {
				/* init: the pipe is the helper's, not the container's */
				close(p[1]);
				a->userns_joined = true;
				rt_init_main(a);
			}
			if (pid < 0)
				e = errno;
		}
		int msg[2] = { (int)pid, e };
		_exit(write(p[1], msg, sizeof(msg)) == sizeof(msg) ? 0 : 1);
	}
	close(p[1]);
	int msg[2] = { -1, EIO };
	ssize_t n = read(p[0], msg, sizeof(msg));
	close(p[0]);
	waitpid(helper, NULL, 0);
	if (n != sizeof(msg) || msg[0] <= 0)
		return vs_fail(err, msg[1] ? msg[1] : EIO, "namespaces: create the new namespaces "
			       "inside the user namespace %s", path);
	return (pid_t)msg[0];
}

/* The hooks of create see the status "created", as crun passes it and the
 * runtime-tools suite expects (runc passes "creating"). */
static int run_parent_hooks(struct create_ctx *c, struct vs_err *err)
{
	_cleanup_free_ char *state = rt_record_state_json(&c->rec, RT_CREATED);
	int r = rt_hooks_run(&c->cfg->hooks[CONF_HOOK_PRESTART], CONF_HOOK_PRESTART, state, err);
	if (r >= 0)
		r = rt_hooks_run(&c->cfg->hooks[CONF_HOOK_CREATE_RUNTIME], CONF_HOOK_CREATE_RUNTIME,
				 state, err);
	if (r < 0)
		return r;
	if (rt_sync_send(c->sync_fd, SYNC_HOOKS_DONE, NULL) < 0 ||
	    rt_sync_send_data(c->sync_fd, state) < 0)
		return vs_failx(err, EPIPE, "container init exited during create");
	return 0;
}

static int talk_to_init(struct create_ctx *c, struct vs_err *err)
{
	struct sync_msg m;
	for (;;) {
		if (rt_sync_recv(c->sync_fd, &m) < 0) {
			int status = 0;
			/* the socket closes only when init exits: reap it to say why */
			if (waitpid(c->pid, &status, 0) == c->pid) {
				c->pid = 0;
				uint64_t ooms = 0;
				if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
				    cg_oom_kills(&c->rec.cg, &ooms) >= 0 && ooms > 0)
					return vs_failx(err, ENOMEM, "container init killed by the OOM killer "
							"during create: linux.resources.memory.limit is too small");
				if (WIFSIGNALED(status))
					return vs_failx(err, EIO, "container init killed by signal %d during create",
							WTERMSIG(status));
				return vs_failx(err, EIO, "container init exited with status %d during create",
						WEXITSTATUS(status));
			}
			return vs_failx(err, EIO, "container init exited during create");
		}
		switch (m.type) {
		case SYNC_HOOKS: {
			int r = run_parent_hooks(c, err);
			if (r < 0)
				return r;
			break;
		}
		case SYNC_SECCOMP_FD: {
			char tag[16];
			int fd = rt_recv_fd(c->sync_fd, tag, sizeof(tag));
			if (fd < 0)
				return vs_fail(err, -fd, "seccomp: receive the listener fd");
			_cleanup_free_ char *state = rt_process_state_json(
				&c->rec, RT_CREATING, c->pid, c->cfg->linux_.seccomp->listener_metadata);
			int r = rt_seccomp_send_listener(c->cfg->linux_.seccomp, fd, state, err);
			close(fd);
			if (r < 0)
				return r;
			break;
		}
		case SYNC_TIMENS: {
			/* init made its time namespace; the offsets file is the
			 * host root's while init is not dumpable (init.c) */
			int r = ns_write_time_offsets(c->pid, &c->cfg->linux_, err);
			if (r < 0)
				return r;
			if (rt_sync_send(c->sync_fd, SYNC_TIMENS, NULL) < 0)
				return vs_failx(err, EIO, "container init exited during create");
			break;
		}
		case SYNC_READY:
			return 0;
		case SYNC_ERROR:
			err->code = m.code > 0 ? m.code : EIO;
			memcpy(err->msg, m.msg, sizeof(err->msg));
			return -err->code;
		default:
			return vs_failx(err, EPROTO, "sync: unexpected message %d from init", m.type);
		}
	}
}

static int write_pid_file(const char *path, pid_t pid, struct vs_err *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	int r = vs_write_file_atomic(path, buf, (size_t)n, 0644);
	return r < 0 ? vs_fail(err, -r, "write pid file %s", path) : 0;
}

static void rollback(struct create_ctx *c)
{
	struct vs_err ign = { 0 };
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	if (c->cg_made) {
		cg_destroy(&c->rec.cg, &ign);
	}
	if (c->rec.host_rootfs_below)
		rootfs_host_release(c->rootfs, 0, c->rec.host_rootfs_below);
	if (c->dir[0])
		vs_rm_rf(c->dir);
}

/* The state dir exists and is locked by the caller. */
static int do_create(struct create_ctx *c, struct vs_err *err)
{
	const struct rt_create_opts *o = c->o;
	struct conf_config *cfg = c->cfg;
	struct conf_linux *lx = &cfg->linux_;
	_cleanup_close_ int own_pidns = -1;
	int r;

	struct rt_record *rec = &c->rec;
	snprintf(rec->st.id, sizeof(rec->st.id), "%s", o->id);
	rec->st.status = RT_CREATING;
	snprintf(rec->st.bundle, sizeof(rec->st.bundle), "%s", c->bundle);
	snprintf(rec->st.rootfs, sizeof(rec->st.rootfs), "%s", c->rootfs);
	snprintf(rec->oci_version, sizeof(rec->oci_version), "%s", cfg->oci_version);
	rt_now_rfc3339(rec->st.created, sizeof(rec->st.created));
	for (int k = 0; k < CONF_HOOK__MAX; k++)
		if (cfg->hooks[k].n)
			rec->hooks |= 1u << k;
	rec->hooks_known = true;
	for (size_t i = 0; i < cfg->n_annotations; i++) {
		_cleanup_free_ char *kv = vs_xasprintf("%s=%s", cfg->annotations[i].key,
							cfg->annotations[i].value);
		vs_strv_push(&rec->st.annotations, kv);
	}
	r = cg_detect_mode(&rec->cg.mode, err);
	if (r >= 0)
		r = cg_resolve(lx->cgroups_path, o->id, &rec->cg, err);
	if (r < 0)
		return r;
	rec->has_cg = true;

	/* recorded before anything is made on the host, so that a kill -9 at any
	 * later point leaves enough for delete --force */
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/config.json", c->dir);
	r = vs_write_file_replace(path, c->cfg_json, c->cfg_len, 0600);
	if (r < 0)
		return vs_fail(err, -r, "state: write %s", path);
	r = rt_record_write(c->ctx, rec, err);
	if (r < 0)
		return r;
	/* --- VM bundles (run.oci.handler=vm): QEMU instead of an init (oci-vm.c) --- */
	if (c->ctx->vm && rt_vm_wanted(cfg)) {
		c->cg_made = true;  /* rollback removes it */
		r = c->ctx->vm->create(c->ctx, cfg, c->dir, c->rootfs, rec, &c->pid, err);
		if (r >= 0 && o->pid_file && (r = write_pid_file(o->pid_file, c->pid, err)) < 0)
			c->ctx->vm->cleanup(c->ctx, o->id);  /* the redirects; rollback kills QEMU */
		return r;
	}

	if (!lx->ns[CONF_NS_MOUNT].present) {
		/* the mounts go into the host's namespace, under a bind of the
		 * rootfs: recorded before it exists, so that delete --force after
		 * a kill -9 finds what to detach */
		rec->host_rootfs_below = rootfs_mount_id(c->rootfs);
		if (!rec->host_rootfs_below)
			return vs_failx(err, EOPNOTSUPP, "rootfs %s: no mount id (statx)", c->rootfs);
		r = rt_record_write(c->ctx, rec, err);
		if (r < 0)
			return r;
	}
	add_default_device_rules(lx);
	/* where init goes: the cgroup itself, or the delegated one below it */
	struct vs_cgroup run_cg = rec->cg;
	const char *inner = conf_annotation(cfg, CONF_ANN_DELEGATE_CGROUP);
	if (inner) {
		r = cg_child(&rec->cg, inner, &run_cg, err);
		if (r < 0)
			return vs_wrap(err, "annotation " CONF_ANN_DELEGATE_CGROUP);
		snprintf(rec->cg_inner, sizeof(rec->cg_inner), "%s", inner);
	}
	r = cg_create(&rec->cg, lx->has_resources ? &lx->resources : NULL, err);
	if (r < 0)
		return r;
	c->cg_made = true;
	/* no limits of its own: the outer cgroup's bound it, and on v2 making
	 * it enables the controllers in the outer one's subtree_control; on v1
	 * it is in each hierarchy the outer one is in */
	if (inner && (r = cg_create_below(&rec->cg, &run_cg, err)) < 0)
		return r;
	r = make_fifo(c, err);
	if (r < 0)
		return r;

	struct rt_init_args a = {
		.cfg = cfg, .rootfs = c->rootfs, .fifo_fd = c->fifo_fd,
		.console_fd = -1, .preserve_fds = o->preserve_fds,
		.no_pivot = o->no_pivot, .no_new_keyring = o->no_new_keyring,
		.lock_fd = c->lock_fd,
	};
	/* init binds these for a cgroup mount while it is being moved there */
	if (rec->cg.mode == CG_MODE_V1 && (r = cg_dir_list(&run_cg, &c->cg_dirs, err)) < 0)
		return r;
	a.cg_dirs = c->cg_dirs;
	r = ns_open_paths(lx, a.ns_fds, err);
	if (r < 0)
		return r;
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		ns_close_all(a.ns_fds);
		return vs_fail(err, errno, "socketpair");
	}
	c->sync_fd = sp[0];
	a.sync_fd = sp[1];
	if (cfg->process->terminal) {
		if (o->console_socket) {
			r = rt_unix_connect(o->console_socket, err);
			if (r < 0) {
				close(sp[1]);
				ns_close_all(a.ns_fds);
				return vs_wrap(err, "console socket");
			}
			a.console_fd = c->console_fd = r;
		} else {
			int cp[2];
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cp) < 0) {
				close(sp[1]);
				ns_close_all(a.ns_fds);
				return vs_fail(err, errno, "socketpair");
			}
			c->console_fd = cp[0];
			a.console_fd = cp[1];
		}
	}

	int flags = ns_new_flags(lx) & ~(CLONE_NEWCGROUP | CLONE_NEWTIME);
	a.new_userns = flags & CLONE_NEWUSER;
	/* With a new user namespace, init makes the IPC namespace itself once
	 * it is root there (as runc does): the kernel makes the namespace's
	 * mqueue with the maker's credentials, and made at clone() its root
	 * would belong to the host's root, which the container cannot map (no
	 * chown, no SELinux label on /dev/mqueue). */
	if (a.new_userns && (flags & CLONE_NEWIPC)) {
		flags &= ~CLONE_NEWIPC;
		a.unshare_ipc = true;
	}
	/* new namespaces in a user namespace joined by path: made from inside */
	bool in_userns = lx->ns[CONF_NS_USER].path && (flags & ~CLONE_NEWUSER);
	/* joining a pid namespace by path: our children are born into it */
	if (a.ns_fds[CONF_NS_PID] >= 0 && !in_userns) {
		own_pidns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (setns(a.ns_fds[CONF_NS_PID], CLONE_NEWPID) < 0) {
			r = vs_fail(err, errno, "namespaces: join pid namespace %s", lx->ns[CONF_NS_PID].path);
			goto out_fds;
		}
	}
	int cg_fd = in_userns ? -1 : cg_open_dir_fd(&run_cg, NULL);
	/* init is born not dumpable (fdguard.c): from its first instruction */
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	pid_t pid = in_userns ? clone_init_in_userns(flags, &a, lx->ns[CONF_NS_USER].path, err)
			      : clone_init(c, flags, cg_fd, &a, err);
	if (dumpable > 0)
		prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
	bool into_cg = cg_fd >= 0;
	if (cg_fd >= 0)
		close(cg_fd);
	if (own_pidns >= 0)
		setns(own_pidns, CLONE_NEWPID);
	close(a.sync_fd);
	if (a.console_fd >= 0 && a.console_fd != c->console_fd)
		close(a.console_fd);
	ns_close_all(a.ns_fds);
	if (pid < 0)
		return pid;
	/* kept in memory only until init is ready: a create killed before that
	 * takes init with it (pdeathsig, or EOF on the sync socket), and each
	 * state write is a file made and renamed, which costs milliseconds on
	 * a busy ext4 (delete --force finds init through its cgroup anyway) */
	c->pid = pid;
	rec->st.pid = pid;
	rec->start_time = rt_pid_start_time(pid);
	if (a.new_userns) {
		r = ns_write_id_maps(pid, lx, err);
		if (r < 0)
			return r;
	}
	r = rt_apply_oom_score_adj(pid, c->cfg->process, err);
	if (r < 0)
		return r;
	/* init makes its first mounts while we move it (see wait_cgroup) */
	if (rt_sync_send(c->sync_fd, SYNC_GO, NULL) < 0)
		return vs_failx(err, EIO, "container init exited during create");
	if (!into_cg || rec->cg.mode != CG_MODE_V2) {
		r = cg_enter(&run_cg, pid, err);
		if (r < 0)
			return r;
	}
	if (rt_sync_send(c->sync_fd, SYNC_CGROUP, NULL) < 0)
		return vs_failx(err, EIO, "container init exited during create");
	r = talk_to_init(c, err);
	if (r < 0)
		return r;
	if (c->console_fd >= 0 && !o->console_socket) {
		char tag[16];
		c->pty_master = rt_recv_fd(c->console_fd, tag, sizeof(tag));
		if (c->pty_master < 0)
			return vs_fail(err, -c->pty_master, "console: receive the pty master");
	}
	rec->st.status = RT_CREATED;
	if (rec->host_rootfs_below)
		rec->host_rootfs_mnt = rootfs_mount_id(c->rootfs);
	r = rt_record_write(c->ctx, rec, err);
	if (r >= 0 && o->pid_file)
		r = write_pid_file(o->pid_file, pid, err);
	return r;
out_fds:
	close(a.sync_fd);
	if (a.console_fd >= 0 && a.console_fd != c->console_fd)
		close(a.console_fd);
	ns_close_all(a.ns_fds);
	return r;
}

/* Creates; on success *pid and (for run with a terminal) *pty_master are set. */
int rt_create_full(const struct rt_ctx *ctx, const struct rt_create_opts *o, pid_t *pid,
		   int *pty_master, struct vs_err *err)
{
	struct create_ctx c = { .ctx = ctx, .o = o, .sync_fd = -1, .fifo_fd = -1,
				.console_fd = -1, .lock_fd = -1, .pty_master = -1 };
	int r = load_config(&c, err);
	if (r < 0)
		goto out;
	/* a VM in a program without the handler: vsrun-vm takes the command
	 * over before anything is made */
	if (!ctx->vm && rt_vm_wanted(c.cfg)) {
		r = rt_vm_handoff(ctx, err);
		goto out;
	}
	r = rt_dir_create(ctx, o->id, err);
	if (r < 0)
		goto out;
	rt_dir(ctx, o->id, c.dir, sizeof(c.dir), NULL);
	r = rt_lock(ctx, o->id, err);
	if (r < 0) {
		vs_rm_rf(c.dir);
		goto out;
	}
	c.lock_fd = r;
	r = do_create(&c, err);
	if (r < 0)
		rollback(&c);
	else {
		if (pid)
			*pid = c.pid;
		if (pty_master)
			*pty_master = TAKE_FD(c.pty_master);
	}
out:
	vs_closep(&c.sync_fd);
	vs_closep(&c.fifo_fd);
	vs_closep(&c.console_fd);
	vs_closep(&c.pty_master);
	vs_closep(&c.lock_fd);
	vs_strv_free(c.cg_dirs);
	rt_state_free(&c.rec.st);
	conf_free(c.cfg);
	free(c.cfg_json);
	return r;
}

int rt_create(const struct rt_ctx *ctx, const struct rt_create_opts *o, struct vs_err *err)
{
	return rt_create_full(ctx, o, NULL, NULL, err);
}
