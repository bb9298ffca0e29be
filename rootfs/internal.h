/* rootfs: what the container-filesystem files (mounts, dev, pivot, paths,
 * resolve, cgroupfs, copyup, idmap, util) share. Not for other modules. */
#ifndef VS_ROOTFS_INTERNAL_H
#define VS_ROOTFS_INTERNAL_H

#include "rootfs.h"

#include <sys/mount.h>   /* glibc >= 2.36: mount_setattr, open_tree, move_mount, fsopen */

/* What one rootfs_setup() run carries from mount to mount. */
struct rfs_ctx {
	const struct conf_config *cfg;
	const char *rootfs;    /* host path, for messages */
	int root_fd;           /* O_PATH fd of the rootfs mount (after the self-bind) */
	bool userns;           /* running in a non-initial user namespace */
	/* the host directories of the cgroup the caller is moved into (one per
	 * hierarchy), for a "cgroup" mount; NULL: its own (/proc/self/cgroup) */
	const char *const *cg_dirs;
};

/* ---- util.c ---- */

/* "/proc/self/fd/N" in buf (>= 32 bytes). Only valid before pivot_root,
 * where /proc is the host's. */
const char *rfs_fdpath(char *buf, size_t len, int fd);
/* MS_* mount flags -> MOUNT_ATTR_* (rdonly, nosuid, nodev, noexec, atime,
 * nodiratime, nosymfollow). *atime_clr gets MOUNT_ATTR__ATIME when an atime
 * mode is among the flags. */
uint64_t rfs_ms_to_attr(unsigned long ms, uint64_t *atime_clr);
/* mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE]) with set/clr. When
 * clearing a flag is refused with EPERM (a flag locked by a more privileged
 * mount namespace), retries keeping the flags the mount already has, as
 * runc does with its statfs dance. Returns 0 or -errno (no message). */
int rfs_setattr(int fd, uint64_t set, uint64_t clr, bool recursive);
/* Propagation (MS_SHARED/SLAVE/PRIVATE/UNBINDABLE, | MS_REC) on fd's mount. */
int rfs_set_propagation(int fd, unsigned long prop);
/* True when the calling process is not in the initial user namespace. */
bool rfs_in_userns(void);
/* Clones path (a host path, or "" with dirfd) as a detached mount tree and
 * attaches it onto target_fd. recursive = rbind. attrs (MOUNT_ATTR_*) are
 * set on it (recursively when recursive) before it is attached. */
int rfs_bind_fd(int dirfd, const char *path, int target_fd, bool recursive, uint64_t attrs);

/* One line of /proc/self/mountinfo (strings point into the caller's buffer,
 * octal escapes decoded). */
struct rfs_mntinfo {
	int id, parent;
	char *root, *mountpoint, *fstype, *source, *superopts;
};
/* Calls fn for every line of /proc/self/mountinfo until fn returns != 0;
 * returns that value, 0 at the end, or -errno. */
int rfs_mountinfo_each(int (*fn)(const struct rfs_mntinfo *mi, void *data), void *data);

/* ---- resolve.c ---- */

/* openat2(root_fd, path, oflags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS),
 * retried on EAGAIN. Returns an fd or -errno. */
int rfs_resolve(int root_fd, const char *path, int oflags);
/* Splits path into its parent (opened in root with mkdirs) and the last
 * component, which must be a plain name. *name points into path. */
int rfs_open_parent(int root_fd, const char *path, bool mkdirs, const char **name,
		       struct vs_err *err);

/* ---- mounts.c ---- */

/* Makes one mount of a config, or of a derived one (sysfs fallback, cgroups). */
int rfs_do_mount(struct rfs_ctx *c, const struct conf_mount *m, size_t idx,
		    struct vs_err *err);

/* ---- cgroupfs.c ---- */

/* A "cgroup" mount: cgroup2 on a v2 host, else a tmpfs with each v1
 * hierarchy (and the v2 one of a hybrid host) below it. */
int rfs_mount_cgroup(struct rfs_ctx *c, const struct conf_mount *m,
		     int target_fd, struct vs_err *err);

/* ---- copyup.c ---- */

/* Copies the contents of directory src_fd into directory dst_fd (tmpcopyup):
 * files, directories, symlinks, device nodes, fifos, with owner, mode and
 * times. Never follows a symlink. Returns 0 or -errno, with what in err. */
int rfs_copy_tree(int src_fd, int dst_fd, const char *dst_path, struct vs_err *err);

/* ---- idmap.c ---- */

/* An fd of a new, empty user namespace with the given maps (for
 * MOUNT_ATTR_IDMAP). Returns the fd or -errno. */
int rfs_userns_fd(const struct conf_idmap *uid, size_t n_uid,
		     const struct conf_idmap *gid, size_t n_gid);

/* ---- dev.c ---- */

/* /dev: default and configured devices, symlinks, ptmx, console. */
int rfs_setup_dev(struct rfs_ctx *c, const char *console_path, struct vs_err *err);

#endif
