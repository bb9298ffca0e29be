/* linux.sysctl keys: their spelling and the namespace each belongs to.
 *
 * Why: a sysctl is written by the container's init into /proc/sys, and
 * /proc/sys shows the namespaces init is in. Only the ipc, network and uts
 * sysctls are per namespace; every other one (kernel.core_pattern,
 * kernel.modprobe, vm.*, fs.* but fs.mqueue.*) is the host's, and a config
 * that could set one would own the host. So a key is accepted only when it
 * belongs to a namespace the container makes or joins (that a joined one is
 * not the runtime's own is checked where the paths are opened). The list is
 * short on purpose: a key not known to be namespaced is refused.
 *
 * Spelling: "net.ipv4.ip_forward" (dots) or "net/ipv4/conf/eth0.100/forwarding"
 * (slashes: a key with a slash uses only slashes as separators, so the dot of
 * a VLAN interface stays in its name), as sysctl(8) and runc accept. Empty
 * parts, "." and ".." parts, a leading or trailing separator are refused. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* the ipc sysctls under kernel. (fs.mqueue.* are ipc too) */
static const char *const ipc_kernel[] = {
	"msgmax", "msgmnb", "msgmni", "sem", "shmall", "shmmax", "shmmni", "shm_rmid_forced",
};

/* Splits key into at most max parts (pointers into buf). Returns the count
 * or -EINVAL. */
static int split_key(const char *key, char *buf, size_t len, const char **parts, int max)
{
	size_t n = strlen(key);
	if (n == 0 || n >= len)
		return -EINVAL;
	memcpy(buf, key, n + 1);
	char sep = strchr(buf, '/') ? '/' : '.';
	int count = 0;
	for (char *s = buf;;) {
		char *end = strchr(s, sep);
		if (end)
			*end = '\0';
		if (!*s || !strcmp(s, ".") || !strcmp(s, "..") || count == max)
			return -EINVAL;
		parts[count++] = s;
		if (!end)
			return count;
		s = end + 1;
	}
}

#define SYSCTL_MAX_PARTS 16

int conf_sysctl_ns(const char *key)
{
	char buf[256];
	const char *p[SYSCTL_MAX_PARTS];
	int n = split_key(key, buf, sizeof(buf), p, SYSCTL_MAX_PARTS);
	if (n < 2)
		return -EINVAL;
	if (!strcmp(p[0], "net"))
		return CONF_NS_NETWORK;
	if (!strcmp(p[0], "fs") && !strcmp(p[1], "mqueue") && n >= 3)
		return CONF_NS_IPC;
	if (strcmp(p[0], "kernel") || n != 2)
		return -EPERM;
	if (!strcmp(p[1], "hostname") || !strcmp(p[1], "domainname"))
		return CONF_NS_UTS;
	for (size_t i = 0; i < VS_ARRAY_SIZE(ipc_kernel); i++)
		if (!strcmp(p[1], ipc_kernel[i]))
			return CONF_NS_IPC;
	return -EPERM;
}

int conf_sysctl_path(const char *key, char *out, size_t len)
{
	char buf[256];
	const char *p[SYSCTL_MAX_PARTS];
	int n = split_key(key, buf, sizeof(buf), p, SYSCTL_MAX_PARTS);
	if (n < 0)
		return n;
	size_t used = (size_t)snprintf(out, len, "/proc/sys");
	for (int i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "/%s", p[i]);
	return used < len ? 0 : -ENAMETOOLONG;
}
