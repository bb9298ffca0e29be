/* The project-quota path of a server's disk (rootfs/store-disk.c), for real:
 * a loop-mounted ext4 made with -O quota,project and mounted prjquota (and
 * XFS with prjquota when mkfs.xfs is there) holds two server dirs; each
 * gets a project id on upper/ and work/ (inherited by what is made inside)
 * and a hard block limit; writing past one server's limit fails with
 * EDQUOT or ENOSPC while the other server and the rest of the filesystem
 * are untouched; destroy clears the limit. The writers lack
 * CAP_SYS_RESOURCE, as servers do: ext4 lets its holders past the limit. Needs a kernel with CONFIG_QUOTA
 * (the check-vm VM's Debian kernel has it; the build machines' does not:
 * then every test skips, loudly). Root. */
#include "tap.h"
#include "../../rootfs/image.h"

#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
#define PRJ_QCMD(cmd) (((unsigned)(cmd) << SUBCMDSHIFT) | 2 /* PRJQUOTA */)

#define N_TESTS 12

static char T[256];

static int sh(const char *f, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *f, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, f);
	vsnprintf(cmd, sizeof(cmd), f, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int projid_of(const char *path, uint32_t *id, bool *inherit)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct fsxattr fsx;
	int r = fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (r == 0) {
		*id = fsx.fsx_projid;
		if (inherit)
			*inherit = fsx.fsx_xflags & FS_XFLAG_PROJINHERIT;
	}
	return r;
}

static int quota_of(const char *mnt, uint32_t id, struct if_dqblk *q)
{
	memset(q, 0, sizeof(*q));
	int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd < 0 || syscall(SYS_quotactl_fd, fd, PRJ_QCMD(Q_GETQUOTA), (int)id, q) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	return r == -ENOENT ? 0 : r;   /* XFS: no record of the id = nothing used, no limit */
}

/* writes 64 KiB blocks (fsync'd, so the blocks are charged now) until
 * max bytes or an error; returns the bytes written, *err the errno */
static uint64_t fill(const char *path, uint64_t max, int *err)
{
	static char buf[65536];
	memset(buf, 'x', sizeof(buf));
	*err = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		*err = errno;
		return 0;
	}
	uint64_t n = 0;
	while (n < max) {
		ssize_t w = write(fd, buf, sizeof(buf));
		if (w < 0 || fsync(fd) < 0) {
			*err = errno;
			break;
		}
		n += (uint64_t)w;
	}
	if (close(fd) < 0 && !*err)
		*err = errno;
	return n;
}

/* fill() in a child without CAP_SYS_RESOURCE in its effective set, as a
 * server runs: ext4's (the VFS's) quota lets a holder of that capability
 * past hard limits; XFS does not */
static uint64_t fill_as_server(const char *path, uint64_t max, int *err)
{
	int fds[2];
	uint64_t res[2] = { 0, EIO };
	if (pipe(fds) < 0)
		return *err = errno, 0;
	pid_t pid = fork();
	if (pid == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		if (syscall(SYS_capget, &h, d) == 0) {
			d[CAP_SYS_RESOURCE / 32].effective &= ~(1u << (CAP_SYS_RESOURCE % 32));
			if (syscall(SYS_capset, &h, d) < 0)
				_exit(2);
		}
		int e;
		res[0] = fill(path, max, &e);
		res[1] = (uint64_t)e;
		_exit(write(fds[1], res, sizeof(res)) == sizeof(res) ? 0 : 1);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], res, sizeof(res)) != sizeof(res))
		res[1] = EIO;
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	*err = (int)res[1];
	return res[0];
}

