/* rootfs: rootfs_setup() and the mounts of config.json, in order.
 *
 * Every destination is resolved inside the rootfs (resolve.c) to an O_PATH
 * fd, and the mount is placed on that fd: move_mount() for binds (made as
 * detached trees with open_tree), mount(2) onto /proc/self/fd/N for new
 * filesystems. A path string into the rootfs is never handed to mount(2). */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#define PROP_MASK (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

static const char *src_name(const struct conf_mount *m)
{
	return m->source ? m->source : "none";
}

static const char *type_name(const struct conf_mount *m)
{
	return m->type ? m->type : "bind";
}

static bool is_bind(const struct conf_mount *m)
{
	return (m->flags & MS_BIND) || !m->type || !strcmp(m->type, "bind") ||
	       !strcmp(m->type, "rbind");
}

static bool is_type(const struct conf_mount *m, const char *t)
{
	return m->type && !strcmp(m->type, t);
}

static int fail_mount(struct vs_err *err, int code, const struct conf_mount *m, const char *what)
{
	if (what)
		return vs_fail(err, code, "rootfs: mount %s on %s (%s): %s", src_name(m),
			       m->destination, type_name(m), what);
	return vs_fail(err, code, "rootfs: mount %s on %s (%s)", src_name(m), m->destination,
		       type_name(m));
}

/* The idmap step of a bind: on the detached tree, before it is attached. */
static int apply_idmap(struct rfs_ctx *c, const struct conf_mount *m, int tree,
		       struct vs_err *err)
{
	const struct conf_linux *l = &c->cfg->linux_;
	const struct conf_idmap *u = m->uid_mappings, *g = m->gid_mappings;
	size_t nu = m->n_uid_mappings, ng = m->n_gid_mappings;
	if (!nu && !ng) {  /* "idmap" alone: the container's own maps */
		u = l->uid_mappings, nu = l->n_uid_mappings;
		g = l->gid_mappings, ng = l->n_gid_mappings;
	}
	if (!nu || !ng)
		return fail_mount(err, EINVAL, m, "idmap needs uidMappings and gidMappings");
	_cleanup_close_ int ns = rfs_userns_fd(u, nu, g, ng);
	if (ns < 0)
		return fail_mount(err, -ns, m, "make the idmap user namespace");
	struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns };
	unsigned flags = AT_EMPTY_PATH | (m->ridmap ? AT_RECURSIVE : 0);
	if (mount_setattr(tree, "", flags, &a, sizeof(a)) < 0)
		return fail_mount(err, errno, m, "idmap");
	return 0;
}

/* A bind: clone the source as a detached tree, give it its flags, then
 * attach it. The flags are on the mount before anyone inside can see it,
 * which also spares the MS_BIND-then-MS_REMOUNT window of runc. */
static int mount_bind(struct rfs_ctx *c, const struct conf_mount *m, struct vs_err *err)
{
	if (!m->source)
		return fail_mount(err, EINVAL, m, "bind mount without a source");
	bool rec = (m->flags & MS_REC) || is_type(m, "rbind");
	_cleanup_close_ int tree = open_tree(AT_FDCWD, m->source,
					     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					     (rec ? AT_RECURSIVE : 0));
	if (tree < 0)
		return fail_mount(err, errno, m, "open source");
	struct stat st;
	if (fstat(tree, &st) < 0)
		return fail_mount(err, errno, m, "stat source");

	_cleanup_close_ int target = rootfs_open_in_root(c->root_fd, m->destination, true,
							 !S_ISDIR(st.st_mode), err);
	if (target < 0)
		return fail_mount(err, -target, m, "resolve destination");

	const unsigned long atimes = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
	uint64_t clr = 0, set = rfs_ms_to_attr(m->flags, &clr);
	clr |= rfs_ms_to_attr(m->clear_flags & ~atimes, NULL) & ~set;
	if ((m->clear_flags & MS_NOATIME) && !(m->flags & atimes)) {
		set |= MOUNT_ATTR_RELATIME;  /* "atime": back to the default */
		clr |= MOUNT_ATTR__ATIME;
	}
	int r = rfs_setattr(tree, set, clr, false);
	if (r == 0)
		r = rfs_setattr(tree, m->attr_set, m->attr_clr, true);
	if (r < 0)
		return fail_mount(err, -r, m, "set mount flags");
	if (m->idmap || m->ridmap) {
		r = apply_idmap(c, m, tree, err);
		if (r < 0)
			return r;
	}
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return fail_mount(err, errno, m, NULL);
	r = rfs_set_propagation(tree, m->propagation);
	if (r < 0)
		return fail_mount(err, -r, m, "set propagation");
	return 0;
}

