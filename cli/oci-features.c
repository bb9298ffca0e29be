/* vsrun features: the runtime-spec features document. */
#include "cli.h"

#include <stdio.h>

int oci_features(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: vsrun features\n");
			return 0;
		}
		return 2;
	}
	if (cli_need_args(argc, optind, 0, false, "features") < 0)
		return 2;
	_cleanup_free_ char *json = rt_features_json();
	fputs(json, stdout);
	return 0;
}