/* mkfs + loop mount with prjquota; returns NULL on success, else why not */
static const char *make_fs(const char *fs, const char *img, const char *mnt)
{
	static char why[512];
	const char *mkfs = !strcmp(fs, "ext4") ?
		"mkfs.ext4 -q -F -I 256 -O quota,project -E nodiscard" : "mkfs.xfs -q -f -m crc=1";
	unsigned mib = !strcmp(fs, "ext4") ? 64 : 320;   /* XFS refuses under 300 MiB */
	if (sh("truncate -s %uM %s && %s %s >%s/mkfs.log 2>&1", mib, img, mkfs, img, T) != 0) {
		snprintf(why, sizeof(why), "%s failed or is missing (see %s/mkfs.log)", mkfs, T);
		return why;
	}
	mkdir(mnt, 0755);
	if (sh("mount -o loop,prjquota %s %s 2>%s/mount.log", img, mnt, T) != 0 ||
	    sh("grep -q ' %s .*prjquota' /proc/mounts", mnt) != 0) {
		snprintf(why, sizeof(why), "mount -o loop,prjquota of the %s image failed: the kernel "
			 "has no quota support (CONFIG_QUOTA%s) or no %s", fs,
			 !strcmp(fs, "xfs") ? "/CONFIG_XFS_QUOTA" : "", fs);
		return why;
	}
	sh("grep ' %s ' /proc/mounts | sed 's/^/# /'", mnt);
	return NULL;
}

