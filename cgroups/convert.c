/* cgroups: value conversions between the OCI (v1-shaped) model and v2, and
 * the checks that need no host. Pure functions. */
#include "internal.h"

#include <string.h>

uint64_t cg_shares_to_weight(uint64_t shares)
{
	/* runc's mapping: [2, 262144] onto [1, 10000] */
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cg_blkio_to_io_weight(uint64_t w)
{
	/* [10, 1000] onto [1, 10000] */
	if (w < 10)
		w = 10;
	if (w > 1000)
		w = 1000;
	return 1 + ((w - 10) * 9999) / 990;
}

int cg_swap_to_v2(int64_t swap, int64_t limit, int64_t *out, struct vs_err *err)
{
	/* OCI's swap is memory+swap (v1 memsw); v2's memory.swap.max is swap alone */
	if (swap == -1) {
		*out = -1;
		return 0;
	}
	if (swap == 0) {
		*out = 0;
		return 0;
	}
	if (limit <= 0)
		return vs_failx(err, EINVAL,
				"cgroup: memory.swap: a swap limit needs a memory limit on cgroup v2");
	if (swap < limit)
		return vs_failx(err, EINVAL,
				"cgroup: memory.swap: %lld is below memory.limit %lld (swap counts memory+swap)",
				(long long)swap, (long long)limit);
	*out = swap - limit;
	return 0;
}

/* "0-3,5" */
static bool valid_cpu_list(const char *s)
{
	if (!*s)
		return true;   /* empty: inherit */
	bool digit = false;
	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if ((*p == ',' || *p == '-') && digit)
			digit = false;
		else
			return false;
	}
	return digit;
}

static int refuse(struct vs_err *err, const char *what, const char *why)
{
	return vs_failx(err, EOPNOTSUPP, "cgroup: %s: not supported on %s", what, why);
}

static int check_v2_only(const struct conf_resources *res, struct vs_err *err)
{
	const char *v2 = "cgroup v2";
	const char *rt = "cgroup v2 (cgroup2 has no realtime group scheduling)";
	if (res->cpu.realtime_runtime.set)
		return refuse(err, "cpu.realtimeRuntime", rt);
	if (res->cpu.realtime_period.set)
		return refuse(err, "cpu.realtimePeriod", rt);
	if (res->memory.swappiness.set)
		return refuse(err, "memory.swappiness", v2);
	if (res->memory.disable_oom_killer.set && res->memory.disable_oom_killer.v)
		return refuse(err, "memory.disableOOMKiller", v2);
	if (res->memory.kernel.set)
		return refuse(err, "memory.kernel", v2);
	if (res->memory.kernel_tcp.set)
		return refuse(err, "memory.kernelTCP", v2);
	if (res->memory.use_hierarchy.set && !res->memory.use_hierarchy.v)
		return refuse(err, "memory.useHierarchy=false", v2);
	if (res->network.class_id.set)
		return refuse(err, "network.classID", "cgroup v2 (no net_cls controller)");
	if (res->network.n_priorities)
		return refuse(err, "network.priorities", "cgroup v2 (no net_prio controller)");
	if (res->block_io.leaf_weight.set)
		return refuse(err, "blockIO.leafWeight", v2);
	for (size_t i = 0; i < res->block_io.n_weight_device; i++)
		if (res->block_io.weight_device[i].leaf_weight.set)
			return refuse(err, "blockIO.weightDevice.leafWeight", v2);
	return 0;
}

int cg_check_resources(const struct conf_resources *res, enum cg_mode mode, struct vs_err *err)
{
	if (res->cpu.cpus && !valid_cpu_list(res->cpu.cpus))
		return vs_failx(err, EINVAL, "cgroup: cpu.cpus \"%s\": not a cpu list", res->cpu.cpus);
	if (res->cpu.mems && !valid_cpu_list(res->cpu.mems))
		return vs_failx(err, EINVAL, "cgroup: cpu.mems \"%s\": not a node list", res->cpu.mems);
	if (res->memory.swappiness.set && res->memory.swappiness.v > 100)
		return vs_failx(err, EINVAL, "cgroup: memory.swappiness: %llu is not in 0..100",
				(unsigned long long)res->memory.swappiness.v);
	for (size_t i = 0; i < res->n_devices; i++) {
		const struct conf_dev_rule *d = &res->devices[i];
		if (d->type != 'a' && d->type != 'c' && d->type != 'b')
			return vs_failx(err, EINVAL, "cgroup: devices[%zu]: type '%c' is not a, b or c",
					i, d->type);
		if (d->access[strspn(d->access, "rwm")])
			return vs_failx(err, EINVAL, "cgroup: devices[%zu]: access \"%s\" is not a subset of rwm",
					i, d->access);
	}
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		const char *ps = res->hugepage_limits[i].page_size;
		if (!ps || !*ps || strchr(ps, '/'))
			return vs_failx(err, EINVAL, "cgroup: hugepageLimits[%zu]: invalid pageSize", i);
	}
	for (size_t i = 0; i < res->n_rdma; i++)
		if (!res->rdma[i].device || !*res->rdma[i].device || strpbrk(res->rdma[i].device, " \n"))
			return vs_failx(err, EINVAL, "cgroup: rdma[%zu]: invalid device name", i);
	if (mode == CG_MODE_V1) {
		if (res->n_unified)
			return vs_failx(err, EOPNOTSUPP,
					"cgroup: unified: cgroup v2 settings (\"%s\") are not supported on this host (cgroup v1)",
					res->unified[0].key ? res->unified[0].key : "");
		return 0;
	}
	for (size_t i = 0; i < res->n_unified; i++) {
		const char *k = res->unified[i].key;
		if (!k || !*k || strchr(k, '/') || k[0] == '.' || !strchr(k, '.') ||
		    !res->unified[i].value)
			return vs_failx(err, EINVAL, "cgroup: unified: invalid key \"%s\"", k ? k : "");
		if (!strncmp(k, "cgroup.", 7) && strcmp(k, "cgroup.max.depth") &&
		    strcmp(k, "cgroup.max.descendants") && strcmp(k, "cgroup.type"))
			return vs_failx(err, EINVAL, "cgroup: unified: \"%s\" may not be set", k);
	}
	return check_v2_only(res, err);
}
