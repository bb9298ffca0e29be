/* rootfs/store-disk: a server's disk: its overlay upper layer, the overlay
 * mount of an image's layers, the disk quota, snapshots, clones.
 *
 * Quota: when the server dir's filesystem has project quota enforced
 * (ext4/XFS mounted with prjquota), upper/ and work/ get a project id with
 * the inherit flag and the project a hard block limit. Otherwise the disk
 * is a sparse ext4 image of the quota's size (mkfs.ext4 -m 0), loop-mounted
 * (LO_FLAGS_AUTOCLEAR, so unmounting frees the loop device) at disk/, with
 * upper/ and work/ inside; writes past it fail with ENOSPC and the host's
 * filesystem only ever gives it what the server actually wrote. */
#include "image-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
#ifndef PRJQUOTA
#define PRJQUOTA 2
#endif
/* QCMD() shifts a signed int past its range */
#define PRJ_QCMD(cmd) (((unsigned)(cmd) << SUBCMDSHIFT) | PRJQUOTA)

/* the upper/ and work/ of a server, and the loop mount point */
struct disk {
	int kind;
	char img[PATH_MAX], mnt[PATH_MAX], upper[PATH_MAX], work[PATH_MAX];
};

static int disk_paths(const char *dir, int kind, struct disk *d)
{
	d->kind = kind;
	const char *base = kind == VS_DISK_LOOP ? d->mnt : dir;
	if (img_path(d->img, sizeof(d->img), "%s/disk.img", dir) < 0 ||
	    img_path(d->mnt, sizeof(d->mnt), "%s/disk", dir) < 0 ||
	    img_path(d->upper, sizeof(d->upper), "%s/upper", base) < 0 ||
	    img_path(d->work, sizeof(d->work), "%s/work", base) < 0)
		return -ENAMETOOLONG;
	return 0;
}

static int get_projid(const char *path, uint32_t *id)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct fsxattr fsx;
	if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0)
		return -errno;
	*id = fsx.fsx_projid;
	return 0;
}

int vs_disk_kind(const char *server_dir)
{
	struct disk d;
	struct stat st;
	if (disk_paths(server_dir, VS_DISK_PLAIN, &d) < 0)
		return -ENAMETOOLONG;
	if (stat(d.img, &st) == 0)
		return VS_DISK_LOOP;
	if (stat(d.upper, &st) < 0)
		return -errno;
	uint32_t id = 0;
	return get_projid(d.upper, &id) == 0 && id ? VS_DISK_PROJQUOTA : VS_DISK_PLAIN;
}

static bool is_mountpoint(const char *path)
{
	struct stat a, b;
	char parent[PATH_MAX];
	if (img_path(parent, sizeof(parent), "%s/..", path) < 0)
		return false;
	return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

/* ---- loop-mounted ext4 ---- */

static int loop_attach(struct disk *d, struct vs_err *err)
{
	if (is_mountpoint(d->mnt))
		return 0;
	if (mkdir(d->mnt, 0700) < 0 && errno != EEXIST)
		return vs_fail(err, errno, "disk: mkdir %s", d->mnt);
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return vs_fail(err, errno, "disk: open /dev/loop-control");
	_cleanup_close_ int backing = open(d->img, O_RDWR | O_CLOEXEC);
	if (backing < 0)
		return vs_fail(err, errno, "disk: open %s", d->img);
	for (int tries = 0; tries < 32; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return vs_fail(err, errno, "disk: LOOP_CTL_GET_FREE");
		char dev[32];
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		_cleanup_close_ int lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0)
			return vs_fail(err, errno, "disk: open %s", dev);
		struct loop_config cfg = { .fd = (uint32_t)backing };
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		size_t l = strlen(d->img), max = sizeof(cfg.info.lo_file_name) - 1;
		memcpy(cfg.info.lo_file_name, d->img + (l > max ? l - max : 0), l > max ? max : l);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0) {
			if (errno == EBUSY)
				continue; /* another process took it first */
			return vs_fail(err, errno, "disk: LOOP_CONFIGURE %s", dev);
		}
		if (mount(dev, d->mnt, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0) {
			int e = errno;
			ioctl(lfd, LOOP_CLR_FD, 0);
			return vs_fail(err, e, "disk: mount %s (%s) on %s", d->img, dev, d->mnt);
		}
		return 1; /* attached now */
	}
	return vs_failx(err, EBUSY, "disk: no free loop device for %s", d->img);
}

