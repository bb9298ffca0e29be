/* rootfs: small helpers shared by the mount code: mount attributes,
 * propagation, binds through detached trees, /proc/self/mountinfo. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

const char *rfs_fdpath(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}

uint64_t rfs_ms_to_attr(unsigned long ms, uint64_t *atime_clr)
{
	uint64_t a = 0;
	if (ms & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (ms & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (ms & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (ms & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (ms & MS_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	if (ms & MS_NOSYMFOLLOW)
		a |= MOUNT_ATTR_NOSYMFOLLOW;
	/* The atime modes are one field: changing it means clearing all of it. */
	if (ms & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) {
		if (atime_clr)
			*atime_clr |= MOUNT_ATTR__ATIME;
		if (ms & MS_NOATIME)
			a |= MOUNT_ATTR_NOATIME;
		else if (ms & MS_STRICTATIME)
			a |= MOUNT_ATTR_STRICTATIME;
		else
			a |= MOUNT_ATTR_RELATIME;
	}
	return a;
}

/* The MOUNT_ATTR_* flags a mount has now (from statvfs). */
static uint64_t current_attrs(int fd)
{
	struct statvfs sv;
	uint64_t a = 0;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (sv.f_flag & ST_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (sv.f_flag & ST_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (sv.f_flag & (ST_NOATIME | ST_RELATIME))
		a |= MOUNT_ATTR__ATIME;
	if (sv.f_flag & ST_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	return a;
}

/* Why this is enough for locked flags: mount_setattr() only touches the bits
 * named in set/clr, so a flag we do not mention is kept as the source has it
 * (unlike MS_REMOUNT|MS_BIND, which replaces them all and so needs the locked
 * ones or'ed back in). Only an explicit clear ("suid", "rw", "dev") of a
 * flag locked by the parent namespace fails; then we keep it, like runc. */
int rfs_setattr(int fd, uint64_t set, uint64_t clr, bool recursive)
{
	if (!set && !clr)
		return 0;
	struct mount_attr a = { .attr_set = set, .attr_clr = clr };
	unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
	if (mount_setattr(fd, "", flags, &a, sizeof(a)) == 0)
		return 0;
	if (errno != EPERM || !clr)
		return -errno;
	uint64_t keep = current_attrs(fd);
	a.attr_clr = clr & ~keep;
	if ((clr & MOUNT_ATTR__ATIME) && (keep & MOUNT_ATTR__ATIME)) {
		a.attr_clr &= ~MOUNT_ATTR__ATIME;
		a.attr_set &= ~MOUNT_ATTR__ATIME;
	}
	if (mount_setattr(fd, "", flags, &a, sizeof(a)) < 0)
		return -errno;
	return 0;
}

int rfs_set_propagation(int fd, unsigned long prop)
{
	unsigned long type = prop & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE);
	if (!type)
		return 0;
	struct mount_attr a = { .propagation = type };
	unsigned flags = AT_EMPTY_PATH | ((prop & MS_REC) ? AT_RECURSIVE : 0);
	if (mount_setattr(fd, "", flags, &a, sizeof(a)) < 0)
		return -errno;
	return 0;
}

bool rfs_in_userns(void)
{
	/* The initial namespace maps all of 0..2^32-2 onto itself; a child
	 * namespace cannot have that map unless its creator was privileged
	 * and chose it, in which case mknod still fails and callers fall back. */
	_cleanup_free_ char *map = NULL;
	if (vs_read_file("/proc/self/uid_map", &map, NULL) < 0)
		return false;
	unsigned long a, b, n;
	int used = 0;
	if (sscanf(map, "%lu %lu %lu%n", &a, &b, &n, &used) != 3)
		return true;
	const char *rest = map + used;
	while (*rest == ' ' || *rest == '\n')
		rest++;
	return !(a == 0 && b == 0 && n == 4294967295UL && !*rest);
}

int rfs_bind_fd(int dirfd, const char *path, int target_fd, bool recursive, uint64_t attrs)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
	if (!*path)
		flags |= AT_EMPTY_PATH;
	_cleanup_close_ int tree = open_tree(dirfd, path, flags);
	if (tree < 0)
		return -errno;
	if (attrs) {
		int r = rfs_setattr(tree, attrs, 0, recursive);
		if (r < 0)
			return r;
	}
	if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* Decodes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static int parse_line(char *line, struct rfs_mntinfo *mi)
{
	char *save = NULL, *f[6];
	for (int i = 0; i < 6; i++) {
		f[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!f[i])
			return -EINVAL;
	}
	char *t;
	while ((t = strtok_r(NULL, " ", &save)) && strcmp(t, "-"))
		; /* optional fields */
	if (!t)
		return -EINVAL;
	mi->fstype = strtok_r(NULL, " ", &save);
	mi->source = strtok_r(NULL, " ", &save);
	mi->superopts = strtok_r(NULL, " ", &save);
	if (!mi->fstype || !mi->source || !mi->superopts)
		return -EINVAL;
	mi->id = atoi(f[0]);
	mi->parent = atoi(f[1]);
	mi->root = f[3];
	mi->mountpoint = f[4];
	unescape(mi->root);
	unescape(mi->mountpoint);
	unescape(mi->source);
	return 0;
}

int rfs_mountinfo_each(int (*fn)(const struct rfs_mntinfo *mi, void *data), void *data)
{
	_cleanup_free_ char *buf = NULL;
	int r = vs_read_file("/proc/self/mountinfo", &buf, NULL);
	if (r < 0)
		return r;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct rfs_mntinfo mi;
		if (parse_line(line, &mi) < 0)
			continue;
		r = fn(&mi, data);
		if (r)
			return r;
	}
	return 0;
}
