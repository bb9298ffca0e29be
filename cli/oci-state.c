/* vsrun state ID: the OCI state JSON. */
#include "cli.h"

#include <stdio.h>

int oci_state(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: vsrun state ID\n");
			return 0;
		}
		return 2;
	}
	if (cli_need_args(argc, optind, 1, false, "state ID") < 0)
		return 2;
	struct vs_err err = { 0 };
	struct rt_state st;
	if (rt_state(&g_cli.ctx, argv[optind], &st, &err) < 0)
		return cli_error(&err);
	_cleanup_free_ char *json = rt_state_json(&st);
	fputs(json, stdout);
	rt_state_free(&st);
	return 0;
}
