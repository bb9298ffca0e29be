/* cgroups: the host's layout, paths, create/destroy, enter, pids, kill. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

#define CG_DEFAULT_PARENT "/vsrun"

static const char *const v1_names[CG1__MAX] = {
	[CG1_CPU] = "cpu", [CG1_CPUACCT] = "cpuacct", [CG1_CPUSET] = "cpuset",
	[CG1_MEMORY] = "memory", [CG1_DEVICES] = "devices", [CG1_FREEZER] = "freezer",
	[CG1_BLKIO] = "blkio", [CG1_PIDS] = "pids", [CG1_HUGETLB] = "hugetlb",
	[CG1_NET_CLS] = "net_cls", [CG1_NET_PRIO] = "net_prio", [CG1_RDMA] = "rdma",
};

/* The controllers we make a v1 cgroup in even when res does not ask for them
 * (stats, freeze, kill, pids). The others only when asked. */
#define CG1_ALWAYS ((1u << CG1_CPU) | (1u << CG1_CPUACCT) | (1u << CG1_CPUSET) | \
		    (1u << CG1_MEMORY) | (1u << CG1_DEVICES) | (1u << CG1_FREEZER) | \
		    (1u << CG1_BLKIO) | (1u << CG1_PIDS))

const char *cg_v1_name(enum cg_v1_ctl c)
{
	return c < CG1__MAX ? v1_names[c] : "?";
}

const char *cg_mount_root(void)
{
	const char *r = getenv("VS_CGROUP_ROOT");
	return r && *r ? r : "/sys/fs/cgroup";
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cg_detect_mode(enum cg_mode *mode, struct vs_err *err)
{
	const char *root = cg_mount_root();
	struct statfs sfs;
	if (statfs(root, &sfs) < 0)
		return vs_fail(err, errno, "cgroup: statfs %s", root);
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		*mode = CG_MODE_V2;
		return 0;
	}
	/* legacy or hybrid: a tmpfs with one mount per v1 hierarchy */
	for (int c = 0; c < CG1__MAX; c++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", root, v1_names[c]);
		if (statfs(p, &sfs) == 0 && sfs.f_type == CGROUP_SUPER_MAGIC) {
			*mode = CG_MODE_V1;
			return 0;
		}
	}
	return vs_failx(err, ENOENT, "cgroup: no cgroup filesystem found under %s", root);
}