static void test_fs(const char *fs)
{
	char img[PATH_MAX], mnt[PATH_MAX], a[PATH_MAX], b[PATH_MAX], p[PATH_MAX];
	snprintf(img, sizeof(img), "%s/%s.img", T, fs);
	snprintf(mnt, sizeof(mnt), "%s/%s", T, fs);
	const char *why = make_fs(fs, img, mnt);
	if (why) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s project quota not exercised: %s", fs, why);
		fprintf(stderr, "# test-projquota: SKIPPED: %s\n", msg);
		skip(1, msg);   /* one line per filesystem: the reason is the same for all */
		unlink(img);
		return;
	}
	snprintf(a, sizeof(a), "%s/servers/a", mnt);
	snprintf(b, sizeof(b), "%s/servers/b", mnt);
	struct vs_err err = { 0 };
	const uint64_t qa = 8u << 20, qb = 12u << 20;
	int r = vs_disk_create(a, qa, &err);
	is_int(r, VS_DISK_PROJQUOTA, "%s: an 8 MiB disk (the minimum) on a prjquota mount takes the project-quota path%s%s",
	       fs, r < 0 ? ": " : "", r < 0 ? err.msg : "");
	r = vs_disk_create(b, qb, &err);
	is_int(r, VS_DISK_PROJQUOTA, "%s: a second server, 12 MiB, too%s%s", fs, r < 0 ? ": " : "",
	       r < 0 ? err.msg : "");
	is_int(vs_disk_kind(a), VS_DISK_PROJQUOTA, "%s: vs_disk_kind sees the project quota", fs);
	char c[PATH_MAX];
	snprintf(c, sizeof(c), "%s/servers/c", mnt);
	r = vs_disk_create(c, 4u << 20, &err);
	ok(r == -EINVAL && access(c, F_OK) < 0 && strstr(err.msg, "below the 8M minimum"),
	   "%s: a 4 MiB quota is refused on the project-quota path too, nothing made (%s)", fs,
	   r < 0 ? err.msg : "accepted");

	uint32_t ida = 0, idw = 0, idb = 0, idf = 0;
	bool inh = false;
	snprintf(p, sizeof(p), "%s/upper", a);
	projid_of(p, &ida, &inh);
	snprintf(p, sizeof(p), "%s/work", a);
	projid_of(p, &idw, NULL);
	snprintf(p, sizeof(p), "%s/upper", b);
	projid_of(p, &idb, NULL);
	ok(ida && ida == idw && inh && idb && idb != ida,
	   "%s: upper/ and work/ share a project id with the inherit flag, each server its own (a %u/%u, b %u)",
	   fs, ida, idw, idb);
	struct if_dqblk q = { 0 };
	quota_of(mnt, ida, &q);
	is_int(q.dqb_bhardlimit, qa / 1024, "%s: project %u hard limit is 8 MiB (in KiB)", fs, ida);

	/* a's upper: a nested dir inherits the id; writing past 8 MiB fails */
	snprintf(p, sizeof(p), "%s/upper/var", a);
	mkdir(p, 0755);
	projid_of(p, &idf, NULL);
	snprintf(p, sizeof(p), "%s/upper/var/big", a);
	int e;
	uint64_t n = fill_as_server(p, 16u << 20, &e);
	printf("# %s: server a wrote %llu KiB before: %s\n", fs, (unsigned long long)n / 1024, strerror(e));
	ok(idf == ida && (e == EDQUOT || e == ENOSPC) && n <= qa && n >= qa - (1u << 20),
	   "%s: a file in a new dir of a's upper (project %u) stops at the 8 MiB limit with %s",
	   fs, idf, e == EDQUOT ? "EDQUOT" : e == ENOSPC ? "ENOSPC" : "(no error)");
	quota_of(mnt, ida, &q);
	printf("# %s: project %u uses %llu KiB of %llu\n", fs, ida, (unsigned long long)q.dqb_curspace / 1024,
	       (unsigned long long)q.dqb_bhardlimit);
	ok(q.dqb_curspace <= qa, "%s: the kernel's usage of project %u is within its limit", fs, ida);

	/* the others are untouched: b writes 10 MiB, the filesystem root 8 MiB */
	snprintf(p, sizeof(p), "%s/upper/f", b);
	n = fill_as_server(p, 10u << 20, &e);
	ok(n == 10u << 20 && !e, "%s: server b still writes 10 MiB of its 12 (%llu KiB, %s)", fs,
	   (unsigned long long)n / 1024, e ? strerror(e) : "no error");
	snprintf(p, sizeof(p), "%s/outside", mnt);
	n = fill(p, 8u << 20, &e);
	ok(n == 8u << 20 && !e, "%s: outside any server, 8 MiB are written (%llu KiB, %s)", fs,
	   (unsigned long long)n / 1024, e ? strerror(e) : "no error");

	/* destroy: the dirs are gone and the project's limit is cleared */
	r = vs_disk_destroy(a, &err);
	/* XFS frees the blocks of removed inodes in the background: let it settle */
	for (int i = 0; i < 50; i++) {
		sync();
		quota_of(mnt, ida, &q);
		if (!q.dqb_curspace)
			break;
		usleep(100000);
	}
	snprintf(p, sizeof(p), "%s/upper", a);
	struct stat st;
	ok(r == 0 && stat(p, &st) < 0 && q.dqb_bhardlimit == 0 && q.dqb_curspace == 0,
	   "%s: destroy removes a's dirs, its usage and its limit (limit %llu, usage %llu)%s%s", fs,
	   (unsigned long long)q.dqb_bhardlimit, (unsigned long long)q.dqb_curspace, r ? ": " : "",
	   r ? err.msg : "");
	r = vs_disk_destroy(b, &err);
	ok(r == 0, "%s: destroy b%s%s", fs, r ? ": " : "", r ? err.msg : "");

	/* mounted without prjquota (ext4 still counts usage: accounting only):
	 * no limit would hold, so the disk must be a loop image instead */
	umount2(mnt, 0);
	r = sh("mount -o loop %s %s", img, mnt);
	snprintf(a, sizeof(a), "%s/servers/c", mnt);
	r = r ? -1 : vs_disk_create(a, 16u << 20, &err);
	is_int(r, VS_DISK_LOOP, "%s: without prjquota (limits not enforced) a quota disk is a loop image%s%s",
	       fs, r < 0 ? ": " : "", r < 0 ? err.msg : "");
	vs_disk_destroy(a, &err);
	umount2(mnt, 0);
	rmdir(mnt);
	unlink(img);
}

int main(void)
{
	if (geteuid() != 0) {
		skip(2 * N_TESTS, "needs root");
		return tap_done();
	}
	snprintf(T, sizeof(T), "/tmp/vs-projq-%d", (int)getpid());
	mkdir(T, 0700);
	test_fs("ext4");
	test_fs("xfs");
	sh("rm -rf %s", T);
	return tap_done();
}
