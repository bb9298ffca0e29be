/* vserver's named servers: create, destroy, info, set, snapshots. Start and
 * stop are in server-run.c, the monitor program in monitor.c. */
#include "internal.h"
#include "server-internal.h"
#include "server-vm.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

int srv_lock(const struct srv_ctx *c, const char *name, struct vs_err *err)
{
	char path[PATH_MAX];
	srv_path(c, name, "lock", path, sizeof(path));
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == ENOENT)
			return vs_failx(err, ENOENT, "server \"%s\" does not exist", name);
		return vs_fail(err, errno, "vserver: open %s", path);
	}
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return vs_fail(err, e, "vserver: lock %s", path);
		}
	return fd;
}

int srv_save(const struct srv_ctx *c, const struct conf_server *s, struct vs_err *err)
{
	char path[PATH_MAX];
	srv_path(c, s->name, "server.json", path, sizeof(path));
	_cleanup_free_ char *json = conf_server_json(s);
	int r = vs_write_file_atomic(path, json, strlen(json), 0600);
	return r < 0 ? vs_fail(err, -r, "vserver: write %s", path) : 0;
}

/* The image's defaults as conf wants them (pointers into img). */
static void image_defaults(const struct vs_image *img, struct conf_image_defaults *d)
{
	d->entrypoint = img->config.entrypoint;
	d->cmd = img->config.cmd;
	d->env = img->config.env;
	d->workdir = img->config.workdir;
	d->user = img->config.user;
}

int srv_write_config(const struct srv_ctx *c, const struct conf_server *s,
		     const struct vs_image *img, struct vs_err *err)
{
	char etc[PATH_MAX], path[PATH_MAX];
	struct conf_image_defaults d;
	image_defaults(img, &d);
	srv_path(c, s->name, "etc", etc, sizeof(etc));
	_cleanup_free_ char *json = conf_server_oci_config(s, &d, etc);
	/* what we generate must be what the runtime accepts */
	struct conf_config *cfg = NULL;
	int r = conf_parse(json, strlen(json), "config.json", &cfg, err);
	conf_free(cfg);
	if (r < 0)
		return r;
	srv_path(c, s->name, "config.json", path, sizeof(path));
	r = vs_write_file_atomic(path, json, strlen(json), 0600);
	return r < 0 ? vs_fail(err, -r, "vserver: write %s", path) : 0;
}

#define PROBE_PARENT "/vsrun-vserver-probe"

/* A create killed (kill -9) while probing leaves its probe cgroup behind:
 * removes those whose creator (the pid in their name) is gone. Read-only
 * here; cg_destroy does the removing. */
void srv_sweep_probes(void)
{
	enum cg_mode mode;
	if (cg_detect_mode(&mode, NULL) < 0)
		return;
	static const char *const ctrls[] = { "", "/pids", "/memory", "/cpu", "/blkio" };
	const char *root = getenv("VS_CGROUP_ROOT");
	if (!root || !*root)
		root = "/sys/fs/cgroup";
	for (size_t i = 0; i < VS_ARRAY_SIZE(ctrls); i++) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s%s" PROBE_PARENT, root, ctrls[i]);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *de;
		while ((de = readdir(d))) {
			char *end;
			long pid = strtol(de->d_name, &end, 10);
			/* a zombie counts as gone: a killed create's reaper may be late */
			if (*end || pid <= 0 || pid == getpid() || rt_pid_alive((pid_t)pid, 0))
				continue;
			struct vs_cgroup cg = { .mode = mode };
			snprintf(cg.path, sizeof(cg.path), PROBE_PARENT "/%ld", pid);
			cg_destroy(&cg, NULL);
		}
		closedir(d);
	}
}

/* Makes a throwaway cgroup with the limits and removes it: a limit the host
 * cannot give is refused at create, not at the first start. */
int srv_probe_limits(const struct conf_server *s, struct vs_err *err)
{
	struct conf_resources res;
	int r = conf_server_resources(s, &res, err);
	if (r < 0)
		return r;
	struct vs_cgroup cg;
	r = cg_detect_mode(&cg.mode, err);
	if (r >= 0)
		srv_sweep_probes();
	snprintf(cg.path, sizeof(cg.path), PROBE_PARENT "/%d", (int)getpid());
	if (r >= 0 && (r = cg_create(&cg, &res, err)) >= 0)
		cg_destroy(&cg, NULL);
	conf_resources_free(&res);
	return r < 0 ? vs_wrap(err, "server \"%s\": limits", s->name) : 0;
}

/* An --init server's systemd runs in unified mode, in the cgroup2
 * hierarchy the runtime places the server in (docs/vserver.md). A host
 * with v1 hierarchies only has none mounted: the server would sit at
 * cgroup2's root, the host's, which its systemd would then manage. (A VM's
 * init has the guest kernel's cgroups.) */