bool cg_has_cgroup2(void)
{
	enum cg_mode mode;
	if (cg_detect_mode(&mode, NULL) < 0)
		return false;
	if (mode == CG_MODE_V2)
		return true;
	char u[PATH_MAX];
	struct statfs sfs;
	snprintf(u, sizeof(u), "%s/unified", cg_mount_root());
	return statfs(u, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* ---- paths ---- */

int cg_resolve(const char *cgroups_path, const char *id, struct vs_cgroup *cg,
	       struct vs_err *err)
{
	char raw[PATH_MAX];
	int n;
	if (!cgroups_path || !*cgroups_path) {
		if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
			return vs_failx(err, EINVAL, "cgroup: invalid container id \"%s\"",
					id ? id : "");
		n = snprintf(raw, sizeof(raw), CG_DEFAULT_PARENT "/%s", id);
	} else if (cgroups_path[0] == '/') {
		n = snprintf(raw, sizeof(raw), "%s", cgroups_path);
	} else {
		n = snprintf(raw, sizeof(raw), CG_DEFAULT_PARENT "/%s", cgroups_path);
	}
	if (n < 0 || (size_t)n >= sizeof(raw) - 64)
		return vs_failx(err, ENAMETOOLONG, "cgroup: cgroupsPath too long");

	/* normalise: drop empty and "." components, refuse ".." */
	char out[PATH_MAX] = "";
	size_t len = 0;
	char *save = NULL;
	for (char *c = strtok_r(raw, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, ".."))
			return vs_failx(err, EINVAL, "cgroup: cgroupsPath \"%s\": \"..\" is not allowed",
					cgroups_path);
		len += (size_t)snprintf(out + len, sizeof(out) - len, "/%s", c);
	}
	if (len == 0)
		return vs_failx(err, EINVAL, "cgroup: cgroupsPath \"%s\": the root cgroup cannot be used",
				cgroups_path ? cgroups_path : "");
	enum cg_mode mode;
	int r = cg_detect_mode(&mode, err);
	if (r < 0)
		return r;
	cg->mode = mode;
	memcpy(cg->path, out, len + 1);
	return 0;
}

/* ---- the host's hierarchies ---- */

/* The v1 layout (which hierarchies are mounted, which controllers share
 * one) takes two syscalls per controller to learn, and a create, start and
 * delete ask a dozen times: it is kept for a second per process (a
 * long-lived monitor sees a hierarchy mounted later soon enough). */
static struct {
	char root[PATH_MAX];
	struct timespec at;
	struct cg_dirs dirs;   /* paths empty */
	unsigned mounted;
} v1_cache;

static bool v1_cache_get(const char *root, const struct vs_cgroup *cg, struct cg_dirs *dirs,
			 unsigned *mounted)
{
	struct timespec now;
	if (!v1_cache.at.tv_sec || strcmp(v1_cache.root, root) ||
	    clock_gettime(CLOCK_MONOTONIC, &now) < 0 || now.tv_sec - v1_cache.at.tv_sec > 1)
		return false;
	/* the entries in use, field by field: the whole struct is 100 KiB
	 * (two PATH_MAX strings per hierarchy), copied a dozen times a run */
	dirs->n = v1_cache.dirs.n;
	for (int i = 0; i < dirs->n; i++) {
		const struct cg_dir *c = &v1_cache.dirs.d[i];
		struct cg_dir *d = &dirs->d[i];
		/* through a local buffer: gcc cannot tell dirs from v1_cache */
		char path[sizeof(d->path)];
		size_t n = (size_t)snprintf(path, sizeof(path), "%s", c->root);
		memcpy(d->root, path, n + 1);
		n = (size_t)snprintf(path, sizeof(path), "%s%s", c->root, cg->path);
		memcpy(d->path, path, n + 1);
		d->ctls = c->ctls;
		d->unified = c->unified;
	}
	if (mounted)
		*mounted = v1_cache.mounted;
	return true;
}

static void v1_cache_put(const char *root, const struct cg_dirs *dirs, unsigned mounted)
{
	if (clock_gettime(CLOCK_MONOTONIC, &v1_cache.at) < 0 || strlen(root) >= sizeof(v1_cache.root))
		return;
	snprintf(v1_cache.root, sizeof(v1_cache.root), "%s", root);
	v1_cache.dirs.n = dirs->n;
	for (int i = 0; i < dirs->n; i++) {
		struct cg_dir *c = &v1_cache.dirs.d[i];
		snprintf(c->root, sizeof(c->root), "%s", dirs->d[i].root);
		c->path[0] = '\0';
		c->ctls = dirs->d[i].ctls;
		c->unified = dirs->d[i].unified;
	}
	v1_cache.mounted = mounted;
}

int cg_list_dirs(const struct vs_cgroup *cg, struct cg_dirs *dirs, unsigned *mounted)
{
	const char *root = cg_mount_root();
	struct statfs sfs;
	unsigned mnt = 0;
	if (cg->mode != CG_MODE_V2 && v1_cache_get(root, cg, dirs, mounted))
		return 0;
	dirs->n = 0;   /* each entry is cleared as it is taken: not the whole 100 KiB */
	if (mounted)
		*mounted = 0;
	if (cg->mode == CG_MODE_V2) {
		struct cg_dir *d = &dirs->d[dirs->n++];
		snprintf(d->root, sizeof(d->root), "%s", root);
		snprintf(d->path, sizeof(d->path), "%s%s", root, cg->path);
		d->unified = true;
		d->ctls = ~0u;
		return 0;
	}
	dev_t devs[CG1__MAX + 1];
	for (int c = 0; c < CG1__MAX; c++) {
		char p[PATH_MAX];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", root, v1_names[c]);
		if (statfs(p, &sfs) < 0 || sfs.f_type != CGROUP_SUPER_MAGIC || stat(p, &st) < 0)
			continue;
		mnt |= 1u << c;
		int i;
		for (i = 0; i < dirs->n; i++)
			if (devs[i] == st.st_dev)
				break;
		if (i == dirs->n) {
			devs[i] = st.st_dev;
			snprintf(dirs->d[i].root, sizeof(dirs->d[i].root), "%s", p);
			snprintf(dirs->d[i].path, sizeof(dirs->d[i].path), "%s%s", p, cg->path);
			dirs->d[i].ctls = 0;
			dirs->d[i].unified = false;
			dirs->n++;
		}
		dirs->d[i].ctls |= 1u << c;
	}
	char u[PATH_MAX];
	snprintf(u, sizeof(u), "%s/unified", root);
	if (statfs(u, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
		struct cg_dir *d = &dirs->d[dirs->n++];
		snprintf(d->root, sizeof(d->root), "%s", u);
		snprintf(d->path, sizeof(d->path), "%s%s", u, cg->path);
		d->ctls = 0;
		d->unified = true;
	}
	if (mounted)
		*mounted = mnt;
	v1_cache_put(root, dirs, mnt);
	return 0;
}

const char *cg_v1_dir(const struct cg_dirs *dirs, enum cg_v1_ctl c)
{
	for (int i = 0; i < dirs->n; i++)
		if (!dirs->d[i].unified && (dirs->d[i].ctls & (1u << c)))
			return dirs->d[i].path;
	return NULL;
}

const char *cg_unified_dir(const struct cg_dirs *dirs)
{
	for (int i = 0; i < dirs->n; i++)
		if (dirs->d[i].unified)
			return dirs->d[i].path;
	return NULL;
}

const char *cg_main_dir(const struct cg_dirs *dirs)
{
	static const enum cg_v1_ctl order[] = { CG1_PIDS, CG1_FREEZER, CG1_MEMORY, CG1_CPU,
		CG1_CPUACCT, CG1_DEVICES, CG1_BLKIO, CG1_CPUSET };
	if (dirs->n == 1 && dirs->d[0].unified)
		return dirs->d[0].path;
	for (size_t i = 0; i < VS_ARRAY_SIZE(order); i++) {
		const char *d = cg_v1_dir(dirs, order[i]);
		if (d)
			return d;
	}
	return cg_unified_dir(dirs);
}

/* ---- small file helpers ---- */

int cg_write(struct vs_err *err, const char *dir, const char *file, const char *fmt, ...)
{
	char val[1024], path[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int r = vs_write_file(path, val);
	if (r < 0) {
		/* one line in the message, even for multi-line values */
		for (char *p = val; *p; p++)
			if (*p == '\n')
				*p = ' ';
		return vs_fail(err, -r, "cgroup: write %s=%s", file, val);
	}
	return 0;
}

int cg_read(const char *dir, const char *file, char **out)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return vs_read_file(path, out, NULL);
}

bool cg_has_file(const char *dir, const char *file)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *v)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(dir, file, &s);
	if (r < 0)
		return r;
	if (!strncmp(s, "max", 3)) {
		*v = UINT64_MAX;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	*v = x;
	return 0;
}

int cg_keyed(const char *text, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == ' ') {
			*v = strtoull(p + kl + 1, NULL, 10);
			return 0;
		}
	}
	return -ENOENT;
}

