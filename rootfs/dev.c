/* rootfs: /dev.
 *
 * When the config mounts its own /dev (a tmpfs, as every runtime's default
 * spec does) it is empty, and we fill it: the six devices every program
 * expects, the config's devices, the usual symlinks and /dev/ptmx pointing
 * at the devpts instance. When /dev is a bind from the host, it already has
 * everything and we create nothing in it. When /dev is not mounted at all,
 * only the config's devices are made, in the image's /dev.
 *
 * In a user namespace mknod() is refused, and a device node on a filesystem
 * mounted there would not open anyway (SB_I_NODEV), so each device becomes a
 * bind mount of the host's node onto an empty file, as runc does. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct dev_spec {
	const char *path;
	char type;
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

static const struct dev_spec default_devices[] = {
	{ "/dev/null", 'c', 1, 3, 0666, 0, 0 },
	{ "/dev/zero", 'c', 1, 5, 0666, 0, 0 },
	{ "/dev/full", 'c', 1, 7, 0666, 0, 0 },
	{ "/dev/random", 'c', 1, 8, 0666, 0, 0 },
	{ "/dev/urandom", 'c', 1, 9, 0666, 0, 0 },
	{ "/dev/tty", 'c', 5, 0, 0666, 0, 0 },
};

static bool is_dev(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	return n == 4 && !strncmp(p, "/dev", 4);
}

static bool node_matches(const char *path, const struct dev_spec *d)
{
	struct stat st;
	mode_t type = d->type == 'b' ? S_IFBLK : S_IFCHR;
	return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == type &&
	       st.st_rdev == makedev(d->major, d->minor);
}

/* The host's node for d: at the same path, at /dev/{char,block}/M:m, or
 * anywhere directly in /dev. Never a node of another number. */
static int host_node(const struct dev_spec *d, char *out, size_t len)
{
	snprintf(out, len, "%s", d->path);
	if (node_matches(out, d))
		return 0;
	snprintf(out, len, "/dev/%s/%u:%u", d->type == 'b' ? "block" : "char", d->major,
		 d->minor);
	if (node_matches(out, d))
		return 0;
	DIR *dir = opendir("/dev");
	if (!dir)
		return -ENOENT;
	struct dirent *de;
	int r = -ENOENT;
	while (r < 0 && (de = readdir(dir))) {
		if (de->d_type != DT_CHR && de->d_type != DT_BLK)
			continue;
		snprintf(out, len, "/dev/%s", de->d_name);
		if (node_matches(out, d))
			r = 0;
	}
	closedir(dir);
	return r;
}

static int bind_device(struct rfs_ctx *c, const struct dev_spec *d, struct vs_err *err)
{
	char src[PATH_MAX];
	if (host_node(d, src, sizeof(src)) < 0)
		return vs_failx(err, ENOENT, "rootfs: device %s: no %c %u:%u node on the host to bind",
				d->path, d->type, d->major, d->minor);
	_cleanup_close_ int target = rootfs_open_in_root(c->root_fd, d->path, true, true, err);
	if (target < 0)
		return vs_wrap(err, "rootfs: device %s", d->path);
	int r = rfs_bind_fd(AT_FDCWD, src, target, false, 0);
	if (r < 0)
		return vs_fail(err, -r, "rootfs: bind device %s from the host's %s", d->path, src);
	return 0;
}