int srv_check_init_host(const struct conf_server *s, struct vs_err *err)
{
	if (!s->init || s->vm || cg_has_cgroup2())
		return 0;
	const char *root = getenv("VS_CGROUP_ROOT");
	if (!root || !*root)
		root = "/sys/fs/cgroup";
	return vs_failx(err, EOPNOTSUPP, "server \"%s\": --init needs cgroup2 (systemd runs in "
			"unified mode), and this host has v1 hierarchies only: no cgroup2 at "
			"%s/unified", s->name, root);
}

static int net_setup(const struct srv_ctx *c, const struct conf_server *s,
		     struct netns_info *info, struct vs_err *err)
{
	char netdir[PATH_MAX], etc[PATH_MAX];
	srv_net_dir(c, netdir, sizeof(netdir));
	srv_path(c, s->name, "etc", etc, sizeof(etc));
	int r = vs_mkdir_p(etc, 0755);
	if (r < 0)
		return vs_fail(err, -r, "vserver: mkdir %s", etc);
	memset(info, 0, sizeof(*info));
	if (s->net && !strcmp(s->net, "none"))
		return netns_write_files(etc, s->hostname ? s->hostname : s->name, NULL, NULL, err);
	const char *net = s->net ? s->net : NETNS_DEFAULT_NET;
	r = netns_net_up(netdir, net, err);
	if (r == -ENOENT && !strcmp(net, NETNS_DEFAULT_NET)) {
		/* the default network is made on first use */
		struct netns_net_opts o = { .state_dir = netdir, .name = net };
		r = netns_net_create(&o, err);
	}
	if (r < 0)
		return r;
	struct netns_server ns = { .state_dir = netdir, .net = net, .name = s->name,
				   .ip4 = s->ip, .netns_fd = -1 };
	r = netns_server_alloc(&ns, info, err);
	if (r < 0)
		return r;
	r = netns_write_files(etc, s->hostname ? s->hostname : s->name, info, NULL, err);
	if (r < 0)
		netns_server_release(netdir, net, s->name, NULL);
	return r;
}

int srv_create(struct srv_ctx *c, struct conf_server *s, struct vs_err *err)
{
	int r = srv_check_name(s->name, err);
	if (r < 0 || (r = srv_check_init_host(s, err)) < 0)
		return r;
	struct vs_store *store = NULL;
	struct vs_image *img = NULL;
	char dir[PATH_MAX], sdir[PATH_MAX];
	srv_store_dir(c, sdir, sizeof(sdir));
	r = vs_store_open(sdir, &store, err);
	if (r < 0)
		return r;
	if (!strcmp(s->image, VS_IMAGE_DEFAULT_NAME) || !strcmp(s->image, "default")) {
		free(s->image);
		s->image = vs_xstrdup(VS_IMAGE_DEFAULT_NAME);
		if (vs_image_get(store, s->image, &img, NULL) < 0) {
			r = vs_image_make_default(store, NULL, err);
			if (r < 0)
				goto out;
		}
	}
	if (!img && (r = vs_image_get(store, s->image, &img, err)) < 0)
		goto out;
	r = srv_probe_limits(s, err);
	if (r < 0)
		goto out;
	/* --- VM servers: the kernel or disk image is checked first --- */
	if ((r = srv_vm_check(s, err)) < 0)
		goto out;
	srv_path(c, s->name, NULL, dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0) {
		r = errno == EEXIST ? vs_failx(err, EEXIST, "server \"%s\" already exists", s->name)
				    : vs_fail(err, errno, "vserver: mkdir %s", dir);
		goto out;
	}
	/* from here on a failure removes the server again */
	char path[PATH_MAX];
	srv_path(c, s->name, "rootfs", path, sizeof(path));
	if (mkdir(path, 0755) < 0) {
		r = vs_fail(err, errno, "vserver: mkdir %s", path);
		goto out_rm;
	}
	r = vs_disk_create(dir, s->vm ? 0 : s->disk, err);  /* a VM's --disk sizes its disk */
	if (r < 0)
		goto out_rm;
	struct netns_info info;
	r = net_setup(c, s, &info, err);
	if (r < 0)
		goto out_disk;
	if (info.ip4[0] && !s->ip)
		s->ip = vs_xstrdup(info.ip4);
	if (!s->net)
		s->net = vs_xstrdup(NETNS_DEFAULT_NET);
	if (!s->created) {
		char now[64];
		rt_now_rfc3339(now, sizeof(now));
		s->created = vs_xstrdup(now);
	}
	r = srv_write_config(c, s, img, err);
	if (r >= 0 && s->vm)  /* --- VM servers: the rootfs becomes the guest's disk --- */
		r = srv_vm_create_disk(c, s, store, img, err);
	if (r >= 0)
		r = srv_save(c, s, err);
	if (r >= 0)
		goto out;
	if (strcmp(s->net, "none")) {
		char netdir[PATH_MAX];
		srv_net_dir(c, netdir, sizeof(netdir));
		netns_server_release(netdir, s->net, s->name, NULL);
	}
out_disk:
	vs_disk_destroy(dir, NULL);
out_rm:
	vs_rm_rf(dir);
out:
	vs_image_free(img);
	vs_store_close(store);
	return r;
}

