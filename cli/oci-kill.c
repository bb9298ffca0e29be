/* vsrun kill [--all] ID [SIGNAL] */
#include "cli.h"

#include <signal.h>
#include <stdio.h>

int oci_kill(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool all = false;
	int c;
	while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'h': printf("usage: vsrun kill [--all] ID [SIGNAL]\n"); return 0;
		default: return 2;
		}
	}
	if (argc - optind == 2) {
		/* runc accepts the flag after the id too */
	} else if (cli_need_args(argc, optind, 1, false, "kill [--all] ID [SIGNAL]") < 0) {
		return 2;
	}
	int sig = SIGTERM;
	if (argc - optind == 2) {
		sig = cli_parse_signal(argv[optind + 1]);
		if (sig < 0)
			return cli_errorf("kill: unknown signal \"%s\"", argv[optind + 1]);
	}
	struct vs_err err = { 0 };
	if (rt_kill(&g_cli.ctx, argv[optind], sig, all, &err) < 0)
		return cli_error(&err);
	return 0;
}