static int loop_detach(struct disk *d, struct vs_err *err)
{
	if (!is_mountpoint(d->mnt))
		return 0;
	if (umount2(d->mnt, 0) < 0) {
		if (errno != EBUSY)
			return vs_fail(err, errno, "disk: umount %s", d->mnt);
		/* still pinned (a lazily detached overlay): goes when that does */
		if (umount2(d->mnt, MNT_DETACH) < 0)
			return vs_fail(err, errno, "disk: umount %s", d->mnt);
	}
	return 0;
}

/* opens the disk of a server and attaches it if needed; *attached says
 * whether the caller must detach it again */
static int disk_open(const char *dir, struct disk *d, bool *attached, struct vs_err *err)
{
	*attached = false;
	int kind = vs_disk_kind(dir);
	if (kind < 0)
		return vs_failx(err, -kind, "disk: %s: no disk (%s)", dir, vs_errno_name(-kind));
	if (disk_paths(dir, kind, d) < 0)
		return vs_failx(err, ENAMETOOLONG, "disk: %s: path too long", dir);
	if (kind == VS_DISK_LOOP) {
		int r = loop_attach(d, err);
		if (r < 0)
			return r;
		*attached = r > 0;
	}
	return 0;
}

static void disk_close(struct disk *d, bool attached)
{
	if (attached)
		loop_detach(d, NULL);
}

/* ---- project quota ---- */

static int quotactl_fd(int fd, unsigned cmd, int id, void *addr)
{
	return (int)syscall(SYS_quotactl_fd, fd, cmd, id, addr);
}

/* Project quota limits are enforced here. Accounting alone (ext4 made with
 * -O project but mounted without prjquota: Q_GETINFO answers, usage is
 * counted, limits are not applied) is not enough: the server would have no
 * limit at all. */
static bool has_projquota(int dirfd)
{
	struct fs_quota_statv st = { .qs_version = FS_QSTATV_VERSION1 };
	if (quotactl_fd(dirfd, PRJ_QCMD(Q_XGETQSTATV), 0, &st) < 0)
		return false;
	return (st.qs_flags & FS_QUOTA_PDQ_ACCT) && (st.qs_flags & FS_QUOTA_PDQ_ENFD);
}

static int set_projid(const char *path, uint32_t id)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct fsxattr fsx;
	if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0)
		return -errno;
	fsx.fsx_projid = id;
	fsx.fsx_xflags |= FS_XFLAG_PROJINHERIT;
	return ioctl(fd, FS_IOC_FSSETXATTR, &fsx) < 0 ? -errno : 0;
}

/* a project id nobody uses yet: no usage, no limit */
static int pick_projid(int dirfd, uint32_t seed, uint32_t *out)
{
	for (uint32_t i = 0; i < 4096; i++) {
		uint32_t id = ((seed + i * 2654435761u) & 0x3fffffff) | 0x10000;
		struct if_dqblk q = { 0 };
		/* XFS answers ENOENT for an id it has no record of: free */
		if (quotactl_fd(dirfd, PRJ_QCMD(Q_GETQUOTA), (int)id, &q) < 0 && errno != ENOENT)
			return -errno;
		if (!q.dqb_curspace && !q.dqb_curinodes && !q.dqb_bhardlimit && !q.dqb_ihardlimit) {
			*out = id;
			return 0;
		}
	}
	return -EUSERS;
}

static int set_proj_limit(int dirfd, uint32_t id, uint64_t bytes)
{
	struct if_dqblk q = { .dqb_valid = QIF_BLIMITS };
	q.dqb_bhardlimit = q.dqb_bsoftlimit = (bytes + 1023) / 1024; /* QIF_DQBLKSIZE units */
	return quotactl_fd(dirfd, PRJ_QCMD(Q_SETQUOTA), (int)id, &q) < 0 ? -errno : 0;
}

