/* cgroups: a v1 controller that a hybrid host has on its cgroup2 tree.
 *
 * A controller is bound to one hierarchy at a time. On a hybrid host the
 * controllers that no v1 hierarchy took stay with the cgroup2 mount
 * (/sys/fs/cgroup/unified): on the build machines that is hugetlb. The
 * container's unified cgroup is made anyway (PSI, eBPF), so the limits go
 * there, with the controller enabled in cgroup.subtree_control of every
 * level above it.
 *
 * What that touches: the subtree_control of the unified root and of each
 * parent level (our /vsrun, or the parents of an absolute cgroupsPath), as
 * runc does on cgroup2. Parents we made go away with the last container in
 * them. The root is put back (cg_hybrid_release) once no cgroup at all is
 * left below it: while one is, disabling hugetlb there would strip its
 * limits (another container's, or the admin's), and hugetlb with no limit
 * set only counts pages. In pre-existing parents it stays enabled. */
#include "internal.h"

#include <dirent.h>
#include <string.h>

/* Is word in the space-separated list? */
static bool listed(const char *list, const char *word)
{
	size_t l = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += l)
		if ((p == list || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\n' || !p[l]))
			return true;
	return false;
}

static const struct cg_dir *unified(const struct cg_dirs *dirs)
{
	for (int i = 0; i < dirs->n; i++)
		if (dirs->d[i].unified)
			return &dirs->d[i];
	return NULL;
}

unsigned cg_hybrid_on_unified(const struct cg_dirs *dirs, unsigned missing)
{
	const struct cg_dir *u = unified(dirs);
	_cleanup_free_ char *avail = NULL;
	if (!u || !(missing & (1u << CG1_HUGETLB)) ||
	    cg_read(u->root, "cgroup.controllers", &avail) < 0)
		return 0;
	return listed(avail, cg_v1_name(CG1_HUGETLB)) ? 1u << CG1_HUGETLB : 0;
}

/* runs in: the runtime, after the unified cgroup dir exists (create) or
 * on a live one (update). Enabling in a parent that holds processes
 * fails (EBUSY: cgroup2's no-internal-process rule); that is an error. */
int cg_hybrid_enable(const struct cg_dirs *dirs, unsigned ctls, struct vs_err *err)
{
	const struct cg_dir *u = unified(dirs);
	if (!u || !ctls)
		return 0;
	char parent[PATH_MAX];
	size_t rl = strlen(u->root);
	snprintf(parent, sizeof(parent), "%s", u->root);
	for (const char *p = u->path + rl; *p;) {
		for (int c = 0; c < CG1__MAX; c++) {
			if (!(ctls & (1u << c)))
				continue;
			_cleanup_free_ char *on = NULL;
			if (cg_read(parent, "cgroup.subtree_control", &on) == 0 &&
			    listed(on, cg_v1_name(c)))
				continue;
			int r = cg_write(err, parent, "cgroup.subtree_control", "+%s", cg_v1_name(c));
			if (r < 0)
				return vs_wrap(err, "%s", parent);
		}
		/* the next level: "/comp" appended, up to the dir's parent */
		const char *next = strchr(p + 1, '/');
		if (!next)
			break;
		size_t pl = strlen(parent);
		snprintf(parent + pl, sizeof(parent) - pl, "%.*s", (int)(next - p), p);
		p = next;
	}
	return 0;
}

/* runs in: the runtime, after a destroy or a rolled-back create on a
 * hybrid host. Takes hugetlb out of the unified root's subtree_control when
 * no cgroup is left below the root, so that vsrun leaves the host's root as
 * it found it (an admin who enabled it with no cgroup using it loses that
 * setting, which held no limit). A create racing with this sees the
 * controller vanish and fails with "no hugetlb.<size>.max": refused, never
 * a limit silently lost. */
void cg_hybrid_release(const struct cg_dirs *dirs)
{
	const struct cg_dir *u = unified(dirs);
	_cleanup_free_ char *on = NULL;
	if (!u || cg_read(u->root, "cgroup.subtree_control", &on) < 0 ||
	    !listed(on, cg_v1_name(CG1_HUGETLB)))
		return;
	DIR *d = opendir(u->root);
	struct dirent *de;
	bool children = !d;
	while (d && !children && (de = readdir(d)))
		children = de->d_type == DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	if (!children)
		cg_write(NULL, u->root, "cgroup.subtree_control", "-%s", cg_v1_name(CG1_HUGETLB));
}