static int make_device(struct rfs_ctx *c, const struct dev_spec *d, struct vs_err *err)
{
	if (c->userns && d->type != 'p')  /* a fifo needs no privilege */
		return bind_device(c, d, err);
	const char *name;
	_cleanup_close_ int dir = rfs_open_parent(c->root_fd, d->path, true, &name, err);
	if (dir < 0)
		return vs_wrap(err, "rootfs: device %s", d->path);
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	dev_t dev = d->type == 'p' ? 0 : makedev(d->major, d->minor);
	mode_t old = umask(0);
	int r = mknodat(dir, name, type | (d->mode & 07777), dev);
	int e = errno;
	umask(old);
	if (r < 0 && e == EEXIST)
		return 0; /* the image's node stays as it is, never chmod'ed through a link */
	if (r < 0 && e == EPERM && d->type != 'p')
		return bind_device(c, d, err);
	if (r < 0)
		return vs_fail(err, e, "rootfs: mknod %s", d->path);
	if (fchownat(dir, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return vs_fail(err, errno, "rootfs: chown %s", d->path);
	return 0;
}

static int make_links(struct rfs_ctx *c, bool with_proc, struct vs_err *err)
{
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" },
		{ "core", "/proc/kcore" },
	};
	_cleanup_close_ int dev = rootfs_open_in_root(c->root_fd, "/dev", false, false, err);
	if (dev < 0)
		return dev;
	for (size_t i = 0; i < VS_ARRAY_SIZE(links); i++) {
		/* the kernel may lack /proc/kcore; no dangling /dev/core then */
		if (!strcmp(links[i][0], "core") && (!with_proc || access("/proc/kcore", F_OK) < 0))
			continue;
		if (symlinkat(links[i][1], dev, links[i][0]) < 0 && errno != EEXIST)
			return vs_fail(err, errno, "rootfs: symlink /dev/%s", links[i][0]);
	}
	/* /dev/ptmx must be the devpts instance's, not a node of the host's */
	if (unlinkat(dev, "ptmx", 0) < 0 && errno != ENOENT)
		return vs_fail(err, errno, "rootfs: remove /dev/ptmx");
	if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
		return vs_fail(err, errno, "rootfs: symlink /dev/ptmx");
	return 0;
}

static int bind_console(struct rfs_ctx *c, const char *console_path, struct vs_err *err)
{
	_cleanup_close_ int target = rootfs_open_in_root(c->root_fd, "/dev/console", true, true,
							 err);
	if (target < 0)
		return vs_wrap(err, "rootfs: console");
	int r = rfs_bind_fd(AT_FDCWD, console_path, target, false, 0);
	if (r < 0)
		return vs_fail(err, -r, "rootfs: bind %s on /dev/console", console_path);
	return 0;
}

int rfs_setup_dev(struct rfs_ctx *c, const char *console_path, struct vs_err *err)
{
	const struct conf_config *cfg = c->cfg;
	bool dev_mounted = false, dev_bound = false, proc = false;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct conf_mount *m = &cfg->mounts[i];
		if (is_dev(m->destination)) {
			dev_mounted = true;
			dev_bound = (m->flags & MS_BIND) || !m->type || !strcmp(m->type, "bind") ||
				    !strcmp(m->type, "rbind");
		}
		if (m->type && !strcmp(m->type, "proc") && !strcmp(m->destination, "/proc"))
			proc = true;
	}
	int r;
	if (dev_mounted && !dev_bound) {
		for (size_t i = 0; i < VS_ARRAY_SIZE(default_devices); i++) {
			r = make_device(c, &default_devices[i], err);
			if (r < 0)
				return r;
		}
	}
	if (!dev_bound) {
		for (size_t i = 0; i < cfg->linux_.n_devices; i++) {
			const struct conf_device *d = &cfg->linux_.devices[i];
			if (!d->path || d->path[0] != '/')
				return vs_failx(err, EINVAL,
						"rootfs: linux.devices[%zu]: path must be absolute", i);
			struct dev_spec s = {
				.path = d->path, .type = d->type,
				.major = (unsigned)d->major, .minor = (unsigned)d->minor,
				.mode = d->file_mode.set ? (mode_t)d->file_mode.v : 0666,
				.uid = d->uid.set ? (uid_t)d->uid.v : 0,
				.gid = d->gid.set ? (gid_t)d->gid.v : 0,
			};
			r = make_device(c, &s, err);
			if (r < 0)
				return r;
		}
	}
	if (dev_mounted && !dev_bound) {
		r = make_links(c, proc, err);
		if (r < 0)
			return r;
	}
	if (console_path) {
		r = bind_console(c, console_path, err);
		if (r < 0)
			return r;
	}
	return 0;
}
