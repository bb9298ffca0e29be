/* What keeps the host out of reach of the container between clone/fork and
 * execve (see docs/security.md):
 *
 * - the init and the exec'd process are not dumpable: a process of the
 *   container with the same uid and capabilities cannot open their
 *   /proc/PID/fd, cwd or root, nor ptrace them before their seccomp filter
 *   is on (CVE-2016-9962). execve makes them dumpable again.
 * - every fd they inherited and do not need is closed at once, not just
 *   marked close-on-exec: an fd of the host (the cgroup directory of
 *   CLONE_INTO_CGROUP, a directory of the caller) must not be there when a
 *   path the config controls is looked up (process.cwd = /proc/self/fd/N,
 *   CVE-2024-21626).
 * - after chdir(process.cwd) the working directory must be reachable from
 *   the container's root, whatever path led there. */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static void close_span(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return;
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
	/* no close_range (Linux < 5.9): one by one up to the fd limit */
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > INT_MAX)
		max = 65536;
	for (long fd = lo; fd <= (long)hi && fd < max; fd++)
		close((int)fd);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* runs in: container init or the exec'd process, right after clone/fork.
 * Closes every fd >= from except those in keep[] (negative entries are
 * ignored). Cannot fail. */
void rt_close_fds_except(int from, const int *keep, size_t n)
{
	int k[32];
	size_t m = 0;
	for (size_t i = 0; i < n && m < VS_ARRAY_SIZE(k); i++)
		if (keep[i] >= from)
			k[m++] = keep[i];
	qsort(k, m, sizeof(k[0]), cmp_int);
	unsigned lo = (unsigned)from;
	for (size_t i = 0; i < m; i++) {
		if ((unsigned)k[i] > lo)
			close_span(lo, (unsigned)k[i] - 1);
		if ((unsigned)k[i] >= lo)
			lo = (unsigned)k[i] + 1;
	}
	close_span(lo, ~0U);
}

/* runs in: container init or the exec'd process, after chdir(process.cwd).
 * A cwd reached through an fd of the host (or any path leading out of the
 * root) is not below the root: the kernel's getcwd then answers with an
 * "(unreachable)" path, or ENOENT. */
int rt_check_cwd(const char *cwd, struct vs_err *err)
{
	char buf[PATH_MAX];
	long n = syscall(SYS_getcwd, buf, sizeof(buf));
	if (n < 0 && errno != ENOENT)
		return vs_fail(err, errno, "process: cwd %s: getcwd", cwd);
	if (n <= 0 || buf[0] != '/')
		return vs_failx(err, EPERM,
				"process: cwd %s: outside the container's root: refused", cwd);
	return 0;
}
