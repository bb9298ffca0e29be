/* vserver image ..., vserver net ..., vserver alert ... */
#include "vserver.h"

#include <stdio.h>
#include <string.h>

static int sub_usage(const char *what, const char *text, int code)
{
	fprintf(code ? stderr : stdout, "usage: vserver %s\n%s", what, text);
	return code;
}

static const char *image_usage =
	"  vserver image import PATH [--name NAME] [-q|--quiet] [--format json]\n"
	"                                             an OCI layout dir or a rootfs tarball\n"
	"  vserver image ls [--format json]\n"
	"  vserver image inspect NAME\n"
	"  vserver image rm NAME\n"
	"  vserver image gc\n"
	"  vserver image default                      (re)build the embedded busybox image\n";

/* vserver image import PATH [--name NAME] [-q|--quiet] [--format json]: a
 * progress bar on stderr when it is a terminal (not with --quiet or json) */
static int image_import(int argc, char **argv)
{
	static const char *usage = "image import PATH [--name NAME] [-q|--quiet] [--format json]";
	const char *path = NULL, *name = NULL;
	bool quiet = false, json = false;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (!strcmp(argv[i], "--format") && i + 1 < argc && !strcmp(argv[i + 1], "json"))
			json = true, i++;
		else if (!strcmp(argv[i], "--format"))
			return cli_errorf("image import: --format: expected json, got \"%s\"",
					  i + 1 < argc ? argv[i + 1] : "");
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_errorf("image import: unknown option %s", argv[i]), 2;
		else if (!path)
			path = argv[i];
		else
			return sub_usage(usage, "", 2);
	}
	if (!path)
		return sub_usage(usage, "", 2);
	struct vs_progress_bar bar;
	vs_progress_init(&bar, path, quiet || json);
	if (!quiet && !json)
		fprintf(stderr, "importing %s ...\n", path);
	struct vs_err err = { 0 };
	char stored[256];
	int r = srv_image_import(&g_srv, path, name, vs_progress_cb, &bar, stored, &err);
	vs_progress_done(&bar);
	if (r < 0)
		return cli_error(&err);
	if (json) {
		printf("{\"name\":");
		vs_json_fputs(stdout, stored);
		printf(",\"source\":");
		vs_json_fputs(stdout, path);
		printf("}\n");
	} else {
		printf("imported %s\n", path);
	}
	return 0;
}

int vs_cmd_image(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return sub_usage("image COMMAND", image_usage, argc < 2 ? 2 : 0);
	const char *sub = argv[1];
	struct vs_err err = { 0 };
	if (!strcmp(sub, "import"))
		return image_import(argc, argv);
	if (!strcmp(sub, "ls") || !strcmp(sub, "list")) {
		bool json = argc > 3 && !strcmp(argv[2], "--format") && !strcmp(argv[3], "json");
		char **names = NULL;
		if (srv_image_list(&g_srv, &names, &err) < 0)
			return cli_error(&err);
		if (json)
			printf("[");
		for (size_t i = 0; names[i]; i++) {
			if (!json) {
				printf("%s\n", names[i]);
				continue;
			}
			_cleanup_free_ char *j = NULL;
			if (srv_image_inspect(&g_srv, names[i], &j, &err) >= 0)
				printf("%s%s", i ? "," : "", j);
		}
		if (json)
			printf("]\n");
		vs_strv_free(names);
		return 0;
	}
	if (!strcmp(sub, "inspect") && argc == 3) {
		_cleanup_free_ char *j = NULL;
		if (srv_image_inspect(&g_srv, argv[2], &j, &err) < 0)
			return cli_error(&err);
		printf("%s\n", j);
		return 0;
	}
	if (!strcmp(sub, "rm") && argc == 3) {
		if (srv_image_remove(&g_srv, argv[2], &err) < 0)
			return cli_error(&err);
		printf("removed %s (its layers go at the next gc)\n", argv[2]);
		return 0;
	}
	if (!strcmp(sub, "gc")) {
		unsigned n = 0;
		if (srv_image_gc(&g_srv, &n, &err) < 0)
			return cli_error(&err);
		printf("removed %u unused layers and blobs\n", n);
		return 0;
	}
	if (!strcmp(sub, "default")) {
		if (srv_image_default(&g_srv, &err) < 0)
			return cli_error(&err);
		printf("built default:latest from the host's busybox\n");
		return 0;
	}
	return sub_usage("image COMMAND", image_usage, 2);
}

