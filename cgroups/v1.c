/* cgroups: the OCI resources on cgroup v1 hierarchies (legacy and hybrid
 * hosts). The OCI model is v1-shaped, so most values go in as they are. */
#include "internal.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool has_blkio(const struct conf_resources *r)
{
	return r->block_io.weight.set || r->block_io.leaf_weight.set ||
	       r->block_io.n_weight_device || r->block_io.n_throttle_read_bps ||
	       r->block_io.n_throttle_write_bps || r->block_io.n_throttle_read_iops ||
	       r->block_io.n_throttle_write_iops;
}

unsigned cg_v1_needed(const struct conf_resources *r)
{
	unsigned m = 0;
	if (r->cpu.shares.set || r->cpu.quota.set || r->cpu.period.set || r->cpu.burst.set ||
	    r->cpu.idle.set || r->cpu.realtime_period.set || r->cpu.realtime_runtime.set)
		m |= 1u << CG1_CPU;
	if ((r->cpu.cpus && *r->cpu.cpus) || (r->cpu.mems && *r->cpu.mems))
		m |= 1u << CG1_CPUSET;
	if (r->memory.limit.set || r->memory.reservation.set || r->memory.swap.set ||
	    r->memory.kernel.set || r->memory.kernel_tcp.set || r->memory.swappiness.set ||
	    r->memory.disable_oom_killer.set || r->memory.use_hierarchy.set)
		m |= 1u << CG1_MEMORY;
	if (r->n_devices)
		m |= 1u << CG1_DEVICES;
	if (r->pids.limit.set)
		m |= 1u << CG1_PIDS;
	if (has_blkio(r))
		m |= 1u << CG1_BLKIO;
	if (r->n_hugepage_limits)
		m |= 1u << CG1_HUGETLB;
	if (r->network.class_id.set)
		m |= 1u << CG1_NET_CLS;
	if (r->network.n_priorities)
		m |= 1u << CG1_NET_PRIO;
	if (r->n_rdma)
		m |= 1u << CG1_RDMA;
	return m;
}

/* runs in: the runtime, right after mkdir of one level of the path. A new v1
 * cpuset starts with empty cpus and mems, and a task cannot enter it. */
int cg_v1_cpuset_inherit(const char *dir, struct vs_err *err)
{
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", dir);
	char *s = strrchr(parent, '/');
	if (!s)
		return 0;
	*s = '\0';
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *cur = NULL, *up = NULL;
		if (cg_read(dir, files[i], &cur) < 0)
			continue;
		if (cur[strspn(cur, " \n")])
			continue;   /* already set */
		int r = cg_read(parent, files[i], &up);
		if (r < 0)
			return vs_fail(err, -r, "cgroup: read %s/%s", parent, files[i]);
		up[strcspn(up, "\n")] = '\0';
		if ((r = cg_write(err, dir, files[i], "%s", up)) < 0)
			return r;
	}
	return 0;
}

/* The kernel gives a cgroup realtime time only out of its parent's (a new
 * cgroup has cpu.rt_runtime_us 0), and answers EINVAL otherwise. Says so
 * with the parent's numbers, so the admin knows what to raise. */
static int rt_fits_parent(const char *d, const struct conf_resources *res, struct vs_err *err)
{
	if (!res->cpu.realtime_runtime.set || res->cpu.realtime_runtime.v <= 0)
		return 0;
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", d);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	_cleanup_free_ char *prs = NULL;
	uint64_t pp, period;
	if (cg_read(parent, "cpu.rt_runtime_us", &prs) < 0 || cg_read_u64(parent, "cpu.rt_period_us", &pp) < 0)
		return 0;
	long long pr = strtoll(prs, NULL, 10);
	if (pr < 0)
		return 0; /* unlimited (the root with sched_rt_runtime_us -1) */
	if (res->cpu.realtime_period.set && res->cpu.realtime_period.v)
		period = res->cpu.realtime_period.v;
	else if (cg_read_u64(d, "cpu.rt_period_us", &period) < 0)
		return 0;
	/* runtime/period must fit in parent_runtime/parent_period */
	if ((unsigned __int128)res->cpu.realtime_runtime.v * pp <= (unsigned __int128)pr * period)
		return 0;
	return vs_failx(err, EINVAL,
			"cgroup: cpu.realtimeRuntime %lld per %llu us does not fit in the parent cgroup's "
			"realtime time (%s: cpu.rt_runtime_us %lld per %llu us); raise the parent's first",
			(long long)res->cpu.realtime_runtime.v, (unsigned long long)period,
			parent, pr, (unsigned long long)pp);
}

