/* rootfs: a mount of type "cgroup".
 *
 * On a cgroup v2 host it is a cgroup2 mount. On a v1 or hybrid host it is
 * what runc makes: a tmpfs at the destination and, under it, one directory
 * per hierarchy the host has under /sys/fs/cgroup (cpu, memory, ...,
 * unified), holding either a fresh mount of that hierarchy (when the
 * container has its own cgroup namespace, so the mount is rooted at the
 * container's cgroup) or a bind of the container's own cgroup directory of
 * that hierarchy (so the container never sees its siblings). Read-only when
 * the mount asks for it, including the tmpfs itself. The container's own
 * directory is the one the caller names (rfs_ctx.cg_dirs: init mounts this
 * while the runtime is still moving it there) or, for a hierarchy it does
 * not name, the one /proc/self/cgroup says. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#define CG_ROOT "/sys/fs/cgroup/"

struct cg_walk {
	const struct conf_mount *m;
	int tmpfs_fd;          /* O_PATH of the new tmpfs mount */
	const char *self_cg;   /* /proc/self/cgroup */
	const char *const *cg_dirs;  /* rfs_ctx.cg_dirs (may be NULL) */
	const dev_t *cg_devs;  /* the device of each of cg_dirs, 0 if absent */
	bool cgroupns;
	uint64_t attrs;        /* MOUNT_ATTR_* for each hierarchy */
	struct vs_err *err;
	int rc;
};

