/* rootfs: rootfs_finalize(): read-only paths, masked paths, the read-only
 * root, rootfsPropagation.
 *
 * This runs after pivot_root, where /proc is the container's own (or
 * absent), so nothing here goes through /proc/self/fd: every mount is made
 * with the fd-based mount API (open_tree, fsopen/fsmount, move_mount,
 * mount_setattr) onto fds resolved inside "/" with RESOLVE_IN_ROOT.
 *
 * Why the /dev/null check: masking a file means binding /dev/null over it,
 * and the /dev/null we find is in a tree the image (or a process of a
 * previous exec) may have shaped. If it were a symlink or a regular file,
 * we would bind that instead and "mask" /proc/sysrq-trigger with something
 * writable (the runc CVE-2025-31133 class). So it must be the character
 * device 1:3 itself, opened without following a final symlink. */
#include "internal.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

/* O_PATH fd of the container's /dev/null, checked to be the null device. */
static int open_devnull(int root_fd, struct vs_err *err)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root_fd, "dev/null", &how, sizeof(how));
	if (fd < 0)
		return vs_fail(err, errno, "rootfs: masked paths: open /dev/null");
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(fd);
		return vs_failx(err, EPERM,
				"rootfs: masked paths: /dev/null is not the null device (1:3)");
	}
	return fd;
}

/* A directory is masked by an empty read-only tmpfs, which takes
 * linux.mountLabel as runc's does: under SELinux, a tmpfs of the default
 * type could be one the container may not even list. */
static int mask_dir(int target, const char *path, const char *label, struct vs_err *err)
{
	_cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return vs_fail(err, errno, "rootfs: mask %s: fsopen tmpfs", path);
	if (label && *label && fsconfig(fs, FSCONFIG_SET_STRING, "context", label, 0) < 0)
		return vs_fail(err, errno, "rootfs: mask %s: tmpfs context=%s", path, label);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return vs_fail(err, errno, "rootfs: mask %s: create tmpfs", path);
	_cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC,
					  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					  MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return vs_fail(err, errno, "rootfs: mask %s: fsmount", path);
	if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return vs_fail(err, errno, "rootfs: mask %s", path);
	return 0;
}

static int mask_paths(int root_fd, char **paths, const char *label, struct vs_err *err)
{
	_cleanup_close_ int devnull = -EBADF;
	for (size_t i = 0; paths && paths[i]; i++) {
		_cleanup_close_ int target = rfs_resolve(root_fd, paths[i], O_PATH);
		if (target == -ENOENT || target == -ENOTDIR)
			continue; /* nothing there to hide */
		if (target < 0)
			return vs_fail(err, -target, "rootfs: mask %s", paths[i]);
		struct stat st;
		if (fstat(target, &st) < 0)
			return vs_fail(err, errno, "rootfs: mask %s: stat", paths[i]);
		int r;
		if (S_ISDIR(st.st_mode)) {
			r = mask_dir(target, paths[i], label, err);
		} else {
			if (devnull < 0) {
				devnull = open_devnull(root_fd, err);
				if (devnull < 0)
					return devnull;
			}
			r = rfs_bind_fd(devnull, "", target, false, 0);
			if (r < 0)
				vs_fail(err, -r, "rootfs: mask %s", paths[i]);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* A recursive bind of the path onto itself, read-only before it appears.
 * Only MOUNT_ATTR_RDONLY is set, so nosuid/nodev/noexec (locked or not)
 * stay as they were. */
static int readonly_paths(int root_fd, char **paths, struct vs_err *err)
{
	for (size_t i = 0; paths && paths[i]; i++) {
		_cleanup_close_ int target = rfs_resolve(root_fd, paths[i], O_PATH);
		if (target == -ENOENT || target == -ENOTDIR)
			continue;
		if (target < 0)
			return vs_fail(err, -target, "rootfs: read-only %s", paths[i]);
		int r = rfs_bind_fd(target, "", target, true, MOUNT_ATTR_RDONLY);
		if (r < 0)
			return vs_fail(err, -r, "rootfs: read-only %s", paths[i]);
	}
	return 0;
}

/* runs in: container init, after pivot_root, before dropping capabilities. */
int rootfs_finalize(const struct conf_config *cfg, struct vs_err *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return vs_fail(err, errno, "rootfs: open /");
	int r = readonly_paths(root, cfg->linux_.readonly_paths, err);
	if (r < 0)
		return r;
	r = mask_paths(root, cfg->linux_.masked_paths, cfg->linux_.mount_label, err);
	if (r < 0)
		return r;
	if (cfg->root.readonly) {
		/* only the root mount: /proc, /dev, binds keep their own flags */
		r = rfs_setattr(root, MOUNT_ATTR_RDONLY, 0, false);
		if (r < 0)
			return vs_fail(err, -r, "rootfs: make / read-only");
	}
	unsigned long prop = cfg->linux_.rootfs_propagation;
	if (prop & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)) {
		r = rfs_set_propagation(root, prop | MS_REC);
		if (r < 0)
			return vs_fail(err, -r, "rootfs: set rootfsPropagation on /");
	}
	return 0;
}
