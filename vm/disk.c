/* vm: the server's rootfs as a disk for the guest. mke2fs -d copies a tree
 * into a new ext4 image without mounting anything (no loop device, no root
 * needed for the copy), keeping owners, modes, symlinks and device nodes. */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MIN_DISK (4ULL << 20)

/* the last non-empty line of buf, in place */
static const char *last_line(char *buf)
{
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	char *nl = strrchr(buf, '\n');
	return nl ? nl + 1 : buf;
}

/* Runs argv with stdin /dev/null, stdout to /dev/null, stderr captured into
 * buf (the first len-1 bytes). Returns the exit status. */
static int run_capture(char *const *argv, char *buf, size_t len, struct vs_err *err)
{
	int p[2];
	size_t got = 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return vs_fail(err, errno, "vm: pipe");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return vs_fail(err, e, "vm: fork");
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(p[1], 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		char tmp[512];
		ssize_t n = read(p[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t room = len - 1 - got;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(buf + got, tmp, take);
		got += take;
	}
	buf[got] = '\0';
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return vs_fail(err, errno, "vm: waitpid");
	return status;
}

int vm_disk_from_rootfs(const char *dir, uint64_t size, const char *out_img,
			struct vs_err *err)
{
	struct stat st;
	char out[4096];

	if (stat(dir, &st) < 0)
		return vs_fail(err, errno, "vm: rootfs %s", dir);
	if (!S_ISDIR(st.st_mode))
		return vs_failx(err, ENOTDIR, "vm: rootfs %s: not a directory", dir);
	if (size < MIN_DISK)
		return vs_failx(err, EINVAL, "vm: disk size %llu: at least 4 MiB",
				(unsigned long long)size);

	/* a fresh sparse file of the size asked: an older, bigger image at the
	 * same path must not survive under the new file system */
	int fd = open(out_img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return vs_fail(err, errno, "vm: create disk %s", out_img);
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = errno;
		close(fd);
		unlink(out_img);
		return vs_fail(err, e, "vm: size disk %s", out_img);
	}
	close(fd);

	char kib[32];
	snprintf(kib, sizeof(kib), "%lluk", (unsigned long long)(size / 1024));
	char *argv[] = {
		"mke2fs", "-q", "-F", "-t", "ext4", "-L", "rootfs",
		/* no lazy init in the guest: its first minutes would write the
		 * inode tables behind its back */
		"-E", "lazy_itable_init=0,lazy_journal_init=0",
		"-d", (char *)dir, (char *)out_img, kib, NULL,
	};
	int status = run_capture(argv, out, sizeof(out), err);
	if (status < 0) {
		unlink(out_img);
		return status;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	unlink(out_img);
	const char *why = last_line(out);
	if (!strncmp(why, "mke2fs: ", 8))
		why += 8;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return vs_failx(err, ENOENT, "vm: mke2fs: %s", *why ? why : "not found (e2fsprogs)");
	if (WIFSIGNALED(status))
		return vs_failx(err, EIO, "vm: mke2fs -d %s %s: killed by signal %d", dir, out_img,
				WTERMSIG(status));
	return vs_failx(err, EIO, "vm: mke2fs -d %s %s: %s", dir, out_img,
			*why ? why : "failed");
}
