/* namespaces: clone flags, joining by path, user-namespace id maps, time
 * namespace offsets. */
#include "namespaces.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/nsfs.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	int flag;
	const char *proc;
} ns_table[CONF_NS__MAX] = {
	[CONF_NS_PID] = { CLONE_NEWPID, "pid" },
	[CONF_NS_NETWORK] = { CLONE_NEWNET, "net" },
	[CONF_NS_MOUNT] = { CLONE_NEWNS, "mnt" },
	[CONF_NS_IPC] = { CLONE_NEWIPC, "ipc" },
	[CONF_NS_UTS] = { CLONE_NEWUTS, "uts" },
	[CONF_NS_USER] = { CLONE_NEWUSER, "user" },
	[CONF_NS_CGROUP] = { CLONE_NEWCGROUP, "cgroup" },
	[CONF_NS_TIME] = { CLONE_NEWTIME, "time" },
};

int ns_clone_flag(enum conf_ns_type t)
{
	return (unsigned)t < CONF_NS__MAX ? ns_table[t].flag : 0;
}

const char *ns_proc_name(enum conf_ns_type t)
{
	return (unsigned)t < CONF_NS__MAX ? ns_table[t].proc : "?";
}

int ns_new_flags(const struct conf_linux *lx)
{
	int flags = 0;
	for (int t = 0; t < CONF_NS__MAX; t++)
		if (lx->ns[t].present && !lx->ns[t].path)
			flags |= ns_table[t].flag;
	return flags;
}

void ns_close_all(int fds[CONF_NS__MAX])
{
	for (int t = 0; t < CONF_NS__MAX; t++)
		if (fds[t] >= 0) {
			close(fds[t]);
			fds[t] = -1;
		}
}

/* A namespace joined by path may be the runtime's own (/proc/1/ns/net, or
 * any process of the host's): a sysctl of that namespace would then change
 * the host's (conf/sysctl.c). Compared by inode, as runc does. */
static int check_sysctl_ns(const struct conf_linux *lx, int t, int fd, struct vs_err *err)
{
	char own[64];
	struct stat a, b;
	for (size_t i = 0; i < lx->n_sysctl; i++) {
		if (conf_sysctl_ns(lx->sysctl[i].key) != t)
			continue;
		snprintf(own, sizeof(own), "/proc/self/ns/%s", ns_table[t].proc);
		if (fstat(fd, &a) < 0 || stat(own, &b) < 0)
			return vs_fail(err, errno, "namespaces: stat %s namespace", ns_table[t].proc);
		if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return vs_failx(err, EPERM, "conf: config.json: linux.sysctl[\"%s\"]: the "
					"%s namespace %s is the host's", lx->sysctl[i].key,
					conf_ns_name((enum conf_ns_type)t), lx->ns[t].path);
		return 0;
	}
	return 0;
}

int ns_open_paths(const struct conf_linux *lx, int fds[CONF_NS__MAX], struct vs_err *err)
{
	for (int t = 0; t < CONF_NS__MAX; t++)
		fds[t] = -1;
	for (int t = 0; t < CONF_NS__MAX; t++) {
		const char *p = lx->ns[t].path;
		if (!lx->ns[t].present || !p)
			continue;
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			ns_close_all(fds);
			return vs_fail(err, e, "namespaces: open %s namespace %s", ns_table[t].proc, p);
		}
		fds[t] = fd;
		/* NS_GET_NSTYPE tells what kind of namespace the file is */
		int kind = ioctl(fd, NS_GET_NSTYPE);
		if (kind < 0 || kind != ns_table[t].flag) {
			ns_close_all(fds);
			return vs_failx(err, EINVAL, "namespaces: %s: not a %s namespace", p,
					ns_table[t].proc);
		}
		if (check_sysctl_ns(lx, t, fd, err) < 0) {
			ns_close_all(fds);
			return -err->code;
		}
	}
	return 0;
}

int ns_join(int fds[CONF_NS__MAX], unsigned skip_mask, struct vs_err *err)
{
	/* the user namespace first: it grants the rights to join the others */
	static const int order[] = { CONF_NS_USER, CONF_NS_MOUNT, CONF_NS_NETWORK, CONF_NS_IPC,
				     CONF_NS_UTS, CONF_NS_CGROUP, CONF_NS_PID, CONF_NS_TIME };
	for (size_t i = 0; i < VS_ARRAY_SIZE(order); i++) {
		int t = order[i];
		if (fds[t] < 0 || (skip_mask & (1u << t)))
			continue;
		if (setns(fds[t], ns_table[t].flag) < 0)
			return vs_fail(err, errno, "namespaces: join %s namespace", ns_table[t].proc);
	}
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct conf_idmap *m, size_t n,
		     struct vs_err *err)
{
	char buf[4096], path[64];
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + off, sizeof(buf) - off, "%u %u %u\n", m[i].container_id,
				 m[i].host_id, m[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - off)
			return vs_failx(err, E2BIG, "namespaces: %s: too many mappings", file);
		off += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int r = vs_write_file(path, buf);
	if (r < 0)
		return vs_fail(err, -r, "namespaces: write %s", file);
	return 0;
}

int ns_write_id_maps(pid_t pid, const struct conf_linux *lx, struct vs_err *err)
{
	int r;
	if (lx->n_uid_mappings) {
		r = write_map(pid, "uid_map", lx->uid_mappings, lx->n_uid_mappings, err);
		if (r < 0)
			return r;
	}
	if (lx->n_gid_mappings) {
		r = write_map(pid, "gid_map", lx->gid_mappings, lx->n_gid_mappings, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int ns_write_time_offsets(pid_t pid, const struct conf_linux *lx, struct vs_err *err)
{
	static const char *const clocks[2] = { "monotonic", "boottime" };
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/timens_offsets", (int)pid);
	for (int i = 0; i < 2; i++) {
		if (!lx->time_offsets[i].secs.set && !lx->time_offsets[i].nanosecs.set)
			continue;
		char line[128];
		snprintf(line, sizeof(line), "%s %lld %llu\n", clocks[i],
			 (long long)lx->time_offsets[i].secs.v,
			 (unsigned long long)lx->time_offsets[i].nanosecs.v);
		int r = vs_write_file(path, line);
		if (r < 0)
			return vs_fail(err, -r, "namespaces: write timens_offsets %s", clocks[i]);
	}
	return 0;
}

uint32_t ns_map_to_host(const struct conf_idmap *m, size_t n, uint32_t id)
{
	if (!n)
		return id;
	for (size_t i = 0; i < n; i++)
		if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
			return m[i].host_id + (id - m[i].container_id);
	return (uint32_t)-1;
}
