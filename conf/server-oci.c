/* The OCI config.json of a vserver server, generated from its record and its
 * image's defaults. Pure. */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#define GS(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

/* A VPS runs services that need more than runc's three: the set the
 * container engines grant by default. */
static const char *const server_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL
};

static const char *const masked[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap", NULL
};

static const char *const readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL
};

static void strv(yajl_gen g, const char *key, const char *const *v)
{
	GS(g, key);
	yajl_gen_array_open(g);
	for (size_t i = 0; v && v[i]; i++)
		GS(g, v[i]);
	yajl_gen_array_close(g);
}

static void mount(yajl_gen g, const char *dst, const char *type, const char *src,
		  const char *const *opts)
{
	yajl_gen_map_open(g);
	GS(g, "destination");
	GS(g, dst);
	GS(g, "type");
	GS(g, type);
	GS(g, "source");
	GS(g, src);
	strv(g, "options", opts);
	yajl_gen_map_close(g);
}

static void device_rule(yajl_gen g, bool allow, const char *type, long major, long minor,
			const char *access)
{
	yajl_gen_map_open(g);
	GS(g, "allow");
	yajl_gen_bool(g, allow);
	if (type) {
		GS(g, "type");
		GS(g, type);
	}
	if (major >= 0) {
		GS(g, "major");
		yajl_gen_integer(g, major);
	}
	if (minor >= 0) {
		GS(g, "minor");
		yajl_gen_integer(g, minor);
	}
	GS(g, "access");
	GS(g, access);
	yajl_gen_map_close(g);
}

