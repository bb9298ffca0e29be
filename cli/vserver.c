/* vserver: the VPS manager. Named servers that persist, with limits,
 * networking, a monitor each, live resizing, stats, snapshots and alerts. */
#include "vserver.h"

#include <stdio.h>
#include <string.h>

struct srv_ctx g_srv;

static const struct cli_verb verbs[] = {
	{ "create", vs_cmd_create, "create a named server from an image", false },
	{ "start", vs_cmd_start, "start a server under its monitor", true },
	{ "stop", vs_cmd_stop, "stop a server (its init's shutdown signal, then SIGKILL)", false },
	{ "restart", vs_cmd_restart, "stop and start a server", true },
	{ "destroy", vs_cmd_destroy, "remove a server and everything it held", false },
	{ "list", vs_cmd_list, "list servers", false },
	{ "info", vs_cmd_info, "show one server", false },
	{ "exec", vs_cmd_exec, "run a command in a running server", true },
	{ "enter", vs_cmd_enter, "a login shell in a running server", true },
	{ "console", vs_cmd_console, "follow a server's console (Ctrl-C detaches)", false },
	{ "logs", vs_cmd_logs, "print a server's console log", false },
	{ "set", vs_cmd_set, "change a server's limits, live", false },
	{ "stats", vs_cmd_stats, "CPU, memory, IO, network, pids and pressure", false },
	{ "snapshot", vs_cmd_snapshot, "snapshot a stopped server's disk", false },
	{ "restore", vs_cmd_restore, "restore a snapshot", false },
	{ "clone", vs_cmd_clone, "copy a stopped server into a new one", false },
	{ "export", vs_cmd_export, "write a stopped server to one file", false },
	{ "import", vs_cmd_import, "make a server from an exported file", false },
	{ "boot", vs_cmd_boot, "start every autostart server", true },
	{ "image", vs_cmd_image, "images: import, ls, inspect, rm, gc, default", false },
	{ "net", vs_cmd_net, "networks: create, ls, rm", false },
	{ "alert", vs_cmd_alert, "alerts: add, ls, rm", false },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vserver <command> [options] [args]\n\nCommands:\n");
	for (size_t i = 0; i < VS_ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nState lives under /var/lib/vserver and /run/vserver "
		   "($VSERVER_ROOT/lib and /run when set).\n"
		   "Run 'vserver <command> --help' for a command's options.\n");
}

int main(int argc, char **argv, char **envp)
{
	g_cli.prog = "vserver";
	g_cli.ctx.warn = cli_warn;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v")) {
		printf("vserver version %s\n", VS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(verbs); i++) {
		if (strcmp(verbs[i].name, argv[1]))
			continue;
		if (verbs[i].enters_container) {
			int r = rt_ensure_sealed_exe(argv, envp);
			if (r < 0)
				return cli_errorf("re-execute from a sealed copy: %s", strerror(-r));
		}
		g_cli.verb = argv[1];
		struct vs_err err = { 0 };
		bool help = argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"));
		if (!help && srv_ctx_init(&g_srv, &err) < 0)
			return cli_error(&err);
		g_srv.warn = cli_warn;
		g_srv.rt.warn = cli_warn;
		optind = 0;
		return verbs[i].fn(argc - 1, argv + 1);
	}
	return cli_errorf("unknown command \"%s\" (see vserver --help)", argv[1]);
}