int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *v)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(dir, file, &s);
	if (r < 0)
		return r;
	return cg_keyed(s, key, v);
}

/* Is the controller built into the kernel (listed in /proc/cgroups)? */
static bool kernel_has_controller(const char *name)
{
	_cleanup_free_ char *s = NULL;
	if (vs_read_file("/proc/cgroups", &s, NULL) < 0)
		return true;   /* cannot tell: say "not mounted" */
	size_t l = strlen(name);
	for (char *p = s; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, name, l) && (p[l] == '\t' || p[l] == ' '))
			return true;
	return false;
}

/* The Kconfig name of a v1 controller, for the refusal above */
static const char *config_name(int c)
{
	static const char *const names[CG1__MAX] = {
		[CG1_CPU] = "CGROUP_SCHED", [CG1_CPUACCT] = "CGROUP_CPUACCT", [CG1_CPUSET] = "CPUSETS",
		[CG1_MEMORY] = "MEMCG", [CG1_DEVICES] = "CGROUP_DEVICE", [CG1_FREEZER] = "CGROUP_FREEZER",
		[CG1_BLKIO] = "BLK_CGROUP", [CG1_PIDS] = "CGROUP_PIDS", [CG1_HUGETLB] = "CGROUP_HUGETLB",
		[CG1_NET_CLS] = "CGROUP_NET_CLASSID", [CG1_NET_PRIO] = "CGROUP_NET_PRIO",
		[CG1_RDMA] = "CGROUP_RDMA",
	};
	return names[c];
}

