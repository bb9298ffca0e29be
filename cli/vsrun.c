/* vsrun: an OCI runtime, command-line compatible with runc and crun. The
 * front end of two programs: vsrun (vsrun-main.c), linked with what an
 * ordinary container needs, and vsrun-vm (vsrun-vm.c), the same linked with
 * the VM handler, to which vsrun hands the commands of VMs. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct cli_verb verbs[] = {
	{ "spec", oci_spec, "write a default config.json", false },
	{ "create", oci_create, "create a container (its process waits for start)", true },
	{ "start", oci_start, "start a created container's process", false },
	{ "run", oci_run, "create and start a container", true },
	{ "state", oci_state, "print a container's state as JSON", false },
	{ "kill", oci_kill, "send a signal to a container's process (or all)", false },
	{ "delete", oci_delete, "delete a container and everything it held", false },
	{ "list", oci_list, "list containers", false },
	{ "ps", oci_ps, "list the processes of a container", false },
	{ "exec", oci_exec, "run a new process inside a container", true },
	{ "pause", oci_pause, "freeze every process of a container", false },
	{ "resume", oci_resume, "thaw a paused container", false },
	{ "update", oci_update, "change a container's resource limits live", false },
	{ "events", oci_events, "stream stats and OOM events", false },
	{ "features", oci_features, "print the runtime-spec features document", false },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vsrun [global options] <command> [options] [args]\n\n"
		   "An OCI runtime (runc/crun compatible) of the vserver project.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < VS_ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR            state directory (default " RT_DEFAULT_ROOT ")\n"
		   "  --log FILE            also write errors and warnings to FILE\n"
		   "  --log-format text|json   format of --log (default text)\n"
		   "  --debug               more detail in errors\n"
		   "  --systemd-cgroup      accepted for compatibility; cgroups are always\n"
		   "                        managed through cgroupfs (see vsrun(8))\n"
		   "  --rootless auto|true|false   accepted for compatibility\n"
		   "  --log-level L, --cgroup-manager M, --criu PATH\n"
		   "                        accepted for compatibility; ignored\n"
		   "  -v, --version         print the version\n"
		   "  -h, --help            this help\n\n"
		   "Run 'vsrun <command> --help' for a command's options.\n");
}

static void version(void)
{
	printf("vsrun version %s\nspec: 1.2.0\n", VS_VERSION);
}

int vsrun_main(int argc, char **argv, char **envp, const struct rt_vm_handler *vm,
	       int (*vm_handoff)(struct vs_err *err))
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "debug", no_argument, NULL, 'd' },
		{ "systemd-cgroup", no_argument, NULL, 's' },
		{ "rootless", required_argument, NULL, 'R' },
		{ "criu", required_argument, NULL, 'C' },
		{ "cgroup-manager", required_argument, NULL, 'M' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	g_cli.ctx.warn = cli_warn;
	g_cli.ctx.vm = vm;
	g_cli.ctx.vm_handoff = vm_handoff;
	/* a copy for the hand-off: verbs may write into their arguments */
	if (vm_handoff)
		g_cli.argv = vs_strv_dup(argv);
	int c;
	/* "+": stop at the command; long options may take one dash, as runc's do */
	while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r': g_cli.ctx.root = optarg; break;
		case 'l': g_cli.log_path = optarg; break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_errorf("--log-format: expected text or json, got \"%s\"", optarg);
			g_cli.log_json = !strcmp(optarg, "json");
			break;
		case 'd': g_cli.ctx.debug = true; break;
		case 's': g_cli.ctx.systemd_cgroup = true; break;
		case 'L': case 'R': case 'C': case 'M': break;
		case 'v': version(); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < VS_ARRAY_SIZE(verbs); i++) {
		if (strcmp(verbs[i].name, name))
			continue;
		if (verbs[i].enters_container) {
			int r = rt_ensure_sealed_exe(argv, envp);
			if (r < 0) {
				struct vs_err e;
				vs_fail(&e, -r, "re-execute from a sealed copy of the runtime");
				return cli_error(&e);
			}
		}
		g_cli.verb = name;
		int sub_argc = argc - optind;
		char **sub_argv = argv + optind;
		optind = 0; /* reset getopt for the verb (0 also re-reads "+") */
		return verbs[i].fn(sub_argc, sub_argv);
	}
	return cli_errorf("unknown command \"%s\" (see vsrun --help)", name);
}
