/* cgroups: the OCI resources on cgroup v2. */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum { V2_CPUSET, V2_CPU, V2_IO, V2_MEMORY, V2_HUGETLB, V2_PIDS, V2_RDMA, V2_MISC, V2__MAX };
const char *const cg_v2_ctl_names[] = {
	"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc", NULL
};

static bool has_blkio(const struct conf_resources *r)
{
	return r->block_io.weight.set || r->block_io.leaf_weight.set ||
	       r->block_io.n_weight_device || r->block_io.n_throttle_read_bps ||
	       r->block_io.n_throttle_write_bps || r->block_io.n_throttle_read_iops ||
	       r->block_io.n_throttle_write_iops;
}

unsigned cg_v2_needed(const struct conf_resources *r)
{
	unsigned m = 0;
	if ((r->cpu.cpus && *r->cpu.cpus) || (r->cpu.mems && *r->cpu.mems))
		m |= 1u << V2_CPUSET;
	if (r->cpu.shares.set || r->cpu.quota.set || r->cpu.period.set || r->cpu.burst.set ||
	    r->cpu.idle.set)
		m |= 1u << V2_CPU;
	if (has_blkio(r))
		m |= 1u << V2_IO;
	if (r->memory.limit.set || r->memory.reservation.set || r->memory.swap.set)
		m |= 1u << V2_MEMORY;
	if (r->n_hugepage_limits)
		m |= 1u << V2_HUGETLB;
	if (r->pids.limit.set)
		m |= 1u << V2_PIDS;
	if (r->n_rdma)
		m |= 1u << V2_RDMA;
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *k = r->unified[i].key;
		for (int c = 0; k && c < V2__MAX; c++) {
			size_t l = strlen(cg_v2_ctl_names[c]);
			if (!strncmp(k, cg_v2_ctl_names[c], l) && k[l] == '.')
				m |= 1u << c;
		}
	}
	return m;
}