int cg_rdma_apply(const char *dir, const struct conf_resources *res, struct vs_err *err)
{
	if (!res->n_rdma)
		return 0;
	/* rdma.max has a line per rdma device the kernel knows ("mlx5_0 hca_handle=max ...") */
	_cleanup_free_ char *cur = NULL;
	int r = cg_read(dir, "rdma.max", &cur);
	if (r < 0)
		return vs_fail(err, -r, "cgroup: read %s/rdma.max", dir);
	for (size_t i = 0; i < res->n_rdma; i++) {
		const struct conf_rdma *x = &res->rdma[i];
		size_t l = strlen(x->device);
		bool known = false;
		for (char *p = cur; p && *p && !known; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			known = !strncmp(p, x->device, l) && p[l] == ' ';
		if (!known) {
			char have[256] = "";
			for (char *p = cur; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
				size_t o = strlen(have);
				snprintf(have + o, sizeof(have) - o, "%s%.*s", o ? ", " : "",
					 (int)strcspn(p, " \n"), p);
			}
			return vs_failx(err, ENODEV, "cgroup: rdma: no rdma device \"%s\" on this host (%s)",
					x->device, *have ? have : "the kernel has no rdma device at all");
		}
		char hh[32] = "max", ho[32] = "max";
		if (x->hca_handles.set)
			snprintf(hh, sizeof(hh), "%" PRIu64, x->hca_handles.v);
		if (x->hca_objects.set)
			snprintf(ho, sizeof(ho), "%" PRIu64, x->hca_objects.v);
		if ((r = cg_write(err, dir, "rdma.max", "%s hca_handle=%s hca_object=%s",
				  x->device, hh, ho)) < 0)
			return r;
	}
	return 0;
}

/* ---- create ---- */

/* Makes dir (under root) component by component; *made is the number of
 * trailing components we created (0 if it all existed). */
static int mkdir_tracked(const struct cg_dir *d, bool v2, unsigned v2_need, int *made,
			 struct vs_err *err)
{
	char buf[PATH_MAX];
	size_t rl = strlen(d->root);
	snprintf(buf, sizeof(buf), "%s", d->path);
	int depth = 0, total = 0;
	for (char *p = buf + rl; *p; p++)
		if (*p == '/')
			total++;
	*made = 0;
	for (char *p = buf + rl + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char saved = *p;
		*p = '\0';
		depth++;
		if (v2) {
			/* enable controllers in the parent before making the child */
			char parent[PATH_MAX];
			snprintf(parent, sizeof(parent), "%s", buf);
			*strrchr(parent, '/') = '\0';
			int r = cg_v2_enable_controllers(parent, v2_need, err);
			if (r < 0)
				return r;
		}
		if (mkdir(buf, 0755) == 0) {
			if (*made == 0)
				*made = total - depth + 1;
			if (!v2 && (d->ctls & (1u << CG1_CPUSET))) {
				int r = cg_v1_cpuset_inherit(buf, err);
				if (r < 0)
					return r;
			}
		} else if (errno != EEXIST) {
			return vs_fail(err, errno, "cgroup: mkdir %s", buf);
		} else if (*made) {
			/* someone else made it between our steps: not ours then */
			*made = total - depth;
		}
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

static int rmdir_retry(const char *path)
{
	for (int i = 0; i < 100; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		sleep_ms(10);
	}
	return -EBUSY;
}

/* Removes the last `levels` components of path (deepest first). */
static void rmdir_levels(const char *path, int levels)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (int i = 0; i < levels; i++) {
		if (rmdir_retry(buf) < 0)
			return;
		char *s = strrchr(buf, '/');
		if (!s)
			return;
		*s = '\0';
	}
}

int cg_create(struct vs_cgroup *cg, const struct conf_resources *res, struct vs_err *err)
{
	int r;
	if (!cg->mode) {
		enum cg_mode m;
		if ((r = cg_detect_mode(&m, err)) < 0)
			return r;
		cg->mode = m;
	}
	if (res && (r = cg_check_resources(res, cg->mode, err)) < 0)
		return r;

	struct cg_dirs dirs;
	unsigned mounted = 0;
	cg_list_dirs(cg, &dirs, &mounted);
	bool v2 = cg->mode == CG_MODE_V2;
	unsigned need = 0, on_unified = 0;
	if (!v2) {
		need = res ? cg_v1_needed(res) : 0;
		unsigned missing = need & ~mounted;
		on_unified = cg_hybrid_on_unified(&dirs, missing);
		missing &= ~on_unified;
		for (int c = 0; c < CG1__MAX; c++) {
			if (!(missing & (1u << c)))
				continue;
			if (!kernel_has_controller(v1_names[c]))
				return vs_failx(err, EOPNOTSUPP,
						"cgroup: the %s controller is not in this kernel (not in /proc/cgroups: "
						"built without CONFIG_%s)", v1_names[c], config_name(c));
			return vs_failx(err, EOPNOTSUPP,
					"cgroup: the %s controller is not mounted on this host (no %s/%s)",
					v1_names[c], cg_mount_root(), v1_names[c]);
		}
	} else {
		need = res ? cg_v2_needed(res) : 0;
	}

	int made[CG1__MAX + 1] = { 0 };
	int n_done = 0;
	for (; n_done < dirs.n; n_done++) {
		struct cg_dir *d = &dirs.d[n_done];
		if (!v2 && !d->unified && !(d->ctls & (CG1_ALWAYS | need)))
			continue;
		/* a parent can vanish under us when another server's destroy
		 * removes an empty /vsrun at that moment: try again */
		for (int tries = 0; tries < 3; tries++) {
			r = mkdir_tracked(d, v2, need, &made[n_done], err);
			if (r != -ENOENT)
				break;
			rmdir_levels(d->path, made[n_done]);
			made[n_done] = 0;
		}
		if (r < 0) {
			n_done++;
			goto out_rmdir;
		}
	}
	if (on_unified && (r = cg_hybrid_enable(&dirs, on_unified, err)) < 0)
		goto out_rmdir;
	if (res) {
		if (v2)
			r = cg_v2_apply(dirs.d[0].path, res, false, err);
		else
			r = cg_v1_apply(&dirs, mounted, res, false, err);
		if (r < 0)
			goto out_rmdir;
	}
	return 0;

out_rmdir:
	for (int i = 0; i < n_done; i++)
		rmdir_levels(dirs.d[i].path, made[i]);
	if (on_unified)
		cg_hybrid_release(&dirs);
	return r;
}

int cg_child(const struct vs_cgroup *cg, const char *name, struct vs_cgroup *child,
	     struct vs_err *err)
{
	size_t n = strlen(name);
	if (!n || n > 64 || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return vs_failx(err, EINVAL,
				"cgroup: delegated cgroup \"%s\": expected one path component "
				"(no '/', not . or .., 1-64 bytes)", name);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return vs_failx(err, EINVAL,
					"cgroup: delegated cgroup: control character in the name");
	child->mode = cg->mode;
	if ((size_t)snprintf(child->path, sizeof(child->path), "%s/%s", cg->path, name) >=
	    sizeof(child->path))
		return vs_failx(err, ENAMETOOLONG, "cgroup: delegated cgroup %s/%s: path too long",
				cg->path, name);
	return 0;
}

int cg_create_below(const struct vs_cgroup *outer, struct vs_cgroup *inner,
		    struct vs_err *err)
{
	if (inner->mode == CG_MODE_V2)
		return cg_create(inner, NULL, err);
	/* v1: every hierarchy the outer one is in, not only those a cgroup
	 * gets without limits: net_cls, net_prio, hugetlb and rdma too, or
	 * the processes would sit at the root of those, unlimited */
	struct cg_dirs od, id;
	cg_list_dirs(outer, &od, NULL);
	cg_list_dirs(inner, &id, NULL);
	int made[CG1__MAX + 1] = { 0 };
	for (int i = 0; i < id.n && i < od.n; i++) {
		if (access(od.d[i].path, F_OK) < 0)
			continue;
		if (mkdir(id.d[i].path, 0755) < 0) {
			if (errno == EEXIST)
				continue;
			int r = vs_fail(err, errno, "cgroup: mkdir %s", id.d[i].path);
			for (int k = 0; k < i; k++)
				if (made[k])
					rmdir_retry(id.d[k].path);
			return r;
		}
		made[i] = 1;
		if (!id.d[i].unified && (id.d[i].ctls & (1u << CG1_CPUSET))) {
			int r = cg_v1_cpuset_inherit(id.d[i].path, err);
			if (r < 0) {
				for (int k = 0; k <= i; k++)
					if (made[k])
						rmdir_retry(id.d[k].path);
				return r;
			}
		}
	}
	return 0;
}

int cg_update(const struct vs_cgroup *cg, const struct conf_resources *res, struct vs_err *err)
{
	if (!res)
		return 0;
	int r = cg_check_resources(res, cg->mode, err);
	if (r < 0)
		return r;
	if (!cg_exists(cg))
		return vs_failx(err, ENOENT, "cgroup: %s does not exist", cg->path);
	struct cg_dirs dirs;
	unsigned mounted;
	cg_list_dirs(cg, &dirs, &mounted);
	if (cg->mode == CG_MODE_V2)
		return cg_v2_apply(dirs.d[0].path, res, true, err);
	unsigned missing = cg_v1_needed(res) & ~mounted;
	unsigned on_unified = cg_hybrid_on_unified(&dirs, missing);
	missing &= ~on_unified;
	for (int c = 0; c < CG1__MAX; c++)
		if (missing & (1u << c))
			return vs_failx(err, EOPNOTSUPP,
					"cgroup: the %s controller is not mounted on this host (no %s/%s)",
					v1_names[c], cg_mount_root(), v1_names[c]);
	if ((r = cg_hybrid_enable(&dirs, on_unified, err)) < 0)
		return r;
	return cg_v1_apply(&dirs, mounted, res, true, err);
}

bool cg_exists(const struct vs_cgroup *cg)
{
	struct cg_dirs dirs;
	cg_list_dirs(cg, &dirs, NULL);
	const char *d = cg_main_dir(&dirs);
	struct stat st;
	return d && stat(d, &st) == 0 && S_ISDIR(st.st_mode);
}

int cg_open_dir_fd(const struct vs_cgroup *cg, struct vs_err *err)
{
	char p[PATH_MAX];
	if (cg->mode != CG_MODE_V2) {
		/* a hybrid host: clone3 can still place the child in the cgroup2
		 * (unified) part, which spares cg_enter one migration there, and a
		 * migration costs an RCU grace period (milliseconds) */
		struct cg_dirs dirs;
		cg_list_dirs(cg, &dirs, NULL);
		const char *u = cg_unified_dir(&dirs);
		if (!u)
			return vs_failx(err, EOPNOTSUPP, "cgroup: a cgroup directory fd needs cgroup v2");
		snprintf(p, sizeof(p), "%s", u);
	} else {
		snprintf(p, sizeof(p), "%s%s", cg_mount_root(), cg->path);
	}
	int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vs_fail(err, errno, "cgroup: open %s", p);
	return fd;
}

/* pid's cgroup2 path (relative to the hierarchy's root) from the "0::"
 * line of /proc/PID/cgroup, into out. */
static int unified_path_of(pid_t pid, char *out, size_t len)
{
	char f[64];
	_cleanup_free_ char *s = NULL;
	snprintf(f, sizeof(f), "/proc/%d/cgroup", (int)pid);
	int r = vs_read_file(f, &s, NULL);
	if (r < 0)
		return r;
	char *l = strstr(s, "\n0::");
	l = l ? l + 1 : (!strncmp(s, "0::", 3) ? s : NULL);
	if (!l)
		return -ENOENT;
	l += 3;
	size_t n = strcspn(l, "\n");
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, l, n);
	out[n] = '\0';
	return 0;
}

/* True if pid already sits in the cgroup2 cgroup at path. */
static bool in_unified(pid_t pid, const char *path)
{
	char p[PATH_MAX];
	return unified_path_of(pid, p, sizeof(p)) == 0 && !strcmp(p, path);
}

/* A process that joins a cgroup2 cgroup which cgroup2 refuses with EBUSY:
 * the container made cgroups of its own below it and enabled controllers
 * for them (systemd as its init does), so its top is no longer a leaf.
 * The process goes where the container's init is instead, if that lies
 * below the container's cgroup (never anywhere else). 1: not so, err as
 * it was; 0: joined; < 0: that failed too, err says where. */
static int enter_beside_init(const struct cg_dir *d, const char *cg_path, pid_t pid,
			     pid_t init_pid, struct vs_err *err)
{
	char sub[PATH_MAX], dir[PATH_MAX];
	size_t bl = strlen(cg_path);
	if (init_pid <= 0 || unified_path_of(init_pid, sub, sizeof(sub)) < 0 ||
	    strncmp(sub, cg_path, bl) || sub[bl] != '/')
		return 1;
	snprintf(dir, sizeof(dir), "%s%s", d->root, sub);
	int r = cg_write(err, dir, "cgroup.procs", "%d", (int)pid);
	return r < 0 ? vs_wrap(err, "%s", dir) : 0;
}

static int enter(const struct vs_cgroup *cg, pid_t pid, pid_t init_pid, struct vs_err *err)
{
	struct cg_dirs dirs;
	cg_list_dirs(cg, &dirs, NULL);
	for (int i = 0; i < dirs.n; i++) {
		if (cg->mode == CG_MODE_V1 && access(dirs.d[i].path, F_OK) < 0)
			continue;   /* a hierarchy we did not need */
		if (cg->mode == CG_MODE_V1 && dirs.d[i].unified && in_unified(pid, cg->path))
			continue;   /* cloned straight into it */
		int r = cg_write(err, dirs.d[i].path, "cgroup.procs", "%d", (int)pid);
		if (r == -EBUSY && dirs.d[i].unified) {
			int b = enter_beside_init(&dirs.d[i], cg->path, pid, init_pid, err);
			if (b < 0)
				return b;
			if (b == 0)
				continue;
		}
		if (r < 0)
			return vs_wrap(err, "%s", dirs.d[i].path);
	}
	return 0;
}

int cg_enter(const struct vs_cgroup *cg, pid_t pid, struct vs_err *err)
{
	return enter(cg, pid, 0, err);
}

int cg_enter_exec(const struct vs_cgroup *cg, pid_t pid, pid_t init_pid, struct vs_err *err)
{
	return enter(cg, pid, init_pid, err);
}

/* ---- processes ---- */

static int collect_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap, int depth)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(dir, "cgroup.procs", &s);
	if (r < 0)
		return r;
	for (char *p = s; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*pids = vs_xrealloc(*pids, *cap * sizeof(pid_t));
		}
		(*pids)[(*n)++] = (pid_t)v;
		p = end;
		while (*p == '\n')
			p++;
	}
	if (depth > 64)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		char sub[PATH_MAX];
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		r = collect_pids(sub, pids, n, cap, depth + 1);
		if (r < 0 && r != -ENOENT) {
			closedir(d);
			return r;
		}
	}
	closedir(d);
	return 0;
}