static int create_projquota(const char *dir, int dfd, struct disk *d, uint64_t quota,
			    struct vs_err *err)
{
	struct stat st;
	uint32_t id = 0;
	if (fstat(dfd, &st) < 0)
		return vs_fail(err, errno, "disk: stat %s", dir);
	int r = pick_projid(dfd, (uint32_t)st.st_ino, &id);
	if (r < 0)
		return vs_fail(err, -r, "disk: %s: pick a project id", dir);
	if ((r = set_projid(d->upper, id)) < 0 || (r = set_projid(d->work, id)) < 0)
		return vs_fail(err, -r, "disk: %s: set project id %u", dir, id);
	if ((r = set_proj_limit(dfd, id, quota)) < 0)
		return vs_fail(err, -r, "disk: %s: set project %u quota", dir, id);
	return VS_DISK_PROJQUOTA;
}

static int create_loop(const char *dir, struct disk *d, uint64_t quota, struct vs_err *err)
{
	_cleanup_close_ int fd = open(d->img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return vs_fail(err, errno, "disk: create %s", d->img);
	if (ftruncate(fd, (off_t)quota) < 0)
		return vs_fail(err, errno, "disk: truncate %s", d->img);
	char *argv[] = { "mkfs.ext4", "-q", "-F", "-m", "0", "-E", "nodiscard", d->img, NULL };
	int r = img_run(argv, NULL, err);
	if (r < 0)
		return vs_wrap(err, "disk: %s", dir);
	bool attached;
	r = loop_attach(d, err);
	if (r < 0)
		return r;
	attached = r > 0;
	if ((mkdir(d->upper, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(d->work, 0700) < 0 && errno != EEXIST))
		r = vs_fail(err, errno, "disk: mkdir in %s", d->mnt);
	else
		r = VS_DISK_LOOP;
	disk_close(d, attached);
	return r;
}

int vs_disk_create(const char *server_dir, uint64_t quota, struct vs_err *err)
{
	struct disk d;
	/* one rule on every path (loop or project quota), checked before anything is made */
	if (quota && quota < VS_DISK_MIN)
		return vs_failx(err, EINVAL, "disk: %s: quota %llu bytes is below the %lluM minimum",
				server_dir, (unsigned long long)quota,
				(unsigned long long)(VS_DISK_MIN >> 20));
	int r = vs_mkdir_p(server_dir, 0700);
	if (r < 0)
		return vs_fail(err, -r, "disk: mkdir %s", server_dir);
	if (vs_disk_kind(server_dir) >= 0)
		return vs_failx(err, EEXIST, "disk: %s: already has a disk", server_dir);
	_cleanup_close_ int dfd = open(server_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vs_fail(err, errno, "disk: open %s", server_dir);
	bool prj = quota && has_projquota(dfd);
	if (disk_paths(server_dir, quota && !prj ? VS_DISK_LOOP : VS_DISK_PLAIN, &d) < 0)
		return vs_failx(err, ENAMETOOLONG, "disk: %s: path too long", server_dir);
	if (quota && !prj) {
		r = create_loop(server_dir, &d, quota, err);
		if (r < 0) {
			unlink(d.img);
			rmdir(d.mnt);
		}
		return r;
	}
	if (mkdir(d.upper, 0755) < 0 || mkdir(d.work, 0700) < 0) {
		r = vs_fail(err, errno, "disk: mkdir in %s", server_dir);
		goto out_rm;
	}
	if (!quota)
		return VS_DISK_PLAIN;
	r = create_projquota(server_dir, dfd, &d, quota, err);
	if (r >= 0)
		return r;
out_rm:
	rmdir(d.upper);
	rmdir(d.work);
	return r;
}

/* ---- the overlay ---- */

/* the kernel's own words about a failed fsconfig, when it left any */
static void fs_log(int fsfd, char *buf, size_t len)
{
	buf[0] = '\0';
	ssize_t n = read(fsfd, buf, len - 1);
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
	}
}

static int mount_new_api(char **lowers, size_t n, const struct disk *d, const char *target,
			 struct vs_err *err)
{
	char log[256];
	_cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -ENOSYS;
	for (size_t i = 0; i < n; i++)
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0) {
			if (i == 0 && errno == EINVAL)
				return -ENOSYS; /* kernel before 6.8: no lowerdir+ */
			int e = errno;
			fs_log(fsfd, log, sizeof(log));
			return vs_fail(err, e, "disk: overlay lowerdir %s%s%s", lowers[i],
				       *log ? ": " : "", log);
		}
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", d->upper, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", d->work, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;
		fs_log(fsfd, log, sizeof(log));
		return vs_fail(err, e, "disk: overlay on %s%s%s", target, *log ? ": " : "", log);
	}
	_cleanup_close_ int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return vs_fail(err, errno, "disk: fsmount overlay for %s", target);
	if (move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return vs_fail(err, errno, "disk: move_mount overlay to %s", target);
	return 0;
}

static int mount_legacy(char **lowers, size_t n, const struct disk *d, const char *target,
			struct vs_err *err)
{
	size_t cap = 4096, len = 0;
	_cleanup_free_ char *opts = vs_xmalloc(cap);
	len = (size_t)snprintf(opts, cap, "lowerdir=");
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(opts + len, cap - len, "%s%s", i ? ":" : "", lowers[i]);
	if (len < cap)
		len += (size_t)snprintf(opts + len, cap - len, ",upperdir=%s,workdir=%s", d->upper,
					d->work);
	if (len >= cap)
		return vs_failx(err, E2BIG, "disk: overlay on %s: %zu layers do not fit in mount(2)'s "
				"one-page options (this kernel has no lowerdir+)", target, n);
	if (mount("overlay", target, "overlay", 0, opts) < 0)
		return vs_fail(err, errno, "disk: mount overlay on %s", target);
	return 0;
}

int vs_disk_mount(struct vs_store *s, const struct vs_image *img, const char *server_dir,
		  const char *target, struct vs_err *err)
{
	struct disk d;
	bool attached;
	size_t n = vs_strv_len(img->layers);
	if (n == 0)
		return vs_failx(err, EINVAL, "disk: image %s has no layers", img->name);
	if (n > VS_IMAGE_MAX_LAYERS)
		return vs_failx(err, E2BIG, "disk: image %s has %zu layers (at most %d)", img->name, n,
				VS_IMAGE_MAX_LAYERS);
	int r = disk_open(server_dir, &d, &attached, err);
	if (r < 0)
		return r;
	char **lowers = vs_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n && r == 0; i++) {
		char p[PATH_MAX];
		struct stat st;
		/* overlayfs wants the top layer first */
		r = vs_store_layer_path(s, img->layers[n - 1 - i], p, sizeof(p), err);
		if (r == 0 && stat(p, &st) < 0)
			r = vs_fail(err, errno, "disk: image %s: layer %s", img->name, img->layers[n - 1 - i]);
		lowers[i] = vs_xstrdup(p);
	}
	if (r == 0) {
		r = mount_new_api(lowers, n, &d, target, err);
		if (r == -ENOSYS)
			r = mount_legacy(lowers, n, &d, target, err);
	}
	vs_strv_free(lowers);
	if (r < 0)
		disk_close(&d, attached);
	return r;
}

