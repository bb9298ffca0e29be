/* vsrun run: create + start; waits for the process unless --detach. */
#include "cli.h"

int oci_run(int argc, char **argv)
{
	struct rt_create_opts o;
	int r = cli_create_opts(argc, argv, &o, true);
	if (r < 0)
		return r == -1 ? 0 : 2;
	struct vs_err err = { 0 };
	int status = 0;
	if (rt_run(&g_cli.ctx, &o, &status, &err) < 0)
		return cli_error(&err);
	return status;
}