int cg_pids(const struct vs_cgroup *cg, pid_t **pids, size_t *n, struct vs_err *err)
{
	struct cg_dirs dirs;
	cg_list_dirs(cg, &dirs, NULL);
	const char *d = cg_main_dir(&dirs);
	size_t cap = 0;
	*pids = NULL;
	*n = 0;
	if (!d)
		return vs_failx(err, ENOENT, "cgroup: no hierarchy to list processes from");
	int r = collect_pids(d, pids, n, &cap, 0);
	if (r < 0) {
		free(*pids);
		*pids = NULL;
		*n = 0;
		return vs_fail(err, -r, "cgroup: read %s/cgroup.procs", d);
	}
	return 0;
}

int cg_kill_all(const struct vs_cgroup *cg, int sig, struct vs_err *err)
{
	struct cg_dirs dirs;
	cg_list_dirs(cg, &dirs, NULL);
	if (cg->mode == CG_MODE_V2 && sig == SIGKILL && cg_has_file(dirs.d[0].path, "cgroup.kill"))
		return cg_write(err, dirs.d[0].path, "cgroup.kill", "1");

	/* freeze so that nothing forks behind our back, signal, thaw */
	int was_frozen = cg_is_frozen(cg);
	bool froze = false;
	if (was_frozen == 0 && cg_freeze(cg, true, NULL) == 0)
		froze = true;
	pid_t *pids = NULL;
	size_t n = 0;
	int r = cg_pids(cg, &pids, &n, err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH) {
			r = vs_fail(err, errno, "cgroup: kill %d", (int)pids[i]);
			break;
		}
	free(pids);
	/* a frozen task only dies once thawed */
	if (froze || (was_frozen == 1 && sig == SIGKILL))
		cg_freeze(cg, false, NULL);
	return r;
}

