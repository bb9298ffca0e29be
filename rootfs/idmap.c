/* rootfs: user namespaces that exist only to carry an id map for
 * MOUNT_ATTR_IDMAP. A helper child unshares a user namespace and waits;
 * we write its maps, keep an fd of the namespace, and let the child go. */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static int write_map(const char *pid, const char *file, const struct conf_idmap *m, size_t n)
{
	char path[64], buf[4096];
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(buf + used, sizeof(buf) - used, "%u %u %u\n", m[i].container_id,
				 m[i].host_id, m[i].size);
		if (k < 0 || (size_t)k >= sizeof(buf) - used)
			return -E2BIG;
		used += (size_t)k;
	}
	buf[used] = '\0';
	snprintf(path, sizeof(path), "/proc/%s/%s", pid, file);
	return vs_write_file(path, buf);
}

int rfs_userns_fd(const struct conf_idmap *uid, size_t n_uid,
		  const struct conf_idmap *gid, size_t n_gid)
{
	int up[2], down[2];
	if (pipe2(up, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(down, O_CLOEXEC) < 0) {
		int e = -errno;
		close(up[0]);
		close(up[1]);
		return e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(up[0]), close(up[1]), close(down[0]), close(down[1]);
		return e;
	}
	if (pid == 0) {
		/* child: tell the parent our pid as its /proc sees it (we may
		 * be in a pid namespace that /proc does not belong to) */
		char self[32] = "";
		close(up[0]);
		close(down[1]);
		if (unshare(CLONE_NEWUSER) == 0) {
			ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
			self[n > 0 ? n : 0] = '\0';
		}
		if (vs_write_all(up[1], self, sizeof(self)) < 0)
			_exit(1);
		char c;
		while (read(down[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	char self[32];
	int r = (int)vs_read_all(up[0], self, sizeof(self));
	int fd = -EBADF;
	if (r >= 0 && (size_t)r != sizeof(self))
		r = -EPIPE;
	if (r >= 0 && (!self[0] || self[sizeof(self) - 1]))
		r = -EPERM; /* the child could not unshare */
	if (r >= 0)
		r = write_map(self, "uid_map", uid, n_uid);
	if (r >= 0)
		r = write_map(self, "gid_map", gid, n_gid);
	if (r >= 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%s/ns/user", self);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = -errno;
	}
	close(down[1]);
	close(up[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r < 0 ? r : fd;
}