/* item in the comma list opts? */
static bool opt_has(const char *opts, const char *item, size_t ilen)
{
	for (const char *p = opts; *p;) {
		size_t n = strcspn(p, ",");
		if (n == ilen && !strncmp(p, item, n))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

/* Our cgroup path in the hierarchy mounted with fstype/superopts, from
 * /proc/self/cgroup ("id:controllers:path" lines). */
static bool own_path(const char *self_cg, const char *fstype, const char *superopts,
		     char *out, size_t len)
{
	bool v2 = !strcmp(fstype, "cgroup2");
	for (const char *line = self_cg; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', ll);
		const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - line)) : NULL;
		if (c2) {
			const char *ctl = c1 + 1;
			size_t cl = (size_t)(c2 - ctl);
			bool match = v2 ? cl == 0 : cl > 0;
			for (const char *p = ctl; match && p < c2;) {
				size_t n = strcspn(p, ",:");
				match = opt_has(superopts, p, n);
				p += n + 1;
			}
			if (match) {
				snprintf(out, len, "%.*s", (int)(ll - (size_t)(c2 + 1 - line)), c2 + 1);
				return true;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

/* The super options to pass to a fresh v1 mount (controllers, name=). */
static void v1_opts(const char *superopts, char *out, size_t len)
{
	out[0] = '\0';
	size_t used = 0;
	for (const char *p = superopts; *p;) {
		size_t n = strcspn(p, ",");
		if (!(n == 2 && (!strncmp(p, "rw", 2) || !strncmp(p, "ro", 2))))
			used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%.*s",
						 used ? "," : "", (int)n, p);
		p += n;
		if (*p == ',')
			p++;
	}
}

/* The one of w->cg_dirs on the hierarchy mounted at mountpoint (same
 * device: a hierarchy's directories may be named through a symlink such as
 * cpu -> cpu,cpuacct), into out. */
static bool named_dir(const struct cg_walk *w, const char *mountpoint, char *out, size_t len)
{
	struct stat st;
	if (!w->cg_dirs || stat(mountpoint, &st) < 0)
		return false;
	for (size_t i = 0; w->cg_dirs[i]; i++)
		if (w->cg_devs[i] && w->cg_devs[i] == st.st_dev) {
			snprintf(out, len, "%s", w->cg_dirs[i]);
			return true;
		}
	return false;
}

static int one_hierarchy(const struct rfs_mntinfo *mi, void *data)
{
	struct cg_walk *w = data;
	if (strcmp(mi->fstype, "cgroup") && strcmp(mi->fstype, "cgroup2"))
		return 0;
	if (strncmp(mi->mountpoint, CG_ROOT, strlen(CG_ROOT)))
		return 0;
	const char *name = mi->mountpoint + strlen(CG_ROOT);
	if (!*name || strchr(name, '/') || name[0] == '.')
		return 0;

	if (mkdirat(w->tmpfs_fd, name, 0755) < 0 && errno != EEXIST)
		goto fail;
	_cleanup_close_ int dir = openat(w->tmpfs_fd, name,
					 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		goto fail;

	if (w->cgroupns) {
		char opts[512], fdp[32];
		v1_opts(mi->superopts, opts, sizeof(opts));
		unsigned long fl = w->m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
		if (mount("cgroup", rfs_fdpath(fdp, sizeof(fdp), dir), mi->fstype, fl,
			  strcmp(mi->fstype, "cgroup2") ? opts : NULL) == 0)
			return 0;
		/* e.g. a hierarchy busy in another way: fall back to a bind */
	}

	char cg[PATH_MAX], src[PATH_MAX];
	if (named_dir(w, mi->mountpoint, src, sizeof(src)))
		goto bind;
	const char *sub = "";
	if (own_path(w->self_cg, mi->fstype, mi->superopts, cg, sizeof(cg))) {
		size_t rl = strlen(mi->root);
		sub = cg;
		if (strcmp(mi->root, "/") && !strncmp(cg, mi->root, rl))
			sub = cg + rl;
	}
	snprintf(src, sizeof(src), "%s%s", mi->mountpoint, strcmp(sub, "/") ? sub : "");
	if (access(src, F_OK) < 0)
		snprintf(src, sizeof(src), "%s", mi->mountpoint);
bind:;
	int r = rfs_bind_fd(AT_FDCWD, src, dir, false, w->attrs);
	if (r < 0) {
		w->rc = vs_fail(w->err, -r, "rootfs: mount %s on %s/%s (cgroup)", src,
				w->m->destination, name);
		return 1;
	}
	return 0;
fail:
	w->rc = vs_fail(w->err, errno, "rootfs: mount cgroup on %s/%s (cgroup)",
			w->m->destination, name);
	return 1;
}

/* Host symlinks such as cpu -> cpu,cpuacct, copied as they are. */
static int copy_links(int tmpfs_fd)
{
	DIR *d = opendir(CG_ROOT);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_LNK)
			continue;
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (symlinkat(target, tmpfs_fd, de->d_name) < 0 && errno != EEXIST) {
			int e = -errno;
			closedir(d);
			return e;
		}
	}
	closedir(d);
	return 0;
}

int rfs_mount_cgroup(struct rfs_ctx *c, const struct conf_mount *m, int target_fd,
		     struct vs_err *err)
{
	char fdp[32];
	unsigned long fl = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
				       MS_NOATIME | MS_RELATIME | MS_STRICTATIME);
	struct statfs sf;
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
		struct conf_mount v2 = *m;
		v2.type = "cgroup2";
		return rfs_do_mount(c, &v2, 0, err);
	}

	if (mount("tmpfs", rfs_fdpath(fdp, sizeof(fdp), target_fd), "tmpfs",
		  fl & ~MS_RDONLY, "mode=755") < 0)
		return vs_fail(err, errno, "rootfs: mount tmpfs on %s (cgroup)", m->destination);
	_cleanup_close_ int tmpfs = rootfs_open_in_root(c->root_fd, m->destination, false, false,
							err);
	if (tmpfs < 0)
		return vs_wrap(err, "rootfs: mount cgroup on %s", m->destination);
	_cleanup_free_ char *self_cg = NULL;
	int r = vs_read_file("/proc/self/cgroup", &self_cg, NULL);
	if (r < 0)
		return vs_fail(err, -r, "rootfs: read /proc/self/cgroup");

	size_t n_dirs = 0;
	while (c->cg_dirs && c->cg_dirs[n_dirs])
		n_dirs++;
	_cleanup_free_ dev_t *devs = vs_xcalloc(n_dirs + 1, sizeof(dev_t));
	for (size_t i = 0; i < n_dirs; i++) {
		struct stat st;
		if (stat(c->cg_dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			devs[i] = st.st_dev;
	}
	struct cg_walk w = {
		.m = m, .tmpfs_fd = tmpfs, .self_cg = self_cg, .err = err,
		.cg_dirs = c->cg_dirs, .cg_devs = devs,
		.cgroupns = c->cfg->linux_.ns[CONF_NS_CGROUP].present,
		.attrs = rfs_ms_to_attr(fl & ~(MS_NOATIME | MS_RELATIME | MS_STRICTATIME), NULL),
	};
	r = rfs_mountinfo_each(one_hierarchy, &w);
	if (w.rc < 0)
		return w.rc;
	if (r < 0)
		return vs_fail(err, -r, "rootfs: read /proc/self/mountinfo");
	r = copy_links(tmpfs);
	if (r < 0)
		return vs_fail(err, -r, "rootfs: mount cgroup on %s: symlinks", m->destination);
	if (fl & MS_RDONLY) {
		r = rfs_setattr(tmpfs, MOUNT_ATTR_RDONLY, 0, false);
		if (r < 0)
			return vs_fail(err, -r, "rootfs: mount cgroup on %s: read-only",
				       m->destination);
	}
	r = rfs_set_propagation(tmpfs, m->propagation);
	if (r < 0)
		return vs_fail(err, -r, "rootfs: mount cgroup on %s: propagation", m->destination);
	return 0;
}
