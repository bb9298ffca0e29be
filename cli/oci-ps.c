/* vsrun ps [--format table|json] ID [ps options]: the container's processes;
 * the table comes from ps(1) filtered to the container's pids, as runc does. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static bool has_pid(const pid_t *v, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

int oci_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "table"))
				return cli_errorf("ps: --format: expected table or json, got \"%s\"", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'h': printf("usage: vsrun ps [--format table|json] ID [-- ps options]\n"); return 0;
		default: return 2;
		}
	}
	if (cli_need_args(argc, optind, 1, true, "ps [--format table|json] ID [ps options]") < 0)
		return 2;
	struct vs_err err = { 0 };
	pid_t *pids = NULL;
	size_t n = 0;
	if (rt_ps(&g_cli.ctx, argv[optind], &pids, &n, &err) < 0)
		return cli_error(&err);
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
		free(pids);
		return 0;
	}
	/* ps with the user's options (default -ef); keep the header and our pids */
	char cmd[4096] = "ps";
	size_t off = 2;
	if (argc - optind > 1) {
		for (int i = optind + 1; i < argc && off < sizeof(cmd) - 4; i++) {
			if (strpbrk(argv[i], "'\\")) {
				free(pids);
				return cli_errorf("ps: option \"%s\": quotes are not allowed", argv[i]);
			}
			off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, " '%s'", argv[i]);
		}
	} else {
		snprintf(cmd + off, sizeof(cmd) - off, " -ef");
	}
	FILE *f = popen(cmd, "r");
	if (!f) {
		free(pids);
		return cli_errorf("ps: run ps: %s", strerror(errno));
	}
	char line[4096];
	int pid_col = -1;
	bool first = true;
	while (fgets(line, sizeof(line), f)) {
		char copy[4096];
		snprintf(copy, sizeof(copy), "%s", line);
		char *save = NULL, *tok = strtok_r(copy, " \t\n", &save);
		if (first) {
			first = false;
			for (int col = 0; tok; col++, tok = strtok_r(NULL, " \t\n", &save))
				if (!strcmp(tok, "PID"))
					pid_col = col;
			fputs(line, stdout);
			if (pid_col < 0) {
				pclose(f);
				free(pids);
				return cli_errorf("ps: no PID column in the output of %s", cmd);
			}
			continue;
		}
		for (int col = 0; tok && col < pid_col; col++)
			tok = strtok_r(NULL, " \t\n", &save);
		if (tok && has_pid(pids, n, strtol(tok, NULL, 10)))
			fputs(line, stdout);
	}
	pclose(f);
	free(pids);
	return 0;
}