/* How many live processes (zombies do not count) are in process group
 * pgid, from /proc/PID/stat ("PID (COMM) STATE PPID PGRP ..."). */
static int group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char path[64], buf[512];
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[k > 0 ? k : 0] = '\0';
		char *p = strrchr(buf, ')'), state;
		int ppid, pgrp;
		if (p && sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
		    state != 'Z' && state != 'X')
			n++;
	}
	closedir(d);
	return n;
}

/* destroy --force: the monitor and everything that kept its process group
 * (the start or stop helper it waits for and their children: hooks, the
 * console relay, QEMU, an init that did not make a session of its own) are
 * killed before anything is removed, and we wait until none of them runs.
 * A start helper holds no lock of the server's: one that hangs (a hook, a
 * slow mount) would otherwise go on making the container, its cgroup and
 * its mounts in a server we are removing. The group is the session
 * `vserver start` made for the monitor (setsid), named by it while it runs
 * (its start time checked): never ours, never pid 1's. */
static void kill_monitor_group(struct srv_ctx *c, const char *name)
{
	struct srv_status st;
	srv_status_read(c, name, &st);
	if (!srv_monitor_alive(&st))
		return;
	pid_t pgid = getpgid(st.monitor);
	if (pgid <= 1 || pgid != getsid(st.monitor) || pgid == getpgrp() ||
	    !rt_pid_alive(st.monitor, st.monitor_start))
		return;
	kill(-pgid, SIGKILL);
	/* bounded: a process in uninterruptible sleep dies when it wakes */
	uint64_t end = vs_now_ns() + 10000000000ULL;
	while (group_alive(pgid) > 0 && vs_now_ns() < end) {
		struct timespec ts = { 0, 20000000 };
		nanosleep(&ts, NULL);
	}
}

int srv_destroy(struct srv_ctx *c, const char *name, bool force, struct vs_err *err)
{
	int r = srv_check_name(name, err);
	if (r < 0)
		return r;
	char dir[PATH_MAX];
	srv_path(c, name, NULL, dir, sizeof(dir));
	if (force)
		srv_sweep_probes(); /* a create killed before it made the server dir */
	struct stat st;
	if (stat(dir, &st) < 0)
		return vs_failx(err, ENOENT, "server \"%s\" does not exist", name);
	struct conf_server *s = NULL;
	srv_load(c, name, &s, NULL); /* may be missing after a crash: clean by name */
	if (force)
		kill_monitor_group(c, name);
	r = srv_stop(c, name, force ? 0 : 10, err);
	if (r < 0 && r != -ENOENT && r != -ESRCH && !force) {
		conf_server_free(s);
		return r;
	}
	struct vs_err ign = { 0 };
	rt_delete(&c->rt, name, true, &ign);
	if (s && s->vm) {  /* --- VM servers: cgroup, sockets, tap --- */
		if (!s->net)
			s->net = vs_xstrdup(NETNS_DEFAULT_NET);
		srv_vm_teardown(c, s);
	}
	char netdir[PATH_MAX];
	srv_net_dir(c, netdir, sizeof(netdir));
	const char *net = s && s->net ? s->net : NETNS_DEFAULT_NET;
	if (strcmp(net, "none"))
		netns_server_release(netdir, net, name, &ign);
	char rootfs[PATH_MAX];
	srv_path(c, name, "rootfs", rootfs, sizeof(rootfs));
	r = vs_disk_umount(dir, rootfs, err);
	if (r >= 0)
		r = vs_disk_destroy(dir, err);
	if (r >= 0 && (r = vs_rm_rf(dir)) < 0)
		vs_fail(err, -r, "vserver: remove %s", dir);
	if (r >= 0) {  /* what a killed monitor leaves in the run dir */
		char path[PATH_MAX];
		srv_stop_flag(c, name, false);
		srv_console_path(c, name, path, sizeof(path));
		unlink(path);
	}
	conf_server_free(s);
	return r < 0 ? vs_wrap(err, "destroy \"%s\"", name) : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int srv_names(struct srv_ctx *c, char ***names, struct vs_err *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/servers", c->lib);
	*names = vs_xcalloc(1, sizeof(char *));
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : vs_fail(err, errno, "vserver: open %s", dir);
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			vs_strv_push(names, de->d_name);
	closedir(d);
	qsort(*names, vs_strv_len(*names), sizeof(char *), cmp_str);
	return 0;
}
