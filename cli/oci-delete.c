/* vsrun delete [--force] ID */
#include "cli.h"

#include <stdio.h>

int oci_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'h': printf("usage: vsrun delete [--force] ID\n"); return 0;
		default: return 2;
		}
	}
	if (cli_need_args(argc, optind, 1, false, "delete [--force] ID") < 0)
		return 2;
	struct vs_err err = { 0 };
	if (rt_delete(&g_cli.ctx, argv[optind], force, &err) < 0) {
		/* deleting what is already gone is not an error with --force */
		if (force && err.code == ENOENT)
			return 0;
		return cli_error(&err);
	}
	return 0;
}
