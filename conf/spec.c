/* conf/spec.c: the example config printed by `vsrun spec`, the same one
 * `runc spec` (1.2) prints, with our hostname. The rootless variant makes the
 * changes runc's --rootless makes: a user namespace mapping the caller to
 * root, no network namespace, /sys bind-mounted from the host, no uid=/gid=
 * mount options, and no cgroup resources. */
#include <string.h>

#include <yajl/yajl_gen.h>

#include "internal.h"

static const char *const default_caps[] = {
	"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL,
};

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TERM=xterm", NULL,
};

static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
	"/proc/scsi", "/sys/devices/virtual/powercap", NULL,
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

struct spec_mount {
	const char *dest, *type, *source;
	const char *options[8];
};

static const struct spec_mount spec_mounts[] = {
	{ "/proc", "proc", "proc", { NULL } },
	{ "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k" } },
	{ "/dev/pts", "devpts", "devpts",
	  { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" } },
	{ "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" } },
	{ "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev" } },
	{ "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro" } },
	{ "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro" } },
};

/* what rootless uses instead of a new sysfs, which needs a netns it owns */
static const struct spec_mount rootless_sys = {
	"/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro" },
};

static void g_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void g_kstr(yajl_gen g, const char *k, const char *v)
{
	g_str(g, k);
	g_str(g, v);
}

static void g_kint(yajl_gen g, const char *k, long long v)
{
	g_str(g, k);
	yajl_gen_integer(g, v);
}

static void g_kbool(yajl_gen g, const char *k, bool v)
{
	g_str(g, k);
	yajl_gen_bool(g, v);
}

static void g_kstrv(yajl_gen g, const char *k, const char *const *v)
{
	g_str(g, k);
	yajl_gen_array_open(g);
	for (; *v; v++)
		g_str(g, *v);
	yajl_gen_array_close(g);
}

static void gen_process(yajl_gen g)
{
	static const char *const args[] = { "sh", NULL };
	g_str(g, "process");
	yajl_gen_map_open(g);
	g_kbool(g, "terminal", true);
	g_str(g, "user");
	yajl_gen_map_open(g);
	g_kint(g, "uid", 0);
	g_kint(g, "gid", 0);
	yajl_gen_map_close(g);
	g_kstrv(g, "args", args);
	g_kstrv(g, "env", default_env);
	g_kstr(g, "cwd", "/");
	g_str(g, "capabilities");
	yajl_gen_map_open(g);
	g_kstrv(g, "bounding", default_caps);
	g_kstrv(g, "effective", default_caps);
	g_kstrv(g, "permitted", default_caps);
	yajl_gen_map_close(g);
	g_str(g, "rlimits");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	g_kstr(g, "type", "RLIMIT_NOFILE");
	g_kint(g, "hard", 1024);
	g_kint(g, "soft", 1024);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	g_kbool(g, "noNewPrivileges", true);
	yajl_gen_map_close(g);
}

static void gen_mount(yajl_gen g, const struct spec_mount *m, bool rootless)
{
	yajl_gen_map_open(g);
	g_kstr(g, "destination", m->dest);
	g_kstr(g, "type", m->type);
	g_kstr(g, "source", m->source);
	if (m->options[0]) {
		g_str(g, "options");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < VS_ARRAY_SIZE(m->options) && m->options[i]; i++) {
			const char *o = m->options[i];
			/* a rootless user cannot map gid 5 (tty) into the container */
			if (rootless && (!strncmp(o, "uid=", 4) || !strncmp(o, "gid=", 4)))
				continue;
			g_str(g, o);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}

static void gen_idmap(yajl_gen g, const char *key, uint32_t host_id)
{
	g_str(g, key);
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	g_kint(g, "containerID", 0);
	g_kint(g, "hostID", host_id);
	g_kint(g, "size", 1);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
}

static void gen_linux(yajl_gen g, bool rootless, uint32_t uid, uint32_t gid)
{
	static const char *const ns[] = { "pid", "network", "ipc", "uts", "mount", "cgroup" };
	g_str(g, "linux");
	yajl_gen_map_open(g);
	if (rootless) {
		gen_idmap(g, "uidMappings", uid);
		gen_idmap(g, "gidMappings", gid);
	} else {
		g_str(g, "resources");
		yajl_gen_map_open(g);
		g_str(g, "devices");
		yajl_gen_array_open(g);
		yajl_gen_map_open(g);
		g_kbool(g, "allow", false);
		g_kstr(g, "access", "rwm");
		yajl_gen_map_close(g);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	g_str(g, "namespaces");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < VS_ARRAY_SIZE(ns); i++) {
		if (rootless && !strcmp(ns[i], "network"))
			continue;
		yajl_gen_map_open(g);
		g_kstr(g, "type", ns[i]);
		yajl_gen_map_close(g);
	}
	if (rootless) {
		yajl_gen_map_open(g);
		g_kstr(g, "type", "user");
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	g_kstrv(g, "maskedPaths", masked_paths);
	g_kstrv(g, "readonlyPaths", readonly_paths);
	yajl_gen_map_close(g);
}

char *conf_default_spec_ids(bool rootless, uint32_t uid, uint32_t gid)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		abort();
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "\t");

	yajl_gen_map_open(g);
	g_kstr(g, "ociVersion", "1.2.0");
	gen_process(g);
	g_str(g, "root");
	yajl_gen_map_open(g);
	g_kstr(g, "path", "rootfs");
	g_kbool(g, "readonly", true);
	yajl_gen_map_close(g);
	g_kstr(g, "hostname", "vserver");
	g_str(g, "mounts");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < VS_ARRAY_SIZE(spec_mounts); i++) {
		const struct spec_mount *m = &spec_mounts[i];
		if (rootless && !strcmp(m->dest, "/sys"))
			m = &rootless_sys;
		gen_mount(g, m, rootless);
	}
	yajl_gen_array_close(g);
	gen_linux(g, rootless, uid, gid);
	yajl_gen_map_close(g);

	const unsigned char *buf;
	size_t len;
	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
		abort();   /* only a bug in the calls above gets here */
	char *out = vs_xmalloc(len + 2);
	memcpy(out, buf, len);
	/* end the text with a newline, as a file should */
	if (len == 0 || out[len - 1] != '\n')
		out[len++] = '\n';
	out[len] = '\0';
	yajl_gen_free(g);
	return out;
}

char *conf_default_spec(bool rootless)
{
	return conf_default_spec_ids(rootless, (uint32_t)geteuid(), (uint32_t)getegid());
}