static void throttle(yajl_gen g, const char *key, const struct conf_blkio_dev *d, size_t n)
{
	if (!n)
		return;
	GS(g, key);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		GS(g, "major");
		yajl_gen_integer(g, d[i].major);
		GS(g, "minor");
		yajl_gen_integer(g, d[i].minor);
		GS(g, "rate");
		yajl_gen_integer(g, (long long)d[i].rate);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void resources(yajl_gen g, const struct conf_resources *r)
{
	GS(g, "resources");
	yajl_gen_map_open(g);
	GS(g, "devices");
	yajl_gen_array_open(g);
	device_rule(g, false, NULL, -1, -1, "rwm");
	device_rule(g, true, "c", -1, -1, "m");
	device_rule(g, true, "b", -1, -1, "m");
	static const long devs[][2] = { { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 },
					{ 5, 0 }, { 5, 1 }, { 5, 2 }, { 136, -1 } };
	for (size_t i = 0; i < VS_ARRAY_SIZE(devs); i++)
		device_rule(g, true, "c", devs[i][0], devs[i][1], "rwm");
	yajl_gen_array_close(g);
	if (r->memory.limit.set) {
		GS(g, "memory");
		yajl_gen_map_open(g);
		GS(g, "limit");
		yajl_gen_integer(g, r->memory.limit.v);
		if (r->memory.swap.set) {
			GS(g, "swap");
			yajl_gen_integer(g, r->memory.swap.v);
		}
		yajl_gen_map_close(g);
	}
	if (r->cpu.quota.set) {
		GS(g, "cpu");
		yajl_gen_map_open(g);
		GS(g, "quota");
		yajl_gen_integer(g, r->cpu.quota.v);
		GS(g, "period");
		yajl_gen_integer(g, (long long)r->cpu.period.v);
		yajl_gen_map_close(g);
	}
	if (r->pids.limit.set) {
		GS(g, "pids");
		yajl_gen_map_open(g);
		GS(g, "limit");
		yajl_gen_integer(g, r->pids.limit.v);
		yajl_gen_map_close(g);
	}
	const typeof(r->block_io) *b = &r->block_io;
	if (b->weight.set || b->n_throttle_read_bps || b->n_throttle_write_bps ||
	    b->n_throttle_read_iops || b->n_throttle_write_iops) {
		GS(g, "blockIO");
		yajl_gen_map_open(g);
		if (b->weight.set) {
			GS(g, "weight");
			yajl_gen_integer(g, (long long)b->weight.v);
		}
		throttle(g, "throttleReadBpsDevice", b->throttle_read_bps, b->n_throttle_read_bps);
		throttle(g, "throttleWriteBpsDevice", b->throttle_write_bps, b->n_throttle_write_bps);
		throttle(g, "throttleReadIOPSDevice", b->throttle_read_iops, b->n_throttle_read_iops);
		throttle(g, "throttleWriteIOPSDevice", b->throttle_write_iops, b->n_throttle_write_iops);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

static void process(yajl_gen g, const struct conf_server *s, const struct conf_image_defaults *img)
{
	GS(g, "process");
	yajl_gen_map_open(g);
	/* a full system's init gets a pty as /dev/console for its boot and
	 * shutdown messages (the start helper relays it into console.log) */
	GS(g, "terminal");
	yajl_gen_bool(g, s->init);
	GS(g, "user");
	yajl_gen_map_open(g);
	unsigned uid = 0, gid = 0;
	if (img && img->user)
		sscanf(img->user, "%u:%u", &uid, &gid);
	GS(g, "uid");
	yajl_gen_integer(g, uid);
	GS(g, "gid");
	yajl_gen_integer(g, gid);
	yajl_gen_map_close(g);
	GS(g, "args");
	yajl_gen_array_open(g);
	if (s->init) {
		GS(g, "/sbin/init");
	} else if (s->cmd && s->cmd[0]) {
		for (size_t i = 0; s->cmd[i]; i++)
			GS(g, s->cmd[i]);
	} else if (img && ((img->entrypoint && img->entrypoint[0]) || (img->cmd && img->cmd[0]))) {
		for (size_t i = 0; img->entrypoint && img->entrypoint[i]; i++)
			GS(g, img->entrypoint[i]);
		for (size_t i = 0; img->cmd && img->cmd[i]; i++)
			GS(g, img->cmd[i]);
	} else {
		GS(g, "/bin/sh");
	}
	yajl_gen_array_close(g);
	GS(g, "env");
	yajl_gen_array_open(g);
	bool has_path = false;
	for (size_t i = 0; img && img->env && img->env[i]; i++) {
		has_path = has_path || !strncmp(img->env[i], "PATH=", 5);
		GS(g, img->env[i]);
	}
	if (!has_path)
		GS(g, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	for (size_t i = 0; s->env && s->env[i]; i++)
		GS(g, s->env[i]);
	char host[300];
	snprintf(host, sizeof(host), "HOSTNAME=%s", s->hostname ? s->hostname : s->name);
	GS(g, host);
	if (s->init)
		GS(g, "container=vserver");
	yajl_gen_array_close(g);
	GS(g, "cwd");
	GS(g, img && img->workdir && img->workdir[0] == '/' ? img->workdir : "/");
	GS(g, "capabilities");
	yajl_gen_map_open(g);
	strv(g, "bounding", server_caps);
	strv(g, "effective", server_caps);
	strv(g, "permitted", server_caps);
	yajl_gen_map_close(g);
	GS(g, "rlimits");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	GS(g, "type");
	GS(g, "RLIMIT_NOFILE");
	GS(g, "hard");
	yajl_gen_integer(g, 4096);
	GS(g, "soft");
	yajl_gen_integer(g, 1024);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	GS(g, "noNewPrivileges");
	yajl_gen_bool(g, 0);
	yajl_gen_map_close(g);
}

static void mounts(yajl_gen g, const struct conf_server *s, const char *etc_dir)
{
	GS(g, "mounts");
	yajl_gen_array_open(g);
	mount(g, "/proc", "proc", "proc", (const char *[]){ "nosuid", "noexec", "nodev", NULL });
	mount(g, "/dev", "tmpfs", "tmpfs",
	      (const char *[]){ "nosuid", "strictatime", "mode=755", "size=65536k", NULL });
	mount(g, "/dev/pts", "devpts", "devpts",
	      (const char *[]){ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
				"gid=5", NULL });
	mount(g, "/dev/shm", "tmpfs", "shm",
	      (const char *[]){ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL });
	mount(g, "/dev/mqueue", "mqueue", "mqueue",
	      (const char *[]){ "nosuid", "noexec", "nodev", NULL });
	mount(g, "/sys", "sysfs", "sysfs",
	      (const char *[]){ "nosuid", "noexec", "nodev", "ro", NULL });
	if (s->init) {
		/* A full system's init (systemd) manages cgroups of its own: it
		 * gets the cgroup2 hierarchy, writable, rooted at the server's
		 * cgroup by the cgroup namespace. On a v1/v2 hybrid host that
		 * is the controller-less "unified" part, so systemd runs in
		 * unified mode and tracks its services there, while the
		 * server's limits stay on the v1 hierarchies it cannot see.
		 * Hybrid mode would need the host's name=systemd hierarchy,
		 * which is not the server's to write. */
		mount(g, "/sys/fs/cgroup", "cgroup2", "cgroup",
		      (const char *[]){ "nosuid", "noexec", "nodev", "relatime", NULL });
		/* systemd mounts these itself when missing, which needs
		 * CAP_SYS_ADMIN; /run/lock failing is fatal to it */
		mount(g, "/run", "tmpfs", "tmpfs",
		      (const char *[]){ "nosuid", "nodev", "mode=755", "size=65536k", NULL });
		mount(g, "/run/lock", "tmpfs", "tmpfs",
		      (const char *[]){ "nosuid", "nodev", "noexec", "mode=1777", "size=5120k", NULL });
		mount(g, "/tmp", "tmpfs", "tmpfs", (const char *[]){ "nosuid", "nodev", "mode=1777", NULL });
	} else {
		mount(g, "/sys/fs/cgroup", "cgroup", "cgroup",
		      (const char *[]){ "nosuid", "noexec", "nodev", "relatime", "ro", NULL });
	}
	if (etc_dir) {
		static const char *const files[] = { "resolv.conf", "hosts", "hostname" };
		for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++) {
			char src[4096], dst[64];
			snprintf(src, sizeof(src), "%s/%s", etc_dir, files[i]);
			snprintf(dst, sizeof(dst), "/etc/%s", files[i]);
			mount(g, dst, "bind", src, (const char *[]){ "rbind", "rprivate", NULL });
		}
	}
	yajl_gen_array_close(g);
}

char *conf_server_oci_config(const struct conf_server *s, const struct conf_image_defaults *img,
			     const char *etc_dir)
{
	struct conf_resources res;
	struct vs_err ign;
	if (conf_server_resources(s, &res, &ign) < 0)
		memset(&res, 0, sizeof(res));
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "\t");
	yajl_gen_map_open(g);
	GS(g, "ociVersion");
	GS(g, "1.2.0");
	process(g, s, img);
	GS(g, "root");
	yajl_gen_map_open(g);
	GS(g, "path");
	GS(g, "rootfs");
	GS(g, "readonly");
	yajl_gen_bool(g, 0);
	yajl_gen_map_close(g);
	GS(g, "hostname");
	GS(g, s->hostname ? s->hostname : s->name);
	mounts(g, s, etc_dir);
	GS(g, "annotations");
	yajl_gen_map_open(g);
	GS(g, "org.vserver.name");
	GS(g, s->name);
	if (s->init) {
		/* the limits on /vsrun-vserver/NAME, the guest (and its cgroup
		 * namespace, so its writable cgroup2 root) one level below: its
		 * root can write its own memory.max on a host without nsdelegate,
		 * but that bounds only the inner cgroup, within the outer one */
		GS(g, CONF_ANN_DELEGATE_CGROUP);
		GS(g, "guest");
	}
	yajl_gen_map_close(g);
	GS(g, "linux");
	yajl_gen_map_open(g);
	GS(g, "namespaces");
	yajl_gen_array_open(g);
	static const char *const ns[] = { "pid", "network", "ipc", "uts", "mount", "cgroup" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(ns); i++) {
		yajl_gen_map_open(g);
		GS(g, "type");
		GS(g, ns[i]);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	char cg[300];
	snprintf(cg, sizeof(cg), "/vsrun-vserver/%s", s->name);
	GS(g, "cgroupsPath");
	GS(g, cg);
	resources(g, &res);
	strv(g, "maskedPaths", masked);
	strv(g, "readonlyPaths", readonly);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	conf_resources_free(&res);
	return conf_gen_take(g, true);
}