int vs_disk_umount(const char *server_dir, const char *target, struct vs_err *err)
{
	if (target && umount2(target, 0) < 0 && errno != EINVAL) {
		if (errno != EBUSY || umount2(target, MNT_DETACH) < 0)
			return vs_fail(err, errno, "disk: umount %s", target);
	}
	struct disk d;
	int kind = vs_disk_kind(server_dir);
	if (kind != VS_DISK_LOOP || disk_paths(server_dir, kind, &d) < 0)
		return 0;
	return loop_detach(&d, err);
}

int vs_disk_destroy(const char *server_dir, struct vs_err *err)
{
	struct disk d;
	int kind = vs_disk_kind(server_dir);
	if (kind < 0)
		return kind == -ENOENT ? 0 : vs_fail(err, -kind, "disk: %s", server_dir);
	int r = vs_disk_umount(server_dir, NULL, err);
	if (r < 0)
		return r;
	disk_paths(server_dir, kind, &d);
	if (kind == VS_DISK_PROJQUOTA) {
		uint32_t id;
		_cleanup_close_ int dfd = open(server_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0 && get_projid(d.upper, &id) == 0 && id)
			set_proj_limit(dfd, id, 0);
	}
	const char *paths[] = { d.upper, d.work, d.img, d.mnt };
	for (size_t i = 0; i < VS_ARRAY_SIZE(paths); i++) {
		int q = vs_rm_rf(paths[i]);
		if (q < 0)
			return vs_fail(err, -q, "disk: remove %s", paths[i]);
	}
	return 0;
}

/* cp -a --reflink=auto from/. to (to exists): contents, attributes,
 * xattrs (whiteouts, opaque dirs) and the project id inheritance of to */