static int apply_cpu(const struct cg_dirs *dirs, const struct conf_resources *res,
		     struct vs_err *err)
{
	int r;
	const char *cs = cg_v1_dir(dirs, CG1_CPUSET), *d = cg_v1_dir(dirs, CG1_CPU);
	if (res->cpu.cpus && *res->cpu.cpus &&
	    (r = cg_write(err, cs, "cpuset.cpus", "%s", res->cpu.cpus)) < 0)
		return r;
	if (res->cpu.mems && *res->cpu.mems &&
	    (r = cg_write(err, cs, "cpuset.mems", "%s", res->cpu.mems)) < 0)
		return r;
	if (!d)
		return 0;
	if (res->cpu.shares.set && res->cpu.shares.v &&
	    (r = cg_write(err, d, "cpu.shares", "%" PRIu64, res->cpu.shares.v)) < 0)
		return r;
	/* the realtime period before the runtime, which must fit in it */
	if (res->cpu.realtime_period.set || res->cpu.realtime_runtime.set) {
		if (!cg_has_file(d, "cpu.rt_runtime_us"))
			return vs_failx(err, EOPNOTSUPP,
					"cgroup: cpu.realtimeRuntime: not supported on this host (no cpu.rt_runtime_us: "
					"the kernel is built without CONFIG_RT_GROUP_SCHED)");
		if ((r = rt_fits_parent(d, res, err)) < 0)
			return r;
		if (res->cpu.realtime_period.set && res->cpu.realtime_period.v &&
		    (r = cg_write(err, d, "cpu.rt_period_us", "%" PRIu64, res->cpu.realtime_period.v)) < 0)
			return r;
		if (res->cpu.realtime_runtime.set &&
		    (r = cg_write(err, d, "cpu.rt_runtime_us", "%" PRId64,
				  res->cpu.realtime_runtime.v)) < 0)
			return r;
	}
	if (res->cpu.period.set && res->cpu.period.v &&
	    (r = cg_write(err, d, "cpu.cfs_period_us", "%" PRIu64, res->cpu.period.v)) < 0)
		return r;
	if (res->cpu.quota.set &&
	    (r = cg_write(err, d, "cpu.cfs_quota_us", "%" PRId64,
			  res->cpu.quota.v > 0 ? res->cpu.quota.v : -1)) < 0)
		return r;
	if (res->cpu.burst.set) {
		if (!cg_has_file(d, "cpu.cfs_burst_us"))
			return vs_failx(err, EOPNOTSUPP,
					"cgroup: cpu.burst: not supported on this host (no cpu.cfs_burst_us)");
		if ((r = cg_write(err, d, "cpu.cfs_burst_us", "%" PRIu64, res->cpu.burst.v)) < 0)
			return r;
	}
	if (res->cpu.idle.set) {
		if (!cg_has_file(d, "cpu.idle"))
			return vs_failx(err, EOPNOTSUPP, "cgroup: cpu.idle: not supported on this host (no cpu.idle)");
		if ((r = cg_write(err, d, "cpu.idle", "%" PRId64, res->cpu.idle.v)) < 0)
			return r;
	}
	return 0;
}

/* memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes, so the
 * order of the two writes depends on where we go from. */
static int apply_mem_limits(const char *d, const struct conf_resources *res, struct vs_err *err)
{
	int r;
	bool has_lim = res->memory.limit.set && res->memory.limit.v != 0;
	bool has_sw = res->memory.swap.set && res->memory.swap.v != 0;
	bool memsw = cg_has_file(d, "memory.memsw.limit_in_bytes");
	if (has_sw && !memsw)
		return vs_failx(err, EOPNOTSUPP,
				"cgroup: memory.swap: not supported on this host (no memory.memsw.limit_in_bytes)");
	int64_t lim = res->memory.limit.v, sw = res->memory.swap.v;
	if (has_lim && !has_sw && lim < 0 && memsw) {
		/* unlimited memory: unlimited memory+swap too, as runc does */
		has_sw = true;
		sw = -1;
	}
	bool swap_first = false;
	if (has_lim && has_sw) {
		uint64_t cur;
		uint64_t l = lim < 0 ? UINT64_MAX : (uint64_t)lim;
		if (cg_read_u64(d, "memory.memsw.limit_in_bytes", &cur) == 0 && l > cur)
			swap_first = true;
	}
	if (swap_first && (r = cg_write(err, d, "memory.memsw.limit_in_bytes", "%" PRId64, sw)) < 0)
		return r;
	if (has_lim && (r = cg_write(err, d, "memory.limit_in_bytes", "%" PRId64, lim)) < 0)
		return r;
	if (has_sw && !swap_first &&
	    (r = cg_write(err, d, "memory.memsw.limit_in_bytes", "%" PRId64, sw)) < 0)
		return r;
	return 0;
}

