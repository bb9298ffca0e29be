/* cgroups: OOM kills of a cgroup's processes, and which cgroup's memory limit
 * fired: the container's own, or one of its parents' (a nested cgroupsPath
 * under a limited pod or slice).
 *
 * v2: memory.events.local "oom" counts, per level, the times that level's
 * own memory.max was hit and reclaim could not help (memory.events would
 * include the children's). The level whose count rose is the one that fired.
 * v1: there is no per-level OOM counter (memory.oom_control's oom_kill
 * counts the victims of that cgroup, under_oom is only set while the OOM
 * killer is disabled), but memory.failcnt is raised on the level whose
 * limit refused a charge, and only there; the OOM killer runs after repeated
 * refusals (reclaim retries), so the level with the largest rise is named. */
#include "internal.h"

#include <string.h>

/* the cgroup path of level i: 0 is cg->path, 1 its parent, ... */
int cg_oom_level_path(const struct vs_cgroup *cg, int level, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s", cg->path) >= len)
		return -ENAMETOOLONG;
	for (int i = 0; i < level; i++) {
		char *slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return -ENOENT;
		*slash = '\0';
	}
	return 0;
}

/* the memory directory of level i (absolute), from the level-0 one */
static int level_dir(const char *dir0, int level, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s", dir0) >= len)
		return -ENAMETOOLONG;
	for (int i = 0; i < level; i++) {
		char *slash = strrchr(buf, '/');
		if (!slash)
			return -ENOENT;
		*slash = '\0';
	}
	return 0;
}

static int mem_dir(const struct vs_cgroup *cg, char *buf, size_t len, size_t *root_len)
{
	struct cg_dirs dirs;
	cg_list_dirs(cg, &dirs, NULL);
	for (int i = 0; i < dirs.n; i++)
		if (cg->mode == CG_MODE_V2 ? dirs.d[i].unified : !!(dirs.d[i].ctls & (1u << CG1_MEMORY))) {
			*root_len = strlen(dirs.d[i].root);
			return (size_t)snprintf(buf, len, "%s", dirs.d[i].path) >= len ? -ENAMETOOLONG : 0;
		}
	return -EOPNOTSUPP;
}

int cg_oom_snapshot(const struct vs_cgroup *cg, struct cg_oom_snap *s)
{
	char d0[PATH_MAX];
	size_t root_len;
	memset(s, 0, sizeof(*s));
	int r = mem_dir(cg, d0, sizeof(d0), &root_len);
	if (r < 0)
		return r;
	bool v2 = cg->mode == CG_MODE_V2;
	r = v2 ? cg_read_keyed(d0, "memory.events", "oom_kill", &s->kills)
	       : cg_read_keyed(d0, "memory.oom_control", "oom_kill", &s->kills);
	if (r < 0)
		return r;
	/* every level below the hierarchy's root (which has no limit) */
	for (int i = 0; i < CG_OOM_LEVELS; i++) {
		char d[PATH_MAX];
		if (level_dir(d0, i, d, sizeof(d)) < 0 || strlen(d) <= root_len)
			break;
		uint64_t v = 0;
		if (v2)
			cg_read_keyed(d, "memory.events.local", "oom", &v);
		else
			cg_read_u64(d, "memory.failcnt", &v);
		s->hits[i] = v;
		s->limit[i] = UINT64_MAX;
		cg_read_u64(d, v2 ? "memory.max" : "memory.limit_in_bytes", &s->limit[i]);
		s->n = i + 1;
	}
	return 0;
}

int cg_oom_culprit(const struct cg_oom_snap *old, const struct cg_oom_snap *now)
{
	int best = -1;
	uint64_t best_rise = 0;
	for (int i = 0; i < now->n; i++) {
		uint64_t before = i < old->n ? old->hits[i] : 0;
		uint64_t rise = now->hits[i] > before ? now->hits[i] - before : 0;
		if (rise > best_rise) {
			best = i;
			best_rise = rise;
		}
	}
	return best;
}
