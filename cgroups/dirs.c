/* cgroups: the directories of a cgroup, for a process that must join it by
 * itself before exec (vm/: QEMU joins its server's cgroup in the forked
 * child, so no thread and no page of guest RAM is ever outside it). */
#include "internal.h"

#include <string.h>

int cg_dir_list(const struct vs_cgroup *cg, char ***out, struct vs_err *err)
{
	struct cg_dirs dirs;
	int r = cg_list_dirs(cg, &dirs, NULL);
	if (r < 0)
		return vs_fail(err, -r, "cgroup: %s: list its directories", cg->path);
	char **v = vs_xcalloc(1, sizeof(char *));
	for (int i = 0; i < dirs.n; i++)
		vs_strv_push(&v, dirs.d[i].path);
	*out = v;
	return 0;
}
