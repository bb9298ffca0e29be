/* cgroups: the OCI resource model applied to cgroup v2, with a v1 backend for
 * hybrid hosts. The backend is chosen by looking at the host. Only this module
 * touches cgroupfs. */
#ifndef VS_CGROUPS_H
#define VS_CGROUPS_H

#include "../conf/conf.h"
#include <limits.h>

enum cg_mode {
	CG_MODE_V1 = 1,        /* legacy or hybrid: controllers on v1 hierarchies */
	CG_MODE_V2 = 2,        /* unified: every controller on cgroup2 */
};

/* A server's cgroup: its path relative to each hierarchy's root, e.g.
 * "/vsrun/abc". Enough to find it again from the state file. */
struct vs_cgroup {
	enum cg_mode mode;
	char path[PATH_MAX];
};

/* Looks at /sys/fs/cgroup (VS_CGROUP_ROOT in the environment overrides the
 * mount point, for tests). */
int cg_detect_mode(enum cg_mode *mode, struct vs_err *err);

/* True when the host has the cgroup2 hierarchy mounted: it is v2, or a
 * hybrid host with cgroup2 at <mount point>/unified. */
bool cg_has_cgroup2(void);

/* Resolves linux.cgroupsPath (absolute, relative or NULL) for container id
 * into cg->path. Relative paths and the default go under "/vsrun/". */
int cg_resolve(const char *cgroups_path, const char *id, struct vs_cgroup *cg,
	       struct vs_err *err);

/* The cgroup called name directly below cg, into *child: a server whose
 * limits sit on cg while its processes and cgroup namespace live below it
 * (what the runtime calls the delegated cgroup). name is one path
 * component: not empty, no '/', not "." or "..", at most 64 bytes. */
int cg_child(const struct vs_cgroup *cg, const char *name, struct vs_cgroup *child,
	     struct vs_err *err);

/* Makes the cgroup (in every v1 hierarchy, or on v2 with controllers enabled
 * down the path) and applies res (may be NULL). Refuses, with a clear error,
 * a setting the host cannot honour. On failure nothing is left behind. */
int cg_create(struct vs_cgroup *cg, const struct conf_resources *res, struct vs_err *err);

/* Makes inner, a cgroup below outer (cg_child), with no limits of its own:
 * on v1 in every hierarchy outer exists in (so the processes placed in it
 * are under each of outer's limits), on v2 with the controllers enabled.
 * Made after outer's limits, it starts with the values v1 copies from a
 * parent (net_cls.classid, net_prio.ifpriomap, cpuset). */
int cg_create_below(const struct vs_cgroup *outer, struct vs_cgroup *inner,
		    struct vs_err *err);

/* On v2, an O_PATH|O_DIRECTORY fd for clone3(CLONE_INTO_CGROUP); -EOPNOTSUPP on v1. */
int cg_open_dir_fd(const struct vs_cgroup *cg, struct vs_err *err);

/* Moves pid into the cgroup (every hierarchy on v1). */
int cg_enter(const struct vs_cgroup *cg, pid_t pid, struct vs_err *err);
/* The same for a process exec'd into a running container whose init is
 * init_pid: where cgroup2 refuses the container's cgroup (EBUSY, it has
 * controllers enabled for cgroups the container made, as systemd does), the
 * process joins init's cgroup2 cgroup, if that is below the container's. */
int cg_enter_exec(const struct vs_cgroup *cg, pid_t pid, pid_t init_pid, struct vs_err *err);

/* Applies res to a live cgroup (vsrun update). */
int cg_update(const struct vs_cgroup *cg, const struct conf_resources *res, struct vs_err *err);

/* Freezes or thaws every process; waits until the state is reached. */
int cg_freeze(const struct vs_cgroup *cg, bool frozen, struct vs_err *err);
/* 1 if frozen, 0 if not, -errno. */
int cg_is_frozen(const struct vs_cgroup *cg);

/* Every pid in the cgroup (and below it). *pids is malloc'd. */
int cg_pids(const struct vs_cgroup *cg, pid_t **pids, size_t *n, struct vs_err *err);

/* Sends sig to every process in the cgroup (cgroup.kill on v2 for SIGKILL). */
int cg_kill_all(const struct vs_cgroup *cg, int sig, struct vs_err *err);

/* Kills what is left, then removes the cgroup everywhere. Missing is fine. */
int cg_destroy(const struct vs_cgroup *cg, struct vs_err *err);

/* Every directory the cgroup lives in (one on v2; one per hierarchy on v1,
 * with a hybrid host's controller-less cgroup2), NULL-terminated, to free
 * with vs_strv_free. For a process that joins by writing cgroup.procs. */
int cg_dir_list(const struct vs_cgroup *cg, char ***dirs, struct vs_err *err);

/* True if the cgroup exists. */
bool cg_exists(const struct vs_cgroup *cg);

struct cg_stats {
	uint64_t cpu_usage_ns, cpu_user_ns, cpu_system_ns;
	uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_ns;
	uint64_t mem_usage, mem_max_usage, mem_limit, mem_cache, mem_rss, mem_swap_usage, mem_swap_limit;
	uint64_t mem_failcnt, oom_kill_count;
	uint64_t pids_current, pids_limit;   /* limit 0 = max */
	uint64_t io_read_bytes, io_write_bytes, io_read_ops, io_write_ops;
	/* per huge page size ("2MB"): usage, peak (v1 only, 0 on cgroup2) and
	 * how often the limit refused a page */
	int n_hugetlb;
	struct cg_hugetlb_stats {
		char size[16];
		uint64_t usage, max_usage, failcnt;
	} hugetlb[4];
	bool has_psi;
	double psi_cpu_some10, psi_mem_some10, psi_mem_full10, psi_io_some10, psi_io_full10;
};

int cg_stats(const struct vs_cgroup *cg, struct cg_stats *st, struct vs_err *err);

/* Writes runc-compatible stats JSON ({"type":"stats","id":..,"data":{..}}) to a
 * malloc'd string. */
char *cg_stats_json(const char *id, const struct cg_stats *st);

/* The number of OOM kills so far (memory.events oom_kill on v2,
 * memory.oom_control oom_kill on v1). */
int cg_oom_kills(const struct vs_cgroup *cg, uint64_t *count);

/* Which cgroup's memory limit fired: a snapshot of the container's OOM kill
 * count and, for each level from the container's cgroup up to (not
 * including) the root, how often that level's own limit was hit (v2:
 * memory.events.local oom; v1: memory.failcnt) and the limit itself. */
#define CG_OOM_LEVELS 16
struct cg_oom_snap {
	uint64_t kills;
	int n;
	uint64_t hits[CG_OOM_LEVELS];
	uint64_t limit[CG_OOM_LEVELS];   /* UINT64_MAX: none */
};
int cg_oom_snapshot(const struct vs_cgroup *cg, struct cg_oom_snap *s);
/* The level (0 = the container's own) whose limit fired between old and
 * now: the one whose count rose most; -1 if none rose. */
int cg_oom_culprit(const struct cg_oom_snap *old, const struct cg_oom_snap *now);
/* The cgroup path (like cg->path) of that level. */
int cg_oom_level_path(const struct vs_cgroup *cg, int level, char *buf, size_t len);

#endif