/* ---- destroy ---- */

/* Removes every cgroup below dir, deepest first. */
static void rmdir_children(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d || depth > 64) {
		if (d)
			closedir(d);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		char sub[PATH_MAX];
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		rmdir_children(sub, depth + 1);
		rmdir_retry(sub);
	}
	closedir(d);
}

/* Our parents: those whose first component is "vsrun" or starts with
 * "vsrun-" (the default parent and test trees). */
static bool parent_is_ours(const char *cgpath)
{
	return !strncmp(cgpath, "/vsrun/", 7) || !strncmp(cgpath, "/vsrun-", 7);
}

int cg_destroy(const struct vs_cgroup *cg, struct vs_err *err)
{
	if (!cg_exists(cg))
		goto rm;   /* other hierarchies may still hold it */

	uint64_t deadline = vs_now_ns() + 5000000000ULL;
	for (;;) {
		pid_t *pids = NULL;
		size_t n = 0;
		if (cg_pids(cg, &pids, &n, NULL) < 0)
			n = 0;
		free(pids);
		if (n == 0)
			break;
		if (vs_now_ns() > deadline)
			return vs_failx(err, EBUSY, "cgroup: %s: %zu processes still alive after SIGKILL",
					cg->path, n);
		cg_kill_all(cg, SIGKILL, NULL);
		sleep_ms(20);
	}

rm:;
	struct cg_dirs dirs;
	cg_list_dirs(cg, &dirs, NULL);
	int ret = 0;
	for (int i = 0; i < dirs.n; i++) {
		struct cg_dir *d = &dirs.d[i];
		rmdir_children(d->path, 0);
		int r = rmdir_retry(d->path);
		if (r < 0 && ret == 0)
			ret = vs_fail(err, -r, "cgroup: rmdir %s", d->path);
		/* then the parents we share with other servers, while empty */
		char buf[PATH_MAX], cgp[PATH_MAX];
		snprintf(buf, sizeof(buf), "%s", d->path);
		snprintf(cgp, sizeof(cgp), "%s", cg->path);
		for (;;) {
			char *s = strrchr(cgp, '/'), *b = strrchr(buf, '/');
			if (!s || s == cgp || !b)
				break;
			*s = '\0';
			*b = '\0';
			if (!parent_is_ours(cg->path) || rmdir(buf) < 0)
				break;
		}
	}
	if (cg->mode == CG_MODE_V1)
		cg_hybrid_release(&dirs);
	return ret;
}