/* Is word in the space-separated list? */
static bool in_list(const char *list, const char *word)
{
	size_t l = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += l)
		if ((p == list || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\n' || !p[l]))
			return true;
	return false;
}

int cg_v2_enable_controllers(const char *parent, unsigned need, struct vs_err *err)
{
	_cleanup_free_ char *avail = NULL, *enabled = NULL;
	int r = cg_read(parent, "cgroup.controllers", &avail);
	if (r < 0)
		return vs_fail(err, -r, "cgroup: read %s/cgroup.controllers", parent);
	if (cg_read(parent, "cgroup.subtree_control", &enabled) < 0)
		enabled = vs_xstrdup("");
	for (int c = 0; c < V2__MAX; c++) {
		const char *name = cg_v2_ctl_names[c];
		bool needed = need & (1u << c);
		if (in_list(enabled, name))
			continue;
		if (!in_list(avail, name)) {
			if (needed)
				return vs_failx(err, EOPNOTSUPP,
						"cgroup: the %s controller is not available on this host (not in %s/cgroup.controllers)",
						name, parent);
			continue;
		}
		r = cg_write(needed ? err : NULL, parent, "cgroup.subtree_control", "+%s", name);
		if (r < 0 && needed)
			return vs_wrap(err, "%s", parent);
	}
	return 0;
}

/* "max" for negative, the number otherwise */
static const char *num_or_max(char *buf, size_t n, int64_t v)
{
	if (v < 0)
		return "max";
	snprintf(buf, n, "%" PRId64, v);
	return buf;
}

static int apply_cpu(const char *dir, const struct conf_resources *res, struct vs_err *err)
{
	int r;
	if (res->cpu.cpus && *res->cpu.cpus &&
	    (r = cg_write(err, dir, "cpuset.cpus", "%s", res->cpu.cpus)) < 0)
		return r;
	if (res->cpu.mems && *res->cpu.mems &&
	    (r = cg_write(err, dir, "cpuset.mems", "%s", res->cpu.mems)) < 0)
		return r;
	if (res->cpu.shares.set && res->cpu.shares.v &&
	    (r = cg_write(err, dir, "cpu.weight", "%" PRIu64,
			  cg_shares_to_weight(res->cpu.shares.v))) < 0)
		return r;
	if (res->cpu.quota.set || (res->cpu.period.set && res->cpu.period.v)) {
		/* keep whichever half is not given */
		_cleanup_free_ char *cur = NULL;
		char q[32] = "max";
		unsigned long long per = 100000;
		if (cg_read(dir, "cpu.max", &cur) == 0)
			sscanf(cur, "%31s %llu", q, &per);
		if (res->cpu.quota.set)
			num_or_max(q, sizeof(q), res->cpu.quota.v > 0 ? res->cpu.quota.v : -1);
		if (res->cpu.period.set && res->cpu.period.v)
			per = res->cpu.period.v;
		if ((r = cg_write(err, dir, "cpu.max", "%s %llu", q, per)) < 0)
			return r;
	}
	if (res->cpu.burst.set) {
		if (!cg_has_file(dir, "cpu.max.burst"))
			return vs_failx(err, EOPNOTSUPP,
					"cgroup: cpu.burst: not supported on this host (no cpu.max.burst)");
		if ((r = cg_write(err, dir, "cpu.max.burst", "%" PRIu64, res->cpu.burst.v)) < 0)
			return r;
	}
	if (res->cpu.idle.set) {
		if (!cg_has_file(dir, "cpu.idle"))
			return vs_failx(err, EOPNOTSUPP, "cgroup: cpu.idle: not supported on this host (no cpu.idle)");
		if ((r = cg_write(err, dir, "cpu.idle", "%" PRId64, res->cpu.idle.v)) < 0)
			return r;
	}
	return 0;
}

static int apply_memory(const char *dir, const struct conf_resources *res, bool update,
			struct vs_err *err)
{
	int r;
	char b[32];
	int64_t limit = res->memory.limit.set ? res->memory.limit.v : 0;
	if (res->memory.limit.set && limit > 0 && update && res->memory.check_before_update.set &&
	    res->memory.check_before_update.v) {
		uint64_t cur;
		if (cg_read_u64(dir, "memory.current", &cur) == 0 && cur > (uint64_t)limit)
			return vs_failx(err, EBUSY,
					"cgroup: memory.limit: %lld is below the current usage %llu",
					(long long)limit, (unsigned long long)cur);
	}
	if (res->memory.limit.set && limit != 0 &&
	    (r = cg_write(err, dir, "memory.max", "%s", num_or_max(b, sizeof(b), limit))) < 0)
		return r;
	if (res->memory.swap.set) {
		int64_t lim = limit;
		if (!res->memory.limit.set) {
			/* update of swap alone: against the limit in place */
			uint64_t cur;
			lim = cg_read_u64(dir, "memory.max", &cur) == 0 && cur != UINT64_MAX ?
			      (int64_t)cur : -1;
		}
		int64_t sw;
		if (lim < 0 && res->memory.swap.v == 0)
			sw = -1;
		else if ((r = cg_swap_to_v2(res->memory.swap.v, lim, &sw, err)) < 0)
			return r;
		if (res->memory.swap.v != 0 || lim < 0) {
			if (!cg_has_file(dir, "memory.swap.max"))
				return vs_failx(err, EOPNOTSUPP,
						"cgroup: memory.swap: not supported on this host (no memory.swap.max)");
			if ((r = cg_write(err, dir, "memory.swap.max", "%s",
					  num_or_max(b, sizeof(b), sw))) < 0)
				return r;
		}
	}
	if (res->memory.reservation.set && res->memory.reservation.v != 0 &&
	    (r = cg_write(err, dir, "memory.low", "%s",
			  num_or_max(b, sizeof(b), res->memory.reservation.v))) < 0)
		return r;
	return 0;
}

static int apply_io_weight(const char *dir, const struct conf_resources *res, struct vs_err *err)
{
	const struct conf_blkio_dev *wd = res->block_io.weight_device;
	if (!res->block_io.weight.set && !res->block_io.n_weight_device)
		return 0;
	/* BFQ's file where a disk uses BFQ; io.weight (iocost) otherwise */
	bool bfq = cg_has_file(dir, "io.bfq.weight") &&
		   (cg_bfq_active(-1, 0) || !cg_has_file(dir, "io.weight"));
	const char *file = bfq ? "io.bfq.weight" : "io.weight";
	if (!bfq && !cg_has_file(dir, "io.weight"))
		return vs_failx(err, EOPNOTSUPP,
				"cgroup: blockIO.weight: not supported on this host (no io.weight or io.bfq.weight)");
	int r;
	if (res->block_io.weight.set && res->block_io.weight.v) {
		uint64_t w = bfq ? res->block_io.weight.v : cg_blkio_to_io_weight(res->block_io.weight.v);
		if ((r = cg_write(err, dir, file, "default %" PRIu64, w)) < 0)
			return r;
	}
	for (size_t i = 0; i < res->block_io.n_weight_device; i++) {
		if (!wd[i].weight.set)
			continue;
		uint64_t w = bfq ? wd[i].weight.v : cg_blkio_to_io_weight(wd[i].weight.v);
		if ((r = cg_write(err, dir, file, "%lld:%lld %" PRIu64, (long long)wd[i].major,
				  (long long)wd[i].minor, w)) < 0)
			return r;
	}
	return 0;
}

static int apply_io(const char *dir, const struct conf_resources *res, struct vs_err *err)
{
	int r = apply_io_weight(dir, res, err);
	if (r < 0)
		return r;
	const struct {
		const struct conf_blkio_dev *v;
		size_t n;
		const char *key;
	} t[] = {
		{ res->block_io.throttle_read_bps, res->block_io.n_throttle_read_bps, "rbps" },
		{ res->block_io.throttle_write_bps, res->block_io.n_throttle_write_bps, "wbps" },
		{ res->block_io.throttle_read_iops, res->block_io.n_throttle_read_iops, "riops" },
		{ res->block_io.throttle_write_iops, res->block_io.n_throttle_write_iops, "wiops" },
	};
	for (size_t k = 0; k < VS_ARRAY_SIZE(t); k++)
		for (size_t i = 0; i < t[k].n; i++) {
			char b[32];
			const struct conf_blkio_dev *d = &t[k].v[i];
			if (d->rate)
				snprintf(b, sizeof(b), "%" PRIu64, d->rate);
			else
				snprintf(b, sizeof(b), "max");
			if ((r = cg_write(err, dir, "io.max", "%lld:%lld %s=%s", (long long)d->major,
					  (long long)d->minor, t[k].key, b)) < 0)
				return r;
		}
	return 0;
}

/* hugetlb.<size>.max and, where the kernel has it (5.7+), .rsvd.max: the
 * first limits pages faulted in, the second pages reserved at mmap, so with
 * both an mmap beyond the limit fails at once rather than SIGBUS later. */
int cg_v2_hugetlb_apply(const char *dir, const struct conf_resources *res, struct vs_err *err)
{
	int r;
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		const struct conf_hugepage *h = &res->hugepage_limits[i];
		char f[128], rf[128];
		snprintf(f, sizeof(f), "hugetlb.%s.max", h->page_size);
		snprintf(rf, sizeof(rf), "hugetlb.%s.rsvd.max", h->page_size);
		if (!cg_has_file(dir, f))
			return vs_failx(err, EOPNOTSUPP,
					"cgroup: hugepageLimits: %s: not supported on this host (no %s)",
					h->page_size, f);
		if ((r = cg_write(err, dir, f, "%" PRIu64, h->limit)) < 0)
			return r;
		if (cg_has_file(dir, rf) && (r = cg_write(err, dir, rf, "%" PRIu64, h->limit)) < 0)
			return r;
	}
	return 0;
}

