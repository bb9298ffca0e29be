/* cgroups: freezing and thawing (v2 cgroup.freeze, v1 freezer.state). */
#include "internal.h"

#include <string.h>
#include <time.h>

#define FREEZE_TIMEOUT_NS 10000000000ULL

static void sleep_us(unsigned us)
{
	struct timespec ts = { 0, (long)us * 1000L };
	nanosleep(&ts, NULL);
}

/* v2: "frozen 1" in cgroup.events; v1: "FROZEN" in freezer.state. */
static int state_of(enum cg_mode mode, const char *dir)
{
	_cleanup_free_ char *s = NULL;
	if (mode == CG_MODE_V2) {
		uint64_t v;
		int r = cg_read_keyed(dir, "cgroup.events", "frozen", &v);
		return r < 0 ? r : v ? 1 : 0;
	}
	int r = cg_read(dir, "freezer.state", &s);
	if (r < 0)
		return r;
	return !strncmp(s, "FROZEN", 6) ? 1 : 0;
}

static const char *freezer_dir(const struct vs_cgroup *cg, struct cg_dirs *dirs)
{
	cg_list_dirs(cg, dirs, NULL);
	if (cg->mode == CG_MODE_V2)
		return dirs->d[0].path;
	return cg_v1_dir(dirs, CG1_FREEZER);
}

int cg_is_frozen(const struct vs_cgroup *cg)
{
	struct cg_dirs dirs;
	const char *dir = freezer_dir(cg, &dirs);
	if (!dir)
		return -EOPNOTSUPP;
	return state_of(cg->mode, dir);
}

int cg_freeze(const struct vs_cgroup *cg, bool frozen, struct vs_err *err)
{
	struct cg_dirs dirs;
	const char *dir = freezer_dir(cg, &dirs);
	if (!dir)
		return vs_failx(err, EOPNOTSUPP,
				"cgroup: freeze: not supported on this host (the freezer controller is not mounted)");
	bool v2 = cg->mode == CG_MODE_V2;
	const char *file = v2 ? "cgroup.freeze" : "freezer.state";
	const char *val = v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
	int r = cg_write(err, dir, file, "%s", val);
	if (r < 0)
		return r;

	uint64_t deadline = vs_now_ns() + FREEZE_TIMEOUT_NS;
	unsigned delay = 100, rounds = 0;
	for (;;) {
		int st = state_of(cg->mode, dir);
		if (st < 0)
			return vs_fail(err, -st, "cgroup: read %s", v2 ? "cgroup.events" : "freezer.state");
		if (st == (frozen ? 1 : 0))
			return 0;
		if (vs_now_ns() > deadline)
			break;
		sleep_us(delay);
		if (delay < 10000)
			delay *= 2;
		/* v1 can stay FREEZING when a task was busy: ask again */
		if (!v2 && frozen && ++rounds % 10 == 0)
			cg_write(NULL, dir, file, "%s", val);
	}
	if (frozen)   /* do not leave a half-frozen server behind */
		cg_write(NULL, dir, file, "%s", v2 ? "0" : "THAWED");
	return vs_failx(err, ETIMEDOUT, "cgroup: %s: timed out waiting for the cgroup to %s",
			file, frozen ? "freeze" : "thaw");
}