/* One kmem limit, read back: Linux deprecated the v1 kmem limit in 5.16 and
 * made it a no-op in 6.6 that still accepts the write and keeps no limit
 * (reads back the unlimited value). A limit the kernel did not keep is
 * refused, never silently dropped. Older kernels keep the value rounded
 * down to a page, so "kept" is a read-back no greater than asked. */
static int write_kmem(const char *d, const char *field, const char *file, int64_t v,
		      struct vs_err *err)
{
	int r = cg_write(err, d, file, "%" PRId64, v);
	if (r < 0)
		return vs_wrap(err, "memory.%s: not supported on this host", field);
	uint64_t back;
	if (v < 0 || (r = cg_read_u64(d, file, &back)) < 0)
		return 0;   /* unlimited asked, or nothing to compare with */
	if (back > (uint64_t)v)
		return vs_failx(err, EOPNOTSUPP,
				"cgroup: memory.%s: not supported on this host (the kernel accepts %s "
				"but keeps no limit: %lld reads back as %llu)", field, file,
				(long long)v, (unsigned long long)back);
	return 0;
}

/* runs in: the runtime, before any other write of cg_v1_apply, so that a
 * refused kmem limit on `update` changes nothing (on create the rollback
 * removes the new cgroup). */
static int apply_kmem(const struct cg_dirs *dirs, const struct conf_resources *res,
		      struct vs_err *err)
{
	const char *d = cg_v1_dir(dirs, CG1_MEMORY);
	int r;
	if (!d)
		return 0;
	if (res->memory.kernel.set &&
	    (r = write_kmem(d, "kernel", "memory.kmem.limit_in_bytes", res->memory.kernel.v, err)) < 0)
		return r;
	if (res->memory.kernel_tcp.set &&
	    (r = write_kmem(d, "kernelTCP", "memory.kmem.tcp.limit_in_bytes",
			    res->memory.kernel_tcp.v, err)) < 0)
		return r;
	return 0;
}

static int apply_memory(const struct cg_dirs *dirs, const struct conf_resources *res,
			bool update, struct vs_err *err)
{
	const char *d = cg_v1_dir(dirs, CG1_MEMORY);
	int r;
	if (!d)
		return 0;
	if (res->memory.limit.set && res->memory.limit.v > 0 && update &&
	    res->memory.check_before_update.set && res->memory.check_before_update.v) {
		uint64_t cur;
		if (cg_read_u64(d, "memory.usage_in_bytes", &cur) == 0 &&
		    cur > (uint64_t)res->memory.limit.v)
			return vs_failx(err, EBUSY,
					"cgroup: memory.limit: %lld is below the current usage %llu",
					(long long)res->memory.limit.v, (unsigned long long)cur);
	}
	if ((r = apply_mem_limits(d, res, err)) < 0)
		return r;
	if (res->memory.reservation.set && res->memory.reservation.v != 0 &&
	    (r = cg_write(err, d, "memory.soft_limit_in_bytes", "%" PRId64,
			  res->memory.reservation.v)) < 0)
		return r;
	if (res->memory.swappiness.set &&
	    (r = cg_write(err, d, "memory.swappiness", "%" PRIu64, res->memory.swappiness.v)) < 0)
		return r;
	if (res->memory.disable_oom_killer.set && res->memory.disable_oom_killer.v &&
	    (r = cg_write(err, d, "memory.oom_control", "1")) < 0)
		return r;
	if (res->memory.use_hierarchy.set &&
	    (r = cg_write(err, d, "memory.use_hierarchy", "%d", res->memory.use_hierarchy.v)) < 0)
		return r;
	return 0;
}

/* Is the bfq scheduler active on the disk maj:min (major < 0: on any disk)?
 * BFQ's weight files exist whenever BFQ is built in, but a weight only acts
 * on disks that use it. */