/* sysfs: a new sysfs needs a network namespace owned by our user namespace.
 * Without one (a user namespace sharing the host's network), bind the
 * host's /sys instead, recursively, with the same flags; as runc does. */
static int mount_sys_fallback(struct rfs_ctx *c, const struct conf_mount *m,
			      struct vs_err *err)
{
	struct conf_mount b = *m;
	b.type = "bind";
	b.source = "/sys";
	b.flags |= MS_BIND | MS_REC;
	b.attr_set |= rfs_ms_to_attr(m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), NULL);
	b.data = NULL;
	return mount_bind(c, &b, err);
}

/* linux.mountLabel goes on every new filesystem that takes a context=
 * option, as runc does: not proc, sysfs or cgroups, whose files carry labels
 * of their own, nor mqueue (label_mqueue). NULL when there is no label to
 * add. Where SELinux is not enabled the runtime has dropped the label at
 * create, with a warning (rt_mount_label_drop). */
static char *with_mount_label(const struct conf_mount *m, const char *label)
{
	static const char *const unlabeled[] = { "proc", "sysfs", "mqueue", "cgroup", "cgroup2" };
	if (!label || !*label)
		return NULL;
	for (size_t i = 0; i < VS_ARRAY_SIZE(unlabeled); i++)
		if (is_type(m, unlabeled[i]))
			return NULL;
	if (m->data && *m->data)
		return vs_xasprintf("%s,context=\"%s\"", m->data, label);
	return vs_xasprintf("context=\"%s\"", label);
}

/* mqueue takes linux.mountLabel on its root directory, set after the mount
 * (as runc does): a context= option would be refused for an mqueue made in a
 * user namespace, and would clash with the host's own mount when the IPC
 * namespace is shared. In that last case the host's mqueue is left as it is:
 * relabeling it would change the host, not the container.
 * The kernel makes an IPC namespace's mqueue with the credentials of the
 * process that makes the namespace: with a new user namespace that is init,
 * once root there (create.c), so the container's root owns it. In a user
 * namespace joined by path the maker is the runtime's helper, whose uid the
 * namespace may not map: then the kernel refuses the label (EPERM) and the
 * mqueue keeps the policy's default label (docs/rootfs.md).
 * runs in: container init, before pivot_root. */
static int label_mqueue(struct rfs_ctx *c, const struct conf_mount *m, struct vs_err *err)
{
	const char *label = c->cfg->linux_.mount_label;
	if (!label || !*label || !is_type(m, "mqueue") || !c->cfg->linux_.ns[CONF_NS_IPC].present)
		return 0;
	_cleanup_close_ int mnt = rootfs_open_in_root(c->root_fd, m->destination, false, false,
						      err);
	if (mnt < 0)
		return fail_mount(err, -mnt, m, "reopen after mount");
	char fdp[32];
	if (setxattr(rfs_fdpath(fdp, sizeof(fdp), mnt), "security.selinux", label,
		     strlen(label) + 1, 0) < 0) {
		if (errno == EPERM && c->cfg->linux_.ns[CONF_NS_USER].present)
			return 0;
		return fail_mount(err, errno, m, "set the SELinux label of its root");
	}
	return 0;
}

