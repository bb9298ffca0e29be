/* rootfs: entering the root. */
#include "internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* runs in: container init, after rootfs_setup.
 *
 * pivot_root(".", ".") stacks the old root on top of the new one at "/",
 * so no put_old directory is needed in the image (which may be read-only).
 * The old root is made a recursive slave first so that unmounting it
 * cannot propagate an unmount to the host, then detached. chdir("/")
 * afterwards leaves no fd or cwd pointing outside.
 *
 * no_pivot (runc --no-pivot, for a root on a ramfs where pivot_root fails):
 * move the rootfs mount onto "/" and chroot. Weaker: the old root is still
 * under the new one, reachable by a process with CAP_SYS_CHROOT. */
int rootfs_pivot(const char *rootfs, bool no_pivot, struct vs_err *err)
{
	_cleanup_close_ int newroot = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (newroot < 0)
		return vs_fail(err, errno, "rootfs: open %s", rootfs);
	if (fchdir(newroot) < 0)
		return vs_fail(err, errno, "rootfs: chdir %s", rootfs);

	if (no_pivot) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return vs_fail(err, errno, "rootfs: move %s onto /", rootfs);
		if (chroot(".") < 0)
			return vs_fail(err, errno, "rootfs: chroot %s", rootfs);
	} else {
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return vs_fail(err, errno, "rootfs: pivot_root %s", rootfs);
		/* "." is now the old root, stacked on the new one */
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			return vs_fail(err, errno, "rootfs: make the old root rslave");
		if (umount2(".", MNT_DETACH) < 0)
			return vs_fail(err, errno, "rootfs: detach the old root");
	}
	if (chdir("/") < 0)
		return vs_fail(err, errno, "rootfs: chdir /");
	return 0;
}

/* runs in: container init without a mount namespace of its own, after
 * rootfs_setup. The mounts are in the host's namespace, so neither
 * pivot_root nor a move onto "/" may be used: chroot, as runc and crun do. */
int rootfs_chroot(const char *rootfs, struct vs_err *err)
{
	if (chdir(rootfs) < 0)
		return vs_fail(err, errno, "rootfs: chdir %s", rootfs);
	if (chroot(".") < 0)
		return vs_fail(err, errno, "rootfs: chroot %s", rootfs);
	if (chdir("/") < 0)
		return vs_fail(err, errno, "rootfs: chdir /");
	return 0;
}

/* The mount id of what path resolves to (the top mount there), 0 when
 * unknown. */
uint64_t rootfs_mount_id(const char *path)
{
	struct statx stx;
	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

/* The parent of mount id in our /proc/self/mountinfo ("ID PARENT ..."
 * lines), 0 when it is not listed. */
static uint64_t mount_parent(const char *info, uint64_t id)
{
	for (const char *l = info; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *end;
		if (strtoull(l, &end, 10) == id && *end == ' ')
			return strtoull(end + 1, NULL, 10);
	}
	return 0;
}

/* Is the top mount on the rootfs ours, or stacked on ours: a container
 * without a mount namespace may mount over its own root (mount(..., "/")
 * in its chroot lands on our bind at the rootfs path), and each such mount
 * has the one below as its parent. What sits on `below` without ours in
 * between is someone else's. */
static bool stacked_on_ours(uint64_t top, uint64_t ours, uint64_t below)
{
	if (top == ours)
		return true;
	_cleanup_free_ char *info = NULL;
	if (vs_read_file("/proc/self/mountinfo", &info, NULL) < 0)
		return false;
	uint64_t m = top;
	for (int depth = 0; depth < 64 && m && m != below; depth++) {
		m = mount_parent(info, m);
		if (m == ours)
			return true;
	}
	return false;
}

int rootfs_host_release(const char *rootfs, uint64_t ours, uint64_t below)
{
	/* bounded: a rootfs someone keeps mounting over is not ours to chase */
	for (int i = 0; i < 64; i++) {
		uint64_t top = rootfs_mount_id(rootfs);
		if (!top || top == below || (ours && !stacked_on_ours(top, ours, below)))
			return 0;
		/* the top one, with whatever is mounted below it in the tree */
		if (umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
			return -errno;
		if (top == ours)
			return 0;
	}
	return 0;
}
