/* cgroups: what the files of the module share. Not for other modules. */
#ifndef VS_CGROUPS_INTERNAL_H
#define VS_CGROUPS_INTERNAL_H

#include "cgroups.h"

#include <stdio.h>

/* The v1 controllers we know, in the order we make and enter them. */
enum cg_v1_ctl {
	CG1_CPU, CG1_CPUACCT, CG1_CPUSET, CG1_MEMORY, CG1_DEVICES, CG1_FREEZER,
	CG1_BLKIO, CG1_PIDS, CG1_HUGETLB, CG1_NET_CLS, CG1_NET_PRIO, CG1_RDMA,
	CG1__MAX
};

/* The mount point of the cgroup filesystems: /sys/fs/cgroup, or
 * $VS_CGROUP_ROOT. */
const char *cg_mount_root(void);
const char *cg_v1_name(enum cg_v1_ctl c);

/* The directories a cgroup lives in: on v2 one; on v1 one per distinct
 * hierarchy (cpu and cpuacct may share one) plus the controller-less cgroup2
 * of a hybrid host ("unified"), which gives us PSI. */
struct cg_dirs {
	int n;
	struct cg_dir {
		char path[PATH_MAX];  /* absolute, with the cgroup's path */
		char root[PATH_MAX];  /* the hierarchy's mount point */
		unsigned ctls;        /* 1 << CG1_*; 0 for the unified one */
		bool unified;         /* cgroup2 (the v2 root, or hybrid "unified") */
	} d[CG1__MAX + 1];
};

/* Fills dirs for cg. On v1 only mounted hierarchies are listed; mounted is
 * 1 << CG1_* of what the host has. */
int cg_list_dirs(const struct vs_cgroup *cg, struct cg_dirs *dirs, unsigned *mounted);
/* The directory that holds controller c on v1 (NULL if not mounted). */
const char *cg_v1_dir(const struct cg_dirs *dirs, enum cg_v1_ctl c);
/* The cgroup2 directory (v2, or hybrid "unified"); NULL if none. */
const char *cg_unified_dir(const struct cg_dirs *dirs);
/* A directory that lists the cgroup's processes (v2 dir, or v1 pids/freezer/..). */
const char *cg_main_dir(const struct cg_dirs *dirs);

/* File helpers; errors are formatted as "cgroup: write FILE=VALUE: EBUSY (..)". */
int cg_write(struct vs_err *err, const char *dir, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int cg_read(const char *dir, const char *file, char **out);
bool cg_has_file(const char *dir, const char *file);
/* Reads one unsigned number ("max" is UINT64_MAX). */
int cg_read_u64(const char *dir, const char *file, uint64_t *v);
/* Finds "key N" in a flat-keyed file (memory.stat, cpu.stat, memory.events). */
int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *v);
int cg_keyed(const char *text, const char *key, uint64_t *v);

/* Checks in a resource set that need no host: returns -EINVAL with a message. */
int cg_check_resources(const struct conf_resources *res, enum cg_mode mode, struct vs_err *err);

/* Backends: apply res to the cgroup in dirs. */
int cg_v1_apply(const struct cg_dirs *dirs, unsigned mounted, const struct conf_resources *res,
		bool update, struct vs_err *err);
int cg_v2_apply(const char *dir, const struct conf_resources *res, bool update,
		struct vs_err *err);
/* rdma.max of dir (v1 or v2, same format) for every device of res; a device
 * the kernel does not list in rdma.max is refused naming the ones it has. */
int cg_rdma_apply(const char *dir, const struct conf_resources *res, struct vs_err *err);
/* v1: the controllers res needs (1 << CG1_*). */
unsigned cg_v1_needed(const struct conf_resources *res);
/* Is bfq the active scheduler of disk maj:min (major < 0: of any disk)? */
bool cg_bfq_active(int64_t major, int64_t minor);
/* v1: after mkdir, fills empty cpuset.cpus/mems from the parent. */
int cg_v1_cpuset_inherit(const char *dir, struct vs_err *err);
/* hugepageLimits on a cgroup2 directory (v2, or a hybrid host's unified
 * cgroup when hugetlb is not a v1 hierarchy there). */
int cg_v2_hugetlb_apply(const char *dir, const struct conf_resources *res, struct vs_err *err);
/* hybrid: v1 controllers the config needs that the host has on its cgroup2
 * tree instead (1 << CG1_*; only hugetlb is handled so); 0 elsewhere. */
unsigned cg_hybrid_on_unified(const struct cg_dirs *dirs, unsigned missing);
/* hybrid: enables those in cgroup.subtree_control of every level above the
 * unified cgroup dir, from the hierarchy's root down. */
int cg_hybrid_enable(const struct cg_dirs *dirs, unsigned ctls, struct vs_err *err);
/* hybrid: after a destroy, takes hugetlb out of the unified root's
 * subtree_control again when no cgroup is left below the root. */
void cg_hybrid_release(const struct cg_dirs *dirs);
/* v2: the controllers to enable for res ("cpu", "memory", ...), as a mask
 * over cg_v2_ctl_names. */
extern const char *const cg_v2_ctl_names[];
unsigned cg_v2_needed(const struct conf_resources *res);
/* v2: enables in parent's cgroup.subtree_control what it offers of the
 * known controllers; failing to enable one of `need` is an error. */
int cg_v2_enable_controllers(const char *parent, unsigned need, struct vs_err *err);

/* devices on cgroup2: builds the eBPF program for rules and attaches it to
 * the cgroup directory (replacing the one we attached before). */
int cg_bpf_devices_apply(const char *dir, const struct conf_dev_rule *rules, size_t n,
			 struct vs_err *err);
/* Builds the instructions (exposed for tests). Returns the count; *out malloc'd. */
struct bpf_insn;
int cg_bpf_devices_build(const struct conf_dev_rule *rules, size_t n, struct bpf_insn **out);

/* shares (2..262144) to cpu.weight (1..10000), runc's formula. */
uint64_t cg_shares_to_weight(uint64_t shares);
/* blkio.weight (10..1000) to io.weight (1..10000). */
uint64_t cg_blkio_to_io_weight(uint64_t w);
/* OCI memory.swap (memory+swap) to memory.swap.max; -1 = max. */
int cg_swap_to_v2(int64_t swap, int64_t limit, int64_t *out, struct vs_err *err);

#endif