bool cg_bfq_active(int64_t major, int64_t minor)
{
	char p[PATH_MAX];
	_cleanup_free_ char *s = NULL;
	if (major >= 0) {
		snprintf(p, sizeof(p), "/sys/dev/block/%lld:%lld/queue/scheduler",
			 (long long)major, (long long)minor);
		return vs_read_file(p, &s, NULL) == 0 && strstr(s, "[bfq]");
	}
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	bool found = false;
	while (d && !found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/block/%s/queue/scheduler", de->d_name);
		if (vs_read_file(p, &s, NULL) == 0)
			found = strstr(s, "[bfq]") != NULL;
		free(s);
		s = NULL;
	}
	if (d)
		closedir(d);
	return found;
}

static int apply_blkio(const char *d, const struct conf_resources *res, struct vs_err *err)
{
	int r;
	const struct conf_blkio_dev *wd = res->block_io.weight_device;
	if (res->block_io.weight.set || res->block_io.n_weight_device) {
		const char *f = cg_has_file(d, "blkio.weight") ? "blkio.weight" :
				cg_has_file(d, "blkio.bfq.weight") ? "blkio.bfq.weight" : NULL;
		if (!f)
			return vs_failx(err, EOPNOTSUPP,
					"cgroup: blockIO.weight: not supported on this host (no blkio.weight)");
		if (!strcmp(f, "blkio.bfq.weight")) {
			if (res->block_io.weight.set && !cg_bfq_active(-1, 0))
				return vs_failx(err, EOPNOTSUPP,
						"cgroup: blockIO.weight: not supported on this host (no blkio.weight, and no disk uses the bfq scheduler)");
			for (size_t i = 0; i < res->block_io.n_weight_device; i++)
				if (wd[i].weight.set && !cg_bfq_active(wd[i].major, wd[i].minor))
					return vs_failx(err, EOPNOTSUPP,
							"cgroup: blockIO.weightDevice: %lld:%lld: not supported on this host (no blkio.weight, and the disk does not use the bfq scheduler)",
							(long long)wd[i].major, (long long)wd[i].minor);
		}
		if (res->block_io.weight.set && res->block_io.weight.v &&
		    (r = cg_write(err, d, f, "%" PRIu64, res->block_io.weight.v)) < 0)
			return r;
		char fd[64];
		snprintf(fd, sizeof(fd), "%s_device", f);
		for (size_t i = 0; i < res->block_io.n_weight_device; i++)
			if (wd[i].weight.set &&
			    (r = cg_write(err, d, fd, "%lld:%lld %" PRIu64, (long long)wd[i].major,
					  (long long)wd[i].minor, wd[i].weight.v)) < 0)
				return r;
	}
	bool leaf = res->block_io.leaf_weight.set;
	for (size_t i = 0; i < res->block_io.n_weight_device; i++)
		leaf |= wd[i].leaf_weight.set;
	if (leaf) {
		if (!cg_has_file(d, "blkio.leaf_weight"))
			return vs_failx(err, EOPNOTSUPP,
					"cgroup: blockIO.leafWeight: not supported on this host (no blkio.leaf_weight)");
		if (res->block_io.leaf_weight.set &&
		    (r = cg_write(err, d, "blkio.leaf_weight", "%" PRIu64, res->block_io.leaf_weight.v)) < 0)
			return r;
		for (size_t i = 0; i < res->block_io.n_weight_device; i++)
			if (wd[i].leaf_weight.set &&
			    (r = cg_write(err, d, "blkio.leaf_weight_device", "%lld:%lld %" PRIu64,
					  (long long)wd[i].major, (long long)wd[i].minor,
					  wd[i].leaf_weight.v)) < 0)
				return r;
	}
	const struct {
		const struct conf_blkio_dev *v;
		size_t n;
		const char *file;
	} t[] = {
		{ res->block_io.throttle_read_bps, res->block_io.n_throttle_read_bps,
		  "blkio.throttle.read_bps_device" },
		{ res->block_io.throttle_write_bps, res->block_io.n_throttle_write_bps,
		  "blkio.throttle.write_bps_device" },
		{ res->block_io.throttle_read_iops, res->block_io.n_throttle_read_iops,
		  "blkio.throttle.read_iops_device" },
		{ res->block_io.throttle_write_iops, res->block_io.n_throttle_write_iops,
		  "blkio.throttle.write_iops_device" },
	};
	for (size_t k = 0; k < VS_ARRAY_SIZE(t); k++)
		for (size_t i = 0; i < t[k].n; i++)
			if ((r = cg_write(err, d, t[k].file, "%lld:%lld %" PRIu64,
					  (long long)t[k].v[i].major, (long long)t[k].v[i].minor,
					  t[k].v[i].rate)) < 0)
				return r;
	return 0;
}

