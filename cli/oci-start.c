/* vsrun start ID */
#include "cli.h"

#include <stdio.h>

int oci_start(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: vsrun start ID\n");
			return 0;
		}
		return 2;
	}
	if (cli_need_args(argc, optind, 1, false, "start ID") < 0)
		return 2;
	struct vs_err err = { 0 };
	if (rt_start(&g_cli.ctx, argv[optind], &err) < 0)
		return cli_error(&err);
	return 0;
}
