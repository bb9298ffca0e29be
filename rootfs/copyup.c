/* rootfs: tmpcopyup, copying what the image had at a tmpfs destination
 * into the new tmpfs. Everything is opened relative to directory fds with
 * O_NOFOLLOW, so a symlink in the image is copied as a symlink and never
 * followed onto the host. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define MAX_DEPTH 256

static int copy_data(int in, int out)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (vs_write_all(out, buf, (size_t)n) < 0)
			return -errno;
	}
}

static int copy_meta(int fd, const struct stat *st)
{
	if (fchown(fd, st->st_uid, st->st_gid) < 0 && errno != EPERM && errno != EINVAL)
		return -errno;
	if (fchmod(fd, st->st_mode & 07777) < 0)
		return -errno;
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	futimens(fd, ts);
	return 0;
}

static int copy_dir(int src, int dst, int depth, struct vs_err *err, const char *where);

static int copy_entry(int src, int dst, const char *name, int depth, struct vs_err *err,
		      const char *where)
{
	struct stat st;
	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(dst, name, 0700) < 0 && errno != EEXIST)
			return -errno;
		_cleanup_close_ int s = openat(src, name,
					       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d = openat(dst, name,
					       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return -errno;
		int r = copy_dir(s, d, depth + 1, err, where);
		if (r < 0)
			return r;
		return copy_meta(d, &st);
	}
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int s = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0)
			return -errno;
		_cleanup_close_ int d = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL |
					       O_NOFOLLOW | O_CLOEXEC, 0600);
		if (d < 0)
			return -errno;
		int r = copy_data(s, d);
		if (r < 0)
			return r;
		return copy_meta(d, &st);
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlinkat(target, dst, name) < 0)
			return -errno;
		if (fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != EPERM && errno != EINVAL)
			return -errno;
		return 0;
	}
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
		if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0)
			return -errno;
		if (fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != EPERM && errno != EINVAL)
			return -errno;
		return 0;
	}
	return 0; /* sockets: nothing to copy */
}

static int copy_dir(int src, int dst, int depth, struct vs_err *err, const char *where)
{
	if (depth > MAX_DEPTH)
		return vs_failx(err, ELOOP, "rootfs: copy %s: deeper than %d", where, MAX_DEPTH);
	int fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = copy_entry(dirfd(d), dst, de->d_name, depth, err, where);
		if (r < 0) {
			if (!err->code)
				vs_fail(err, -r, "rootfs: copy %s: %s", where, de->d_name);
			break;
		}
	}
	closedir(d);
	return r;
}

int rfs_copy_tree(int src_fd, int dst_fd, const char *dst_path, struct vs_err *err)
{
	struct vs_err local = { 0 };
	struct vs_err *e = err ? err : &local;
	e->code = 0;
	int r = copy_dir(src_fd, dst_fd, 0, e, dst_path);
	if (r < 0)
		return r;
	struct stat st;
	if (fstat(src_fd, &st) == 0)
		copy_meta(dst_fd, &st);
	return 0;
}
