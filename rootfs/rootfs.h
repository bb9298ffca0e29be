/* rootfs: everything a container's filesystem view is made of: its mounts,
 * pivot_root, /dev, masked and read-only paths, propagation. Mount targets are
 * always resolved inside the rootfs (a symlink in the image cannot redirect a
 * mount onto the host). */
#ifndef VS_ROOTFS_H
#define VS_ROOTFS_H

#include "../conf/conf.h"

/* runs in: container init, in its new mount namespace, before pivot_root.
 * rootfs is the absolute host path of the root (bundle-relative already
 * resolved). Makes / private/slave as asked, binds rootfs onto itself, makes
 * every mount of cfg (in order, targets resolved inside rootfs), /dev with the
 * default devices and cfg's devices (mknod, or bind from the host inside a
 * user namespace), /dev symlinks, /dev/pts and /dev/ptmx, and /dev/console when
 * console_path is non-NULL (a pty slave path on the host). */
int rootfs_setup(const struct conf_config *cfg, const char *rootfs,
		 const char *console_path, struct vs_err *err);

/* rootfs_setup for a caller that may still be on its way into its cgroups
 * (a v1 migration waits for an RCU grace period, so init mounts meanwhile).
 * cg_dirs (NULL-terminated, may be NULL) are the host directories of the
 * cgroup it is being moved into, one per hierarchy: a "cgroup" mount binds
 * those rather than what /proc/self/cgroup says yet. wait(arg) is called
 * once: before the first cgroup or cgroup2 mount when cg_dirs is NULL, and
 * in any case before /dev is made (the devices cgroup decides mknod). */
int rootfs_setup_wait(const struct conf_config *cfg, const char *rootfs, const char *console_path,
		      const char *const *cg_dirs, int (*wait)(void *arg, struct vs_err *err),
		      void *arg, struct vs_err *err);

/* runs in: container init, after rootfs_setup. pivot_root into rootfs (or
 * chroot-style MS_MOVE when no_pivot), detach the old root, chdir("/"). */
int rootfs_pivot(const char *rootfs, bool no_pivot, struct vs_err *err);

/* runs in: container init without a mount namespace of its own (the
 * mounts of rootfs_setup are then in the host's): chroot into rootfs. */
int rootfs_chroot(const char *rootfs, struct vs_err *err);

/* The mount id of the top mount at path (statx), 0 when unknown. */
uint64_t rootfs_mount_id(const char *path);
/* runs in: the runtime, for a container without a mount namespace, once it is
 * gone: detaches the bind of the rootfs onto itself, with everything the
 * container mounted under it or over it (a mount on its own "/"). ours: the
 * id of that bind (0 = unknown: detach every mount above below, the id the
 * rootfs had before create). */
int rootfs_host_release(const char *rootfs, uint64_t ours, uint64_t below);

/* runs in: container init, after pivot_root, before dropping capabilities.
 * Masked paths, read-only paths, read-only root, rootfsPropagation. */
int rootfs_finalize(const struct conf_config *cfg, struct vs_err *err);

/* Opens path under root_fd without ever leaving it (openat2 RESOLVE_IN_ROOT,
 * or an equivalent walk); creates missing components as directories when
 * mkdirs, and the last one as a file when make_file (for bind mounts of
 * files). Returns an O_PATH fd or -errno. */
int rootfs_open_in_root(int root_fd, const char *path, bool mkdirs, bool make_file,
			struct vs_err *err);

#endif