static int copy_tree(const char *from, const char *to, struct vs_err *err)
{
	char src[PATH_MAX];
	if (img_path(src, sizeof(src), "%s/.", from) < 0)
		return vs_failx(err, ENAMETOOLONG, "disk: copy %s: path too long", from);
	char *argv[] = { "cp", "-a", "--reflink=auto", "--", src, (char *)to, NULL };
	int r = img_run(argv, NULL, err);
	return r < 0 ? vs_wrap(err, "disk: copy %s to %s", from, to) : 0;
}

/* removes what is inside dir; the dir itself keeps its project id */
static int empty_dir(const char *dir, struct vs_err *err)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return vs_fail(err, errno, "disk: open %s", dir);
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(dp))) {
		char p[PATH_MAX];
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (img_path(p, sizeof(p), "%s/%s", dir, de->d_name) < 0)
			r = vs_failx(err, ENAMETOOLONG, "disk: empty %s: path too long", dir);
		else if ((r = vs_rm_rf(p)) < 0)
			r = vs_fail(err, -r, "disk: remove %s", p);
	}
	closedir(dp);
	return r;
}

int vs_disk_snapshot(const char *server_dir, const char *snap_dir, struct vs_err *err)
{
	struct disk d;
	bool attached;
	char dst[PATH_MAX];
	if (img_path(dst, sizeof(dst), "%s/upper", snap_dir) < 0)
		return vs_failx(err, ENAMETOOLONG, "disk: snapshot %s: path too long", snap_dir);
	int r = vs_mkdir_p(snap_dir, 0700);
	if (r < 0)
		return vs_fail(err, -r, "disk: snapshot: mkdir %s", snap_dir);
	if (mkdir(dst, 0755) < 0)
		return vs_fail(err, errno, "disk: snapshot: mkdir %s", dst);
	r = disk_open(server_dir, &d, &attached, err);
	if (r == 0)
		r = copy_tree(d.upper, dst, err);
	if (r < 0)
		vs_rm_rf(dst);
	disk_close(&d, attached);
	return r;
}

int vs_disk_restore(const char *server_dir, const char *snap_dir, struct vs_err *err)
{
	struct disk d;
	bool attached;
	char src[PATH_MAX];
	struct stat st;
	if (img_path(src, sizeof(src), "%s/upper", snap_dir) < 0)
		return vs_failx(err, ENAMETOOLONG, "disk: restore %s: path too long", snap_dir);
	if (stat(src, &st) < 0 || !S_ISDIR(st.st_mode))
		return vs_failx(err, ENOENT, "disk: restore: %s is not a snapshot (no upper/)", snap_dir);
	int r = disk_open(server_dir, &d, &attached, err);
	if (r < 0)
		return r;
	r = empty_dir(d.upper, err);
	if (r == 0)
		r = empty_dir(d.work, err);
	if (r == 0)
		r = copy_tree(src, d.upper, err);
	disk_close(&d, attached);
	return r;
}

int vs_disk_clone(const char *src_dir, const char *dst_dir, uint64_t quota, struct vs_err *err)
{
	struct disk s, d;
	bool sa, da;
	int r = vs_disk_create(dst_dir, quota, err);
	if (r < 0)
		return r;
	r = disk_open(src_dir, &s, &sa, err);
	if (r < 0)
		goto out_destroy;
	r = disk_open(dst_dir, &d, &da, err);
	if (r == 0) {
		r = copy_tree(s.upper, d.upper, err);
		disk_close(&d, da);
	}
	disk_close(&s, sa);
	if (r == 0)
		return 0;
out_destroy:
	vs_disk_destroy(dst_dir, NULL);
	return r;
}

/* for store-export.c: the upper dir of an attached disk */
int img_disk_open(const char *dir, char *upper, size_t len, bool *attached, struct vs_err *err)
{
	struct disk d;
	int r = disk_open(dir, &d, attached, err);
	if (r < 0)
		return r;
	if (img_path(upper, len, "%s", d.upper) < 0) {
		disk_close(&d, *attached);
		return vs_failx(err, ENAMETOOLONG, "disk: %s: path too long", dir);
	}
	return 0;
}

void img_disk_close(const char *dir, bool attached)
{
	struct disk d;
	if (attached && disk_paths(dir, VS_DISK_LOOP, &d) == 0)
		loop_detach(&d, NULL);
}