static int apply_hugetlb_rdma(const char *dir, const struct conf_resources *res,
			      struct vs_err *err)
{
	int r;
	if ((r = cg_v2_hugetlb_apply(dir, res, err)) < 0)
		return r;
	if (res->n_rdma && !cg_has_file(dir, "rdma.max"))
		return vs_failx(err, EOPNOTSUPP, "cgroup: rdma: not supported on this host (no rdma.max)");
	if ((r = cg_rdma_apply(dir, res, err)) < 0)
		return r;
	return 0;
}

int cg_v2_apply(const char *dir, const struct conf_resources *res, bool update,
		struct vs_err *err)
{
	int r;
	char b[32];
	if ((r = apply_cpu(dir, res, err)) < 0)
		return r;
	if ((r = apply_memory(dir, res, update, err)) < 0)
		return r;
	if (res->pids.limit.set && res->pids.limit.v != 0 &&
	    (r = cg_write(err, dir, "pids.max", "%s",
			  num_or_max(b, sizeof(b), res->pids.limit.v))) < 0)
		return r;
	if ((r = apply_io(dir, res, err)) < 0)
		return r;
	if ((r = apply_hugetlb_rdma(dir, res, err)) < 0)
		return r;
	for (size_t i = 0; i < res->n_unified; i++) {
		const struct conf_kv *kv = &res->unified[i];
		if (!cg_has_file(dir, kv->key))
			return vs_failx(err, EOPNOTSUPP,
					"cgroup: unified: %s: not supported on this host (no such file; controller not available?)",
					kv->key);
		if ((r = cg_write(err, dir, kv->key, "%s", kv->value)) < 0)
			return r;
	}
	if (res->n_devices && (r = cg_bpf_devices_apply(dir, res->devices, res->n_devices, err)) < 0)
		return r;
	return 0;
}
