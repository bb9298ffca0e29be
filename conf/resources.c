/* conf/resources.c: linux.resources, also the file of `update --resources`.
 * Ranges are those the cgroup files accept, so a bad value is refused here,
 * with its JSON path, rather than by a write to cgroupfs much later. */
#include <inttypes.h>
#include <string.h>

#include "internal.h"

#define I64_MAX INT64_MAX

void conf_resources_free(struct conf_resources *r)
{
	if (!r)
		return;
	free(r->devices);
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->block_io.weight_device);
	free(r->block_io.throttle_read_bps);
	free(r->block_io.throttle_write_bps);
	free(r->block_io.throttle_read_iops);
	free(r->block_io.throttle_write_iops);
	for (size_t i = 0; r->hugepage_limits && i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	conf_kv_free(r->network.priorities, r->network.n_priorities);
	for (size_t i = 0; r->rdma && i < r->n_rdma; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	conf_kv_free(r->unified, r->n_unified);
	memset(r, 0, sizeof(*r));
}

/* ---- devices ---- */

static int parse_dev_rule(struct jctx *c, const struct jpath *p, yajl_val v,
			  struct conf_dev_rule *d)
{
	struct jpath pa = JKEY(p, "allow"), pt = JKEY(p, "type"), pmaj = JKEY(p, "major");
	struct jpath pmin = JKEY(p, "minor"), pacc = JKEY(p, "access");
	_cleanup_free_ char *type = NULL, *access = NULL;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	if (!j_get(v, "allow"))
		return j_fail(c, &pa, "is required");
	d->major = d->minor = -1;
	if (j_bool(c, &pa, j_get(v, "allow"), &d->allow) < 0 ||
	    j_string(c, &pt, j_get(v, "type"), &type) < 0 ||
	    j_i64(c, &pmaj, j_get(v, "major"), -1, I64_MAX, &d->major) < 0 ||
	    j_i64(c, &pmin, j_get(v, "minor"), -1, I64_MAX, &d->minor) < 0 ||
	    j_string(c, &pacc, j_get(v, "access"), &access) < 0)
		return -EINVAL;

	d->type = 'a';
	if (type && *type) {
		if (strlen(type) != 1 || !strchr("acb", type[0]))
			return j_fail(c, &pt, "must be \"a\", \"c\" or \"b\", got \"%.20s\"", type);
		d->type = type[0];
	}
	/* absent or empty access means all of read, write and mknod */
	if (!access || !*access) {
		strcpy(d->access, "rwm");
		return 0;
	}
	size_t n = 0;
	for (const char *a = access; *a; a++) {
		if (!strchr("rwm", *a) || n == 3 || memchr(d->access, *a, n))
			return j_fail(c, &pacc, "must be letters of \"rwm\", each once, got \"%.20s\"",
				      access);
		d->access[n++] = *a;
	}
	d->access[n] = '\0';
	return 0;
}

static int parse_devices(struct jctx *c, const struct jpath *p, yajl_val v,
			 struct conf_resources *r)
{
	if (!v)
		return 0;
	if (j_want_array(c, p, v) < 0)
		return -EINVAL;
	r->n_devices = j_array_len(v);
	r->devices = vs_xcalloc(r->n_devices, sizeof(*r->devices));
	for (size_t i = 0; i < r->n_devices; i++) {
		struct jpath pi = JIDX(p, i);
		if (parse_dev_rule(c, &pi, j_array_at(v, i), &r->devices[i]) < 0)
			return -EINVAL;
	}
	return 0;
}

/* ---- memory, cpu, pids ---- */

static int parse_memory(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_resources *r)
{
	if (!v)
		return 0;
	struct jpath pl = JKEY(p, "limit"), pr = JKEY(p, "reservation"), ps = JKEY(p, "swap");
	struct jpath pk = JKEY(p, "kernel"), pkt = JKEY(p, "kernelTCP");
	struct jpath psw = JKEY(p, "swappiness"), pdo = JKEY(p, "disableOOMKiller");
	struct jpath puh = JKEY(p, "useHierarchy"), pcb = JKEY(p, "checkBeforeUpdate");
	/* -1 is "unlimited"; other negative values mean nothing */
	if (j_want_object(c, p, v) < 0 ||
	    j_opt_i64(c, &pl, j_get(v, "limit"), -1, I64_MAX, &r->memory.limit) < 0 ||
	    j_opt_i64(c, &pr, j_get(v, "reservation"), -1, I64_MAX, &r->memory.reservation) < 0 ||
	    j_opt_i64(c, &ps, j_get(v, "swap"), -1, I64_MAX, &r->memory.swap) < 0 ||
	    j_opt_i64(c, &pk, j_get(v, "kernel"), -1, I64_MAX, &r->memory.kernel) < 0 ||
	    j_opt_i64(c, &pkt, j_get(v, "kernelTCP"), -1, I64_MAX, &r->memory.kernel_tcp) < 0 ||
	    j_opt_u64(c, &psw, j_get(v, "swappiness"), 100, &r->memory.swappiness) < 0 ||
	    j_opt_bool(c, &pdo, j_get(v, "disableOOMKiller"), &r->memory.disable_oom_killer) < 0 ||
	    j_opt_bool(c, &puh, j_get(v, "useHierarchy"), &r->memory.use_hierarchy) < 0 ||
	    j_opt_bool(c, &pcb, j_get(v, "checkBeforeUpdate"), &r->memory.check_before_update) < 0)
		return -EINVAL;
	return 0;
}

/* "0-3,7" as cpuset.cpus and cpuset.mems take it; empty means unset. */
static int cpu_list(struct jctx *c, const struct jpath *p, char *s)
{
	for (const char *q = s; q && *q; q++)
		if (!strchr("0123456789,-", *q))
			return j_fail(c, p, "must be a list such as \"0-3,7\", got \"%.40s\"", s);
	return 0;
}

static int parse_cpu(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_resources *r)
{
	if (!v)
		return 0;
	struct jpath psh = JKEY(p, "shares"), pq = JKEY(p, "quota"), pb = JKEY(p, "burst");
	struct jpath ppe = JKEY(p, "period"), prr = JKEY(p, "realtimeRuntime");
	struct jpath prp = JKEY(p, "realtimePeriod"), pc = JKEY(p, "cpus");
	struct jpath pm = JKEY(p, "mems"), pid = JKEY(p, "idle");
	if (j_want_object(c, p, v) < 0 ||
	    j_opt_u64(c, &psh, j_get(v, "shares"), UINT64_MAX, &r->cpu.shares) < 0 ||
	    j_opt_i64(c, &pq, j_get(v, "quota"), -1, I64_MAX, &r->cpu.quota) < 0 ||
	    j_opt_u64(c, &pb, j_get(v, "burst"), UINT64_MAX, &r->cpu.burst) < 0 ||
	    j_opt_u64(c, &ppe, j_get(v, "period"), UINT64_MAX, &r->cpu.period) < 0 ||
	    j_opt_i64(c, &prr, j_get(v, "realtimeRuntime"), -1, I64_MAX,
		      &r->cpu.realtime_runtime) < 0 ||
	    j_opt_u64(c, &prp, j_get(v, "realtimePeriod"), UINT64_MAX, &r->cpu.realtime_period) < 0 ||
	    j_string(c, &pc, j_get(v, "cpus"), &r->cpu.cpus) < 0 ||
	    j_string(c, &pm, j_get(v, "mems"), &r->cpu.mems) < 0 ||
	    j_opt_i64(c, &pid, j_get(v, "idle"), 0, 1, &r->cpu.idle) < 0 ||
	    cpu_list(c, &pc, r->cpu.cpus) < 0 || cpu_list(c, &pm, r->cpu.mems) < 0)
		return -EINVAL;
	/* cpu.shares is 2..262144; 0 is what Go writes for "not set" */
	if (r->cpu.shares.set && r->cpu.shares.v == 0)
		r->cpu.shares.set = false;
	else if (r->cpu.shares.set && (r->cpu.shares.v < 2 || r->cpu.shares.v > 262144))
		return j_fail(c, &psh, "must be between 2 and 262144, got %" PRIu64, r->cpu.shares.v);
	return 0;
}

static int parse_pids(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_resources *r)
{
	if (!v)
		return 0;
	struct jpath pl = JKEY(p, "limit");
	if (j_want_object(c, p, v) < 0 ||
	    j_opt_i64(c, &pl, j_get(v, "limit"), -1, I64_MAX, &r->pids.limit) < 0)
		return -EINVAL;
	return 0;
}

/* ---- blockIO ---- */

static int blkio_weight(struct jctx *c, const struct jpath *p, yajl_val v, struct opt_u64 *out)
{
	int r = j_opt_u64(c, p, v, UINT64_MAX, out);
	if (r > 0 && (out->v < 10 || out->v > 1000))
		return j_fail(c, p, "must be between 10 and 1000, got %" PRIu64, out->v);
	return r;
}

static int parse_blkio_devs(struct jctx *c, const struct jpath *p, yajl_val v, bool weights,
			    struct conf_blkio_dev **out, size_t *n)
{
	if (!v)
		return 0;
	if (j_want_array(c, p, v) < 0)
		return -EINVAL;
	*n = j_array_len(v);
	*out = vs_xcalloc(*n, sizeof(**out));
	for (size_t i = 0; i < *n; i++) {
		struct conf_blkio_dev *d = &(*out)[i];
		struct jpath pi = JIDX(p, i);
		struct jpath pmaj = JKEY(&pi, "major"), pmin = JKEY(&pi, "minor");
		struct jpath pw = JKEY(&pi, "weight"), plw = JKEY(&pi, "leafWeight");
		struct jpath pr = JKEY(&pi, "rate");
		yajl_val e = j_array_at(v, i);
		if (j_want_object(c, &pi, e) < 0)
			return -EINVAL;
		if (!j_get(e, "major"))
			return j_fail(c, &pmaj, "is required");
		if (!j_get(e, "minor"))
			return j_fail(c, &pmin, "is required");
		if (j_i64(c, &pmaj, j_get(e, "major"), 0, I64_MAX, &d->major) < 0 ||
		    j_i64(c, &pmin, j_get(e, "minor"), 0, I64_MAX, &d->minor) < 0)
			return -EINVAL;
		if (weights) {
			if (blkio_weight(c, &pw, j_get(e, "weight"), &d->weight) < 0 ||
			    blkio_weight(c, &plw, j_get(e, "leafWeight"), &d->leaf_weight) < 0)
				return -EINVAL;
			continue;
		}
		if (!j_get(e, "rate"))
			return j_fail(c, &pr, "is required");
		if (j_u64(c, &pr, j_get(e, "rate"), UINT64_MAX, &d->rate) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_block_io(struct jctx *c, const struct jpath *p, yajl_val v,
			  struct conf_resources *r)
{
	if (!v)
		return 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	struct jpath pw = JKEY(p, "weight"), plw = JKEY(p, "leafWeight");
	struct jpath pwd = JKEY(p, "weightDevice");
	struct jpath prb = JKEY(p, "throttleReadBpsDevice"), pwb = JKEY(p, "throttleWriteBpsDevice");
	struct jpath pri = JKEY(p, "throttleReadIOPSDevice");
	struct jpath pwi = JKEY(p, "throttleWriteIOPSDevice");
	typeof(r->block_io) *b = &r->block_io;
	if (blkio_weight(c, &pw, j_get(v, "weight"), &b->weight) < 0 ||
	    blkio_weight(c, &plw, j_get(v, "leafWeight"), &b->leaf_weight) < 0 ||
	    parse_blkio_devs(c, &pwd, j_get(v, "weightDevice"), true,
			     &b->weight_device, &b->n_weight_device) < 0 ||
	    parse_blkio_devs(c, &prb, j_get(v, "throttleReadBpsDevice"), false,
			     &b->throttle_read_bps, &b->n_throttle_read_bps) < 0 ||
	    parse_blkio_devs(c, &pwb, j_get(v, "throttleWriteBpsDevice"), false,
			     &b->throttle_write_bps, &b->n_throttle_write_bps) < 0 ||
	    parse_blkio_devs(c, &pri, j_get(v, "throttleReadIOPSDevice"), false,
			     &b->throttle_read_iops, &b->n_throttle_read_iops) < 0 ||
	    parse_blkio_devs(c, &pwi, j_get(v, "throttleWriteIOPSDevice"), false,
			     &b->throttle_write_iops, &b->n_throttle_write_iops) < 0)
		return -EINVAL;
	return 0;
}

/* ---- hugepages, network, rdma, unified ---- */

static int parse_hugepages(struct jctx *c, const struct jpath *p, yajl_val v,
			   struct conf_resources *r)
{
	if (!v)
		return 0;
	if (j_want_array(c, p, v) < 0)
		return -EINVAL;
	r->n_hugepage_limits = j_array_len(v);
	r->hugepage_limits = vs_xcalloc(r->n_hugepage_limits, sizeof(*r->hugepage_limits));
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		struct conf_hugepage *h = &r->hugepage_limits[i];
		struct jpath pi = JIDX(p, i);
		struct jpath pps = JKEY(&pi, "pageSize"), pl = JKEY(&pi, "limit");
		yajl_val e = j_array_at(v, i);
		if (j_want_object(c, &pi, e) < 0 ||
		    j_string_req(c, &pps, j_get(e, "pageSize"), &h->page_size) < 0)
			return -EINVAL;
		/* "2MB", "1GB": it becomes part of a cgroupfs file name */
		size_t d = strspn(h->page_size, "0123456789");
		if (d == 0 || strlen(h->page_size + d) != 2 || !strchr("KMGT", h->page_size[d]) ||
		    h->page_size[d + 1] != 'B')
			return j_fail(c, &pps, "must look like \"2MB\", got \"%.20s\"", h->page_size);
		if (!j_get(e, "limit"))
			return j_fail(c, &pl, "is required");
		if (j_u64(c, &pl, j_get(e, "limit"), UINT64_MAX, &h->limit) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_network(struct jctx *c, const struct jpath *p, yajl_val v,
			 struct conf_resources *r)
{
	if (!v)
		return 0;
	struct jpath pcl = JKEY(p, "classID"), ppr = JKEY(p, "priorities");
	if (j_want_object(c, p, v) < 0 ||
	    j_opt_u64(c, &pcl, j_get(v, "classID"), UINT32_MAX, &r->network.class_id) < 0)
		return -EINVAL;
	yajl_val pr = j_get(v, "priorities");
	if (!pr)
		return 0;
	if (j_want_array(c, &ppr, pr) < 0)
		return -EINVAL;
	r->network.n_priorities = j_array_len(pr);
	r->network.priorities = vs_xcalloc(r->network.n_priorities, sizeof(struct conf_kv));
	for (size_t i = 0; i < r->network.n_priorities; i++) {
		struct conf_kv *kv = &r->network.priorities[i];
		struct jpath pi = JIDX(&ppr, i);
		struct jpath pn = JKEY(&pi, "name"), pp = JKEY(&pi, "priority");
		yajl_val e = j_array_at(pr, i);
		uint32_t prio;
		if (j_want_object(c, &pi, e) < 0 ||
		    j_string_req(c, &pn, j_get(e, "name"), &kv->key) < 0)
			return -EINVAL;
		if (!j_get(e, "priority"))
			return j_fail(c, &pp, "is required");
		if (j_u32(c, &pp, j_get(e, "priority"), &prio) < 0)
			return -EINVAL;
		kv->value = vs_xasprintf("%u", prio);
	}
	return 0;
}

static int parse_rdma(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_resources *r)
{
	if (!v)
		return 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	r->n_rdma = v->u.object.len;
	r->rdma = vs_xcalloc(r->n_rdma, sizeof(*r->rdma));
	for (size_t i = 0; i < r->n_rdma; i++) {
		struct conf_rdma *d = &r->rdma[i];
		struct jpath pk = JKEY(p, v->u.object.keys[i]);
		struct jpath ph = JKEY(&pk, "hcaHandles"), po = JKEY(&pk, "hcaObjects");
		yajl_val e = v->u.object.values[i];
		d->device = vs_xstrdup(v->u.object.keys[i]);
		if (j_want_object(c, &pk, e) < 0 ||
		    j_opt_u64(c, &ph, j_get(e, "hcaHandles"), UINT32_MAX, &d->hca_handles) < 0 ||
		    j_opt_u64(c, &po, j_get(e, "hcaObjects"), UINT32_MAX, &d->hca_objects) < 0)
			return -EINVAL;
	}
	return 0;
}

/* unified keys name files in the cgroup directory: "memory.high" is fine,
 * "../../cgroup.procs" must never get as far as an openat(). */
static int parse_unified(struct jctx *c, const struct jpath *p, yajl_val v,
			 struct conf_resources *r)
{
	if (j_string_map(c, p, v, &r->unified, &r->n_unified) < 0)
		return -EINVAL;
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *k = r->unified[i].key;
		struct jpath pk = JKEY(p, k);
		if (!*k || strchr(k, '/') || k[0] == '.')
			return j_fail(c, &pk, "must name a file of the cgroup directory");
	}
	return 0;
}

int conf_resources_parse(struct jctx *c, const struct jpath *p, yajl_val v,
			 struct conf_resources *out)
{
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	struct jpath pd = JKEY(p, "devices"), pm = JKEY(p, "memory"), pc = JKEY(p, "cpu");
	struct jpath pp = JKEY(p, "pids"), pb = JKEY(p, "blockIO");
	struct jpath ph = JKEY(p, "hugepageLimits"), pn = JKEY(p, "network");
	struct jpath pr = JKEY(p, "rdma"), pu = JKEY(p, "unified");
	if (parse_devices(c, &pd, j_get(v, "devices"), out) < 0 ||
	    parse_memory(c, &pm, j_get(v, "memory"), out) < 0 ||
	    parse_cpu(c, &pc, j_get(v, "cpu"), out) < 0 ||
	    parse_pids(c, &pp, j_get(v, "pids"), out) < 0 ||
	    parse_block_io(c, &pb, j_get(v, "blockIO"), out) < 0 ||
	    parse_hugepages(c, &ph, j_get(v, "hugepageLimits"), out) < 0 ||
	    parse_network(c, &pn, j_get(v, "network"), out) < 0 ||
	    parse_rdma(c, &pr, j_get(v, "rdma"), out) < 0 ||
	    parse_unified(c, &pu, j_get(v, "unified"), out) < 0)
		return -EINVAL;
	return 0;
}

int conf_parse_resources(const char *json, size_t len, const char *what,
			 struct conf_resources *out, struct vs_err *err)
{
	struct jctx c = { .what = what ? what : "resources.json", .err = err };
	struct jpath root = JROOT;
	yajl_val tree = NULL;
	memset(out, 0, sizeof(*out));
	int r = j_parse_tree(&c, json, len, &tree);
	if (r < 0)
		return r;
	r = conf_resources_parse(&c, &root, tree, out);
	yajl_tree_free(tree);
	if (r < 0)
		conf_resources_free(out);
	return r;
}
