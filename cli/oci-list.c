/* vsrun list [-q] [--format table|json] */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int oci_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool quiet = false, json = false;
	int c;
	while ((c = getopt_long(argc, argv, "+qf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "table"))
				return cli_errorf("list: --format: expected table or json, got \"%s\"", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'h': printf("usage: vsrun list [-q|--quiet] [-f|--format table|json]\n"); return 0;
		default: return 2;
		}
	}
	if (cli_need_args(argc, optind, 0, false, "list [-q] [--format table|json]") < 0)
		return 2;
	struct vs_err err = { 0 };
	struct rt_state *v;
	size_t n;
	if (rt_list(&g_cli.ctx, &v, &n, &err) < 0)
		return cli_error(&err);
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", v[i].id);
	} else if (json) {
		/* each state is a complete JSON object: joined into an array */
		printf("[");
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *s = rt_state_json(&v[i]);
			size_t l = strlen(s);
			while (l && s[l - 1] == '\n')
				s[--l] = '\0';
			printf("%s%s", i ? "," : "", s);
		}
		printf("]\n");
	} else {
		printf("%-24s %-8s %-10s %-44s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
		for (size_t i = 0; i < n; i++)
			printf("%-24s %-8d %-10s %-44s %-30s %s\n", v[i].id, (int)v[i].pid,
			       rt_status_name(v[i].status), v[i].bundle, v[i].created,
			       v[i].owner[0] ? v[i].owner : "root");
	}
	for (size_t i = 0; i < n; i++)
		rt_state_free(&v[i]);
	free(v);
	return 0;
}
