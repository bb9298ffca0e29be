/* rootfs: opening paths inside the container's root.
 *
 * Why: a mount destination, a device path, a masked path all come from the
 * config but are looked up in a directory tree the image controls. If the
 * image has /proc -> /host, or /mnt/x -> ../../../../etc, a plain
 * open(rootfs + "/proc/...") follows the link on the host and the mount lands
 * on the host. openat2(RESOLVE_IN_ROOT) makes the kernel treat root_fd as "/"
 * for the whole walk: absolute symlinks restart at root_fd, ".." stops at it,
 * and magic links (/proc/self/root and friends) are refused. It is also safe
 * against a concurrent rename inside the tree (the kernel returns EAGAIN and
 * we retry). Components we create are created relative to an fd we resolved
 * that way, never by a path string, and re-resolved after creation. */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int rfs_resolve(int root_fd, const char *path, int oflags)
{
	struct open_how how = {
		.flags = (uint64_t)(oflags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	for (int tries = 0; tries < 32; tries++) {
		int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}

/* Creates the last component of prefix (name) in the directory parent_fd. */
static int create_one(int parent_fd, const char *name, bool as_file)
{
	if (as_file) {
		int fd = openat(parent_fd, name,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return errno == EEXIST ? 0 : -errno;
		close(fd);
		return 0;
	}
	if (mkdirat(parent_fd, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A component exists as a symlink whose target does not (yet): rewrite
 * the path as the link's target followed by the rest, and walk that. The
 * new path is resolved with RESOLVE_IN_ROOT like any other, so an absolute
 * target means the rootfs's root, never the host's. */
static int follow_dangling(int parent_fd, const char *name, const char *buf,
			   const char *comp, const char *rest, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(parent_fd, name, target, sizeof(target) - 1);
	if (n < 0)
		return errno == EINVAL ? -ENOENT : -errno; /* not a symlink: a race */
	target[n] = '\0';
	int k;
	if (target[0] == '/')
		k = snprintf(out, len, "%s%s%s", target, rest ? "/" : "", rest ? rest : "");
	else
		k = snprintf(out, len, "%.*s%s%s%s", (int)(comp - buf), buf, target,
			     rest ? "/" : "", rest ? rest : "");
	return k < 0 || (size_t)k >= len ? -ENAMETOOLONG : 0;
}

/* The slow path: walk prefix by prefix, creating what is missing. */
static int open_creating(int root_fd, const char *path, bool mkdirs, bool make_file)
{
	char buf[PATH_MAX], next[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	int links = 0;
restart:;
	_cleanup_close_ int parent = rfs_resolve(root_fd, ".", O_PATH | O_DIRECTORY);
	if (parent < 0)
		return parent;
	char *p = buf;
	while (*p == '/')
		p++;
	while (*p) {
		char *end = strchr(p, '/');
		char *rest = NULL;
		bool last = !end;
		if (end) {
			*end = '\0';
			/* "a//b/" : the last real component is the last one */
			rest = end + 1;
			while (*rest == '/')
				rest++;
			if (!*rest) {
				last = true;
				rest = NULL;
			}
		}
		int fd = rfs_resolve(root_fd, buf, O_PATH);
		if (fd == -ENOENT && strcmp(p, ".") && strcmp(p, "..") && (mkdirs || last)) {
			bool as_file = last && make_file;
			if (!as_file && !mkdirs)
				return -ENOENT;
			int r = create_one(parent, p, as_file);
			if (r < 0)
				return r;
			fd = rfs_resolve(root_fd, buf, O_PATH);
			if (fd == -ENOENT) {
				/* it exists but does not resolve: a dangling symlink */
				if (++links > 40)
					return -ELOOP;
				r = follow_dangling(parent, p, buf, p, rest, next, sizeof(next));
				if (r < 0)
					return r;
				memcpy(buf, next, sizeof(buf));
				close(TAKE_FD(parent));
				goto restart;
			}
		}
		if (fd < 0)
			return fd;
		close(parent);
		parent = fd;
		if (last)
			return TAKE_FD(parent);
		*end = '/';
		p = rest;
	}
	return TAKE_FD(parent);
}

int rootfs_open_in_root(int root_fd, const char *path, bool mkdirs, bool make_file,
			struct vs_err *err)
{
	int fd = rfs_resolve(root_fd, path, O_PATH);
	if (fd == -ENOENT && (mkdirs || make_file))
		fd = open_creating(root_fd, path, mkdirs, make_file);
	if (fd == -ENOSYS)
		return vs_fail(err, ENOSYS, "rootfs: open %s in root: openat2 needs Linux 5.6",
			       path);
	if (fd < 0)
		return vs_fail(err, -fd, "rootfs: open %s in root", path);
	return fd;
}

int rfs_open_parent(int root_fd, const char *path, bool mkdirs, const char **name,
		    struct vs_err *err)
{
	char dir[PATH_MAX];
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof(dir))
		return vs_fail(err, ENAMETOOLONG, "rootfs: %s", path);
	memcpy(dir, path, len);
	dir[len] = '\0';
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return vs_failx(err, EINVAL, "rootfs: %s: not a file name", path);
	*name = path + (base - dir);
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	else
		strcpy(dir, ".");
	return rootfs_open_in_root(root_fd, dir, mkdirs, false, err);
}