static const char *net_usage =
	"  vserver net create NAME [--bridge BR] [--subnet CIDR] [--subnet6 CIDR|none] [--isolate]\n"
	"  vserver net ls\n"
	"  vserver net rm [--force] NAME\n";

int vs_cmd_net(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return sub_usage("net COMMAND", net_usage, argc < 2 ? 2 : 0);
	struct vs_err err = { 0 };
	const char *sub = argv[1];
	if (!strcmp(sub, "create")) {
		const char *name = NULL, *bridge = NULL, *sub4 = NULL, *sub6 = NULL;
		bool iso = false;
		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--bridge") && i + 1 < argc)
				bridge = argv[++i];
			else if (!strcmp(argv[i], "--subnet") && i + 1 < argc)
				sub4 = argv[++i];
			else if (!strcmp(argv[i], "--subnet6") && i + 1 < argc)
				sub6 = argv[++i];
			else if (!strcmp(argv[i], "--isolate"))
				iso = true;
			else if (!name && argv[i][0] != '-')
				name = argv[i];
			else
				return sub_usage("net COMMAND", net_usage, 2);
		}
		if (!name)
			return sub_usage("net COMMAND", net_usage, 2);
		if (srv_net_create(&g_srv, name, bridge, sub4, sub6, iso, &err) < 0)
			return cli_error(&err);
		printf("created network %s\n", name);
		return 0;
	}
	if (!strcmp(sub, "ls") || !strcmp(sub, "list")) {
		char **names = NULL;
		if (srv_net_list(&g_srv, &names, &err) < 0)
			return cli_error(&err);
		for (size_t i = 0; names[i]; i++)
			printf("%s\n", names[i]);
		vs_strv_free(names);
		return 0;
	}
	if (!strcmp(sub, "rm")) {
		bool force = argc == 4 && !strcmp(argv[2], "--force");
		if (argc != 3 + force)
			return sub_usage("net COMMAND", net_usage, 2);
		if (srv_net_remove(&g_srv, argv[argc - 1], force, &err) < 0)
			return cli_error(&err);
		printf("removed network %s\n", argv[argc - 1]);
		return 0;
	}
	return sub_usage("net COMMAND", net_usage, 2);
}

static const char *alert_usage =
	"  vserver alert add NAME 'memory > 90% for 60s' [--exec CMD]\n"
	"  vserver alert ls NAME\n"
	"  vserver alert rm NAME RULE|NUMBER\n"
	"  metrics: memory, cpu (% of one CPU), pids; evaluated every second by the\n"
	"  server's monitor; fired alerts are in `vserver info NAME`.\n";

int vs_cmd_alert(int argc, char **argv)
{
	if (argc < 3 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return sub_usage("alert COMMAND", alert_usage, argc < 3 && argc > 1 &&
				 strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? 2 : 0);
	struct vs_err err = { 0 };
	const char *sub = argv[1], *name = argv[2];
	if (!strcmp(sub, "add") && (argc == 4 || (argc == 6 && !strcmp(argv[4], "--exec")))) {
		_cleanup_free_ char *spec = argc == 6 ? vs_xasprintf("%s => %s", argv[3], argv[5])
						      : vs_xstrdup(argv[3]);
		if (srv_alert_change(&g_srv, name, spec, true, &err) < 0)
			return cli_error(&err);
		printf("alert added to %s\n", name);
		return 0;
	}
	if (!strcmp(sub, "rm") && argc == 4) {
		if (srv_alert_change(&g_srv, name, argv[3], false, &err) < 0)
			return cli_error(&err);
		printf("alert removed from %s\n", name);
		return 0;
	}
	if (!strcmp(sub, "ls") && argc == 3) {
		struct srv_info info;
		if (srv_info(&g_srv, name, &info, &err) < 0)
			return cli_error(&err);
		for (size_t i = 0; info.rec->alerts && info.rec->alerts[i]; i++)
			printf("%zu  %s\n", i + 1, info.rec->alerts[i]);
		srv_info_free(&info);
		return 0;
	}
	return sub_usage("alert COMMAND", alert_usage, 2);
}