/* A new filesystem (proc, tmpfs, sysfs, mqueue, devpts, cgroup2, others). */
static int mount_new(struct rfs_ctx *c, const struct conf_mount *m, struct vs_err *err)
{
	_cleanup_close_ int target = rootfs_open_in_root(c->root_fd, m->destination, true,
							 false, err);
	if (target < 0)
		return fail_mount(err, -target, m, "resolve destination");

	if (is_type(m, "cgroup"))
		return rfs_mount_cgroup(c, m, target, err);

	struct stat st;
	if (fstat(target, &st) < 0)
		return fail_mount(err, errno, m, "stat destination");
	if ((is_type(m, "proc") || is_type(m, "sysfs")) && !S_ISDIR(st.st_mode))
		return fail_mount(err, ENOTDIR, m, NULL);

	_cleanup_close_ int old = -EBADF;
	if (m->copy_up) {
		if (!S_ISDIR(st.st_mode))
			return fail_mount(err, ENOTDIR, m, "tmpcopyup");
		old = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (old < 0)
			return fail_mount(err, errno, m, "open for tmpcopyup");
	}

	char fdp[32];
	unsigned long flags = m->flags & ~(PROP_MASK | MS_REC);
	const char *src = m->source ? m->source : m->type;
	_cleanup_free_ char *labeled = with_mount_label(m, c->cfg->linux_.mount_label);
	const char *data = labeled ? labeled : m->data;
	if (mount(src, rfs_fdpath(fdp, sizeof(fdp), target), m->type, flags, data) < 0) {
		int e = errno;
		if (is_type(m, "sysfs") && (e == EPERM || e == EACCES))
			return mount_sys_fallback(c, m, err);
		if (is_type(m, "cgroup2") && e == EPERM) {
			struct conf_mount b = *m;
			b.source = "/sys/fs/cgroup";
			b.type = "bind";
			b.flags |= MS_BIND | MS_REC;
			b.data = NULL;
			return mount_bind(c, &b, err);
		}
		return fail_mount(err, e, m, NULL);
	}
	int r = label_mqueue(c, m, err);
	if (r < 0)
		return r;

	/* target still names the directory under the new mount; walk again
	 * to get the mount itself, for what needs its fd. */
	if (!m->copy_up && !m->attr_set && !m->attr_clr && !(m->propagation & PROP_MASK))
		return 0;
	_cleanup_close_ int mnt = rootfs_open_in_root(c->root_fd, m->destination, false, false,
						      err);
	if (mnt < 0)
		return fail_mount(err, -mnt, m, "reopen after mount");
	if (m->copy_up) {
		_cleanup_close_ int dst = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dst < 0)
			return fail_mount(err, errno, m, "open for tmpcopyup");
		r = rfs_copy_tree(old, dst, m->destination, err);
		if (r < 0)
			return vs_wrap(err, "rootfs: mount %s on %s (%s): tmpcopyup", src_name(m),
				       m->destination, type_name(m));
	}
	r = rfs_setattr(mnt, m->attr_set, m->attr_clr, true);
	if (r < 0)
		return fail_mount(err, -r, m, "set recursive mount flags");
	r = rfs_set_propagation(mnt, m->propagation);
	if (r < 0)
		return fail_mount(err, -r, m, "set propagation");
	return 0;
}

int rfs_do_mount(struct rfs_ctx *c, const struct conf_mount *m, size_t idx, struct vs_err *err)
{
	if (!m->destination || m->destination[0] != '/')
		return vs_failx(err, EINVAL, "rootfs: mounts[%zu]: destination must be absolute",
				idx);
	if (is_bind(m))
		return mount_bind(c, m, err);
	if (m->idmap || m->ridmap)
		return vs_failx(err, EOPNOTSUPP,
				"rootfs: mounts[%zu]: idmapped mounts of type %s not supported yet",
				idx, m->type);
	return mount_new(c, m, err);
}

/* With a shared rootfsPropagation, "/" stays shared, but pivot_root()
 * refuses a new root mount that is shared or whose parent is. The mount
 * holding the rootfs directory is made private (just that one, in our own
 * namespace) before the rootfs is bound onto itself, so the bind is private
 * too: runc's rootfsParentMountPrivate. */
struct mnt_find { int id; char path[4096]; };