/* "c 1:3 rwm"; -1 is the wildcard */
static void dev_rule_str(const struct conf_dev_rule *d, char *buf, size_t n)
{
	char ma[24] = "*", mi[24] = "*";
	if (d->type == 'a') {
		snprintf(buf, n, "a");
		return;
	}
	if (d->major >= 0)
		snprintf(ma, sizeof(ma), "%lld", (long long)d->major);
	if (d->minor >= 0)
		snprintf(mi, sizeof(mi), "%lld", (long long)d->minor);
	snprintf(buf, n, "%c %s:%s %s", d->type, ma, mi, d->access[0] ? d->access : "rwm");
}

static int apply_misc(const struct cg_dirs *dirs, const struct conf_resources *res,
		      struct vs_err *err)
{
	int r;
	const char *d;
	if (!cg_v1_dir(dirs, CG1_HUGETLB) && res->n_hugepage_limits && (d = cg_unified_dir(dirs)) &&
	    (r = cg_v2_hugetlb_apply(d, res, err)) < 0)
		return r;   /* a hybrid host with hugetlb on cgroup2 (see hybrid.c) */
	if ((d = cg_v1_dir(dirs, CG1_HUGETLB)))
		for (size_t i = 0; i < res->n_hugepage_limits; i++) {
			const struct conf_hugepage *h = &res->hugepage_limits[i];
			char f[128];
			snprintf(f, sizeof(f), "hugetlb.%s.limit_in_bytes", h->page_size);
			if (!cg_has_file(d, f))
				return vs_failx(err, EOPNOTSUPP,
						"cgroup: hugepageLimits: %s: not supported on this host (no %s)",
						h->page_size, f);
			if ((r = cg_write(err, d, f, "%" PRIu64, h->limit)) < 0)
				return r;
		}
	if ((d = cg_v1_dir(dirs, CG1_NET_CLS)) && res->network.class_id.set &&
	    (r = cg_write(err, d, "net_cls.classid", "%" PRIu64, res->network.class_id.v)) < 0)
		return r;
	if ((d = cg_v1_dir(dirs, CG1_NET_PRIO)))
		for (size_t i = 0; i < res->network.n_priorities; i++)
			if ((r = cg_write(err, d, "net_prio.ifpriomap", "%s %s",
					  res->network.priorities[i].key,
					  res->network.priorities[i].value)) < 0)
				return r;
	if ((d = cg_v1_dir(dirs, CG1_RDMA)) && (r = cg_rdma_apply(d, res, err)) < 0)
		return r;
	/* device rules in order: the v1 exception list gives last-match-wins */
	if ((d = cg_v1_dir(dirs, CG1_DEVICES)))
		for (size_t i = 0; i < res->n_devices; i++) {
			char rule[80];
			dev_rule_str(&res->devices[i], rule, sizeof(rule));
			if ((r = cg_write(err, d, res->devices[i].allow ? "devices.allow" : "devices.deny",
					  "%s", rule)) < 0)
				return r;
		}
	return 0;
}

int cg_v1_apply(const struct cg_dirs *dirs, unsigned mounted, const struct conf_resources *res,
		bool update, struct vs_err *err)
{
	int r;
	(void)mounted;
	if ((r = apply_kmem(dirs, res, err)) < 0)
		return r;
	if ((r = apply_cpu(dirs, res, err)) < 0)
		return r;
	if ((r = apply_memory(dirs, res, update, err)) < 0)
		return r;
	const char *d = cg_v1_dir(dirs, CG1_PIDS);
	if (d && res->pids.limit.set && res->pids.limit.v != 0) {
		if (res->pids.limit.v > 0)
			r = cg_write(err, d, "pids.max", "%" PRId64, res->pids.limit.v);
		else
			r = cg_write(err, d, "pids.max", "max");
		if (r < 0)
			return r;
	}
	if ((d = cg_v1_dir(dirs, CG1_BLKIO)) && has_blkio(res) && (r = apply_blkio(d, res, err)) < 0)
		return r;
	return apply_misc(dirs, res, err);
}