static int find_mount(const struct rfs_mntinfo *mi, void *data)
{
	struct mnt_find *f = data;
	if (mi->id != f->id)
		return 0;
	snprintf(f->path, sizeof(f->path), "%s", mi->mountpoint);
	return 1;
}

static int rootfs_mount_private(const char *rootfs)
{
	struct statx stx;
	if (statx(AT_FDCWD, rootfs, 0, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	struct mnt_find f = { .id = (int)stx.stx_mnt_id };
	int r = rfs_mountinfo_each(find_mount, &f);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	if (mount(NULL, f.path, NULL, MS_PRIVATE, NULL) < 0)
		return -errno;
	return 0;
}

int rootfs_setup(const struct conf_config *cfg, const char *rootfs,
		 const char *console_path, struct vs_err *err)
{
	return rootfs_setup_wait(cfg, rootfs, console_path, NULL, NULL, NULL, err);
}

int rootfs_setup_wait(const struct conf_config *cfg, const char *rootfs, const char *console_path,
		      const char *const *cg_dirs, int (*wait)(void *arg, struct vs_err *err),
		      void *arg, struct vs_err *err)
{
	if (!rootfs || rootfs[0] != '/')
		return vs_failx(err, EINVAL, "rootfs: %s: the root must be an absolute path",
				rootfs ? rootfs : "(null)");
	if (access("/proc/self/fd", F_OK) < 0)
		return vs_fail(err, errno, "rootfs: /proc/self/fd (is /proc mounted?)");

	/* Nothing we mount may reach the host: every mount becomes a slave
	 * (or what rootfsPropagation asks) before we touch anything. An
	 * unbindable tree could not be bound (the rootfs onto itself, the
	 * binds of config.json): it is rslave until rootfs_finalize() makes
	 * the new root unbindable. Without a mount namespace of its own the
	 * container shares the host's: its "/" is left as it is. */
	bool host_ns = !cfg->linux_.ns[CONF_NS_MOUNT].present;
	unsigned long prop = cfg->linux_.rootfs_propagation & PROP_MASK;
	if (!prop || prop == MS_UNBINDABLE)
		prop = MS_SLAVE;
	if (!host_ns && mount(NULL, "/", NULL, prop | MS_REC, NULL) < 0)
		return vs_fail(err, errno, "rootfs: make / %s",
			       prop == MS_SLAVE ? "rslave" : "propagation as rootfsPropagation");

	if (!host_ns && prop == MS_SHARED) {
		int r = rootfs_mount_private(rootfs);
		if (r < 0)
			return vs_fail(err, -r, "rootfs: make the mount holding %s private",
				       rootfs);
	}

	/* The rootfs must be a mount point for pivot_root(), and a mount of
	 * its own so the read-only root can be one mount flag. */
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return vs_fail(err, errno, "rootfs: bind %s onto itself", rootfs);
	/* in the host's namespace, what is mounted under the container's root
	 * from here on stays there: no copies in the host's peer namespaces.
	 * The bind itself, with all of it, is detached at delete. */
	if (host_ns && mount(NULL, rootfs, NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		return vs_fail(err, errno, "rootfs: make the bind of %s private", rootfs);

	struct rfs_ctx c = {
		.cfg = cfg, .rootfs = rootfs, .root_fd = -EBADF, .userns = rfs_in_userns(),
		.cg_dirs = cg_dirs,
	};
	_cleanup_close_ int root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return vs_fail(err, errno, "rootfs: open %s", rootfs);
	c.root_fd = root_fd;

	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct conf_mount *m = &cfg->mounts[i];
		if (wait && (is_type(m, "cgroup2") || (is_type(m, "cgroup") && !cg_dirs))) {
			int r = wait(arg, err);
			if (r < 0)
				return r;
			wait = NULL;
		}
		int r = rfs_do_mount(&c, m, i, err);
		if (r < 0)
			return r;
	}
	if (wait) {
		int r = wait(arg, err);
		if (r < 0)
			return r;
	}
	return rfs_setup_dev(&c, console_path, err);
}
