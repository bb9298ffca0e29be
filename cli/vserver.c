/* vserver: the VPS manager. Named servers that persist, with limits,
 * networking, a monitor each, live resizing, stats, snapshots and alerts. */
#include "vserver.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct srv_ctx g_srv;

/* start, restart and boot only run monitors: the `__start` helper, which
 * makes the container, is the one that re-executes from a sealed copy */
static const struct cli_verb verbs[] = {
	{ "create", vs_cmd_create, "create a named server from an image", false },
	{ "start", vs_cmd_start, "start a server under its monitor", false },
	{ "stop", vs_cmd_stop, "stop a server (its init's shutdown signal, then SIGKILL)", false },
	{ "restart", vs_cmd_restart, "stop and start a server", false },
	{ "pause", vs_cmd_pause, "freeze a running server (a VM's vCPUs stop)", false },
	{ "resume", vs_cmd_resume, "thaw a paused server", false },
	{ "destroy", vs_cmd_destroy, "remove a server and everything it held", false },
	{ "list", vs_cmd_list, "list servers", false },
	{ "info", vs_cmd_info, "show one server", false },
	{ "exec", vs_cmd_exec, "run a command in a running server", true },
	{ "enter", vs_cmd_enter, "a login shell in a running server", true },
	{ "console", vs_cmd_console, "attach to a server's console (Ctrl-] detaches)", false },
	{ "logs", vs_cmd_logs, "print a server's console log", false },
	{ "set", vs_cmd_set, "change a server's limits, live", false },
	{ "stats", vs_cmd_stats, "CPU, memory, IO, network, pids and pressure", false },
	{ "snapshot", vs_cmd_snapshot, "snapshot a stopped server's disk", false },
	{ "restore", vs_cmd_restore, "restore a snapshot", false },
	{ "clone", vs_cmd_clone, "copy a stopped server into a new one", false },
	{ "export", vs_cmd_export, "write a stopped server to one file", false },
	{ "import", vs_cmd_import, "make a server from an exported file", false },
	{ "boot", vs_cmd_boot, "start every autostart server", false },
	{ "shutdown", vs_cmd_shutdown, "stop every running server, in parallel", false },
	{ "image", vs_cmd_image, "images: import, ls, inspect, rm, gc, default", false },
	{ "net", vs_cmd_net, "networks: create, ls, rm", false },
	{ "alert", vs_cmd_alert, "alerts: add, ls, rm", false },
};

/* `vserver VERB --help`: a page per verb, kept in step with vserver(8). */
static const struct { const char *verb, *text; } helps[] = {
	{ "create",
	  "usage: vserver create NAME [options] [-- CMD [ARG...]]\n"
	  "\n"
	  "Create a stopped server: reserve its address, make its disk, write its record\n"
	  "and its config.json. The limits are tried on a throwaway cgroup first, so a\n"
	  "limit the host cannot give is refused now, not at the first start. Nothing is\n"
	  "left behind when create fails. The server runs CMD if given, else /sbin/init\n"
	  "with --init, else the image's entrypoint and command, else /bin/sh.\n"
	  "\n"
	  "Options:\n"
	  "  -i, --image IMG        image from the store (default: \"default\", the busybox\n"
	  "                         image built from the host's /bin/busybox on first use)\n"
	  "      --cpus N           CPU time in CPUs, 0.01 to 4096 (1.5 = 150 ms per 100 ms)\n"
	  "      --memory SIZE      memory limit (512M, 2G; max or none = no limit)\n"
	  "      --swap SIZE        swap on top of --memory (needs --memory)\n"
	  "      --disk SIZE        quota on what the server writes to its root filesystem\n"
	  "      --pids N           most tasks (processes and threads)\n"
	  "      --io-max 'MAJ:MIN KEY=N...'  throttle a block device: rbps= wbps= riops=\n"
	  "                         wiops=; repeatable\n"
	  "      --io-weight N      block I/O weight, 10 to 1000 (needs blkio weights)\n"
	  "      --net NET|none     network to join (default: \"default\", bridge vsbr0,\n"
	  "                         172.30.0.0/24); none = only a loopback interface\n"
	  "      --ip auto|ADDR     IPv4 address: the next free one, or this one (in the\n"
	  "                         network's subnet, and free)\n"
	  "      --publish [HOSTIP:]HOSTPORT:PORT[/tcp|/udp]  forward a host port to the\n"
	  "                         server; HOSTIP IPv4 or [IPv6], none = every address\n"
	  "                         of both families; repeatable\n"
	  "      --bandwidth RATE   cap traffic both ways (100mbit, 512kbit; none = no cap)\n"
	  "      --bandwidth-in R   cap traffic towards the server\n"
	  "      --bandwidth-out R  cap traffic from the server\n"
	  "      --hostname H       host name (default: NAME)\n"
	  "  -e, --env K=V          add an environment variable; repeatable\n"
	  "      --init             run /sbin/init as a full system (stopped with SIGRTMIN+3)\n"
	  "      --autostart        start it at `vserver boot`\n"
	  "      --restart no|on-failure|always  what the monitor does when init exits\n"
	  "                         (waits 1 s, doubling up to 30 s; default no)\n"
	  "      --vm               a full virtual machine (QEMU, KVM or else software\n"
	  "                         emulation, announced): the rootfs becomes its disk,\n"
	  "                         --memory its RAM (default 256M), --disk its size\n"
	  "                         (default 1G); see vserver(8) VM SERVERS\n"
	  "      --kernel PATH      the guest's kernel (default: the newest\n"
	  "                         /boot/vmlinuz-*-cloud-amd64, else the host's own)\n"
	  "      --disk-image FILE  boot this raw or qcow2 disk by firmware (q35) instead\n"
	  "      --vcpus N          virtual CPUs, 1 to 255 (default 1)\n"
	  "\n"
	  "Example: vserver create web --memory 512M --cpus 1 --publish 8080:80 -- httpd -f\n" },
	{ "start",
	  "usage: vserver start NAME\n"
	  "\n"
	  "Start a server under a new monitor and return once it runs, or fail with the\n"
	  "reason it did not start (nothing is left behind then). Starting a running\n"
	  "server is an error. A server whose monitor was killed (status unmonitored)\n"
	  "is adopted by the new monitor, not started twice.\n" },
	{ "stop",
	  "usage: vserver stop [-t|--timeout S] NAME\n"
	  "\n"
	  "Ask the server's init to shut down (SIGTERM, or SIGRTMIN+3 with --init), wait\n"
	  "up to S seconds (default 10, at most 3600), then SIGKILL what is left. With\n"
	  "--timeout 0 it is killed at once. A stop also ends a restart loop, and stops\n"
	  "an unmonitored server. Stopping a server that does not run is an error.\n"
	  "A VM server gets the ACPI power button instead: its agent sends SIGTERM to the\n"
	  "command and powers the guest off; QEMU is killed after S seconds.\n" },
	{ "pause",
	  "usage: vserver pause NAME\n"
	  "\n"
	  "Freeze a running server: the cgroup freezer for a container, the vCPUs (QMP\n"
	  "stop) for a VM. Its status is paused until `vserver resume`.\n" },
	{ "resume",
	  "usage: vserver resume NAME\n"
	  "\n"
	  "Thaw a server frozen by `vserver pause`.\n" },
	{ "restart",
	  "usage: vserver restart [-t|--timeout S] NAME\n"
	  "\n"
	  "stop (if it runs, waiting up to S seconds as stop does), then start.\n" },
	{ "destroy",
	  "usage: vserver destroy [-f|--force] NAME\n"
	  "\n"
	  "Remove a stopped server and everything it held: its container, cgroups,\n"
	  "address, published ports, disk and directory. Its snapshots are kept.\n"
	  "\n"
	  "  -f, --force   also destroy a running server (killed without a grace period),\n"
	  "                and clean up a server left half-made by a crash\n" },
	{ "list",
	  "usage: vserver list [-f|--format table|json]\n"
	  "\n"
	  "List every server: name, status, image, address, CPU, memory and disk limits\n"
	  "and the pid of its init. The status is stopped, starting, running, paused,\n"
	  "restarting (waiting for the restart policy) or unmonitored (running, but its\n"
	  "monitor died: `vserver start` adopts it).\n"
	  "\n"
	  "  -f, --format json   an array of the objects `vserver info --format json` prints\n" },
	{ "info",
	  "usage: vserver info [-f|--format table|json] NAME\n"
	  "\n"
	  "Show one server: status, image, network and address, published ports, the\n"
	  "pids of its init and monitor, limits, restart policy and restarts, autostart,\n"
	  "when it was created, started and stopped (with the last exit status), its\n"
	  "alert rules and the alerts that fired last.\n"
	  "\n"
	  "  -f, --format json   one object: name, status, image, net, ip, pid, monitor,\n"
	  "                      lastExit, restarts, cpus, memory, swap, disk, pids,\n"
	  "                      bandwidthIn, bandwidthOut, autostart, restart, created,\n"
	  "                      started, stopped\n" },
	{ "exec",
	  "usage: vserver exec [-t] [-i] [-e K=V] NAME CMD [ARG...]\n"
	  "\n"
	  "Run a command in a running server (its namespaces, user, capabilities and\n"
	  "cgroups) and exit with its exit status. Standard input is passed through.\n"
	  "\n"
	  "  -t, --tty           give the command a terminal\n"
	  "  -i, --interactive   accepted for habit; stdin is always passed\n"
	  "  -e, --env K=V       add an environment variable; repeatable\n" },
	{ "enter",
	  "usage: vserver enter NAME\n"
	  "\n"
	  "A login shell (/bin/sh -l) in a running server, on a terminal when standard\n"
	  "input is one; otherwise the shell reads its commands from standard input:\n"
	  "  echo 'uptime; exit' | vserver enter web\n"
	  "The exit status is the shell's.\n" },
	{ "logs",
	  "usage: vserver logs [-f|--follow] NAME\n"
	  "\n"
	  "Print the server's console log: what its processes wrote to standard output\n"
	  "and error, and the monitor's own [vserver ...] lines (started, exited with\n"
	  "status N, alerts, restarts). Rotated at 1 MiB to console.log.1.\n"
	  "\n"
	  "  -f, --follow   keep printing what is appended until interrupted\n" },
	{ "set",
	  "usage: vserver set NAME [--cpus N] [--memory SIZE] [--swap SIZE] [--pids N]\n"
	  "       [--io-max SPEC] [--io-weight N] [--bandwidth R] [--bandwidth-in R]\n"
	  "       [--bandwidth-out R] [--restart POLICY] [--autostart|--no-autostart]\n"
	  "\n"
	  "Change a server's limits. On a running server the cgroup and the bandwidth\n"
	  "caps change at once; the record and config.json are rewritten in every case,\n"
	  "so the change survives a restart. Values are those of create; a limit the\n"
	  "host cannot give is refused and nothing changes. --image, --disk, --net,\n"
	  "--ip, --publish, --hostname, --env and --init can only be given to create.\n" },
	{ "stats",
	  "usage: vserver stats [-w|--watch] [-f|--format json] [NAME...]\n"
	  "\n"
	  "Resource use of the named servers, or of every running one: CPU (% of one\n"
	  "CPU over 0.25 s), memory and its limit, tasks, block I/O read and written,\n"
	  "network received and sent, and the 10 s pressure (PSI) of cpu/memory/io.\n"
	  "\n"
	  "  -w, --watch         print again every second until interrupted\n"
	  "  -f, --format json   one object per server and line: name, cpuPercent,\n"
	  "                      memoryUsage, memoryLimit, pids, pidsLimit, ioRead,\n"
	  "                      ioWrite, netRx, netTx, pressure{cpu,memory,io}\n" },
	{ "snapshot",
	  "usage: vserver snapshot NAME SNAPSHOT\n"
	  "\n"
	  "Copy the disk (the writable layer) of a stopped server to a snapshot named\n"
	  "SNAPSHOT (reflinks where the filesystem has them). See restore.\n" },
	{ "restore",
	  "usage: vserver restore NAME SNAPSHOT\n"
	  "\n"
	  "Put a stopped server's disk back to the state of a snapshot. What was\n"
	  "written since is lost.\n" },
	{ "clone",
	  "usage: vserver clone SOURCE NEW\n"
	  "\n"
	  "Make a new server NEW with the record and a copy of the disk of the stopped\n"
	  "server SOURCE. The clone gets its own address and its name as host name.\n" },
	{ "export",
	  "usage: vserver export NAME FILE\n"
	  "\n"
	  "Write a stopped server (its record and its disk) to one tar file. The image\n"
	  "is not included: the importing host needs an image of the same name.\n" },
	{ "import",
	  "usage: vserver import FILE [NAME]\n"
	  "\n"
	  "Make a server from a file written by export, named NAME or as it was. It\n"
	  "gets a new address on this host.\n" },
	{ "boot",
	  "usage: vserver boot\n"
	  "\n"
	  "Start every --autostart server that is not running and print how many were\n"
	  "started. Run once when the host boots. A server that fails to start does not\n"
	  "stop the others; the exit status is then 1. On hosts with systemd, the unit\n"
	  "vserver-boot.service (installed by make install) runs it at boot and\n"
	  "`vserver shutdown` when the host goes down.\n" },
	{ "shutdown",
	  "usage: vserver shutdown [-t|--timeout S]\n"
	  "\n"
	  "Stop every running server (unmonitored ones too), all at once: each as\n"
	  "`vserver stop --timeout S` does (default 10, at most 3600). Prints how many\n"
	  "were stopped; the exit status is 1 when one could not be stopped.\n" },
	{ "console",
	  "usage: vserver console [--detach-keys KEYS] NAME\n"
	  "\n"
	  "Attach to a running server: print its console log so far, then what it\n"
	  "writes, live; what you type goes to its standard input. A server has no\n"
	  "terminal: its standard input is a pipe its monitor holds, so a shell there\n"
	  "reads and runs each line you type (your terminal echoes and edits the line).\n"
	  "Several consoles may be attached at once; each gets the output and all of\n"
	  "them type into the same input.\n"
	  "\n"
	  "  --detach-keys KEYS   the key sequence that detaches (default ctrl-]);\n"
	  "                       docker's syntax: ctrl-p,ctrl-q; ctrl-<a-z@[\\]^_> or one\n"
	  "                       character, comma-separated\n"
	  "\n"
	  "Ctrl-C detaches too. The server keeps running either way; the console ends\n"
	  "by itself when the server stops. A server adopted after its monitor was\n"
	  "killed keeps the pipes of the dead monitor: its console shows only the\n"
	  "monitor's own lines and takes no input.\n" },
	{ "image",
	  "usage: vserver image COMMAND [ARGS]\n"
	  "\n"
	  "The image store, shared by every server; each layer is stored once.\n"
	  "\n"
	  "  image import PATH [--name NAME] [-q|--quiet] [--format json]\n"
	  "                        import an OCI image layout directory\n"
	  "                        (skopeo, umoci, buildah) or a rootfs tarball (plain,\n"
	  "                        gzip, xz, zstd, bzip2); every blob is verified, and a\n"
	  "                        failed import leaves the store as it was; a progress\n"
	  "                        bar on stderr when it is a terminal (not with\n"
	  "                        --quiet or --format json)\n"
	  "  image ls [--format json]   list the images\n"
	  "  image inspect NAME    an image's record as JSON\n"
	  "  image rm NAME         remove an image (refused while a server uses it; its\n"
	  "                        layers go at the next gc)\n"
	  "  image gc              remove layers and blobs no image uses\n"
	  "  image default         (re)build default:latest from the host's busybox\n" },
	{ "net",
	  "usage: vserver net COMMAND [ARGS]\n"
	  "\n"
	  "Networks: a host bridge, a subnet servers get addresses from, outbound NAT\n"
	  "(masquerade) and published ports.\n"
	  "\n"
	  "  net create NAME [--bridge BR] [--subnet CIDR] [--subnet6 CIDR|none] [--isolate]\n"
	  "                        make a network (default bridge vsbr0, 172.30.0.0/24;\n"
	  "                        --isolate keeps its servers from reaching each other)\n"
	  "  net ls                list the networks\n"
	  "  net rm [--force] NAME remove a network (refused while servers hold\n"
	  "                        addresses in it, unless --force)\n" },
	{ "alert",
	  "usage: vserver alert COMMAND [ARGS]\n"
	  "\n"
	  "Alert rules, evaluated every second by the server's monitor; changes are\n"
	  "picked up live. A rule is METRIC >|< VALUE[%] [for Ns|Nm], where METRIC is\n"
	  "memory (bytes, or % of the limit), cpu (% of one CPU) or pids (count, or %\n"
	  "of the limit). A fired alert is logged to the console log and shown by\n"
	  "`vserver info`; it fires again only after the condition has cleared.\n"
	  "\n"
	  "  alert add NAME RULE [--exec CMD]   add a rule; CMD runs (sh -c) when it\n"
	  "                        fires, with VSERVER_NAME and VSERVER_ALERT set\n"
	  "  alert ls NAME         list the rules, numbered\n"
	  "  alert rm NAME RULE|NUMBER   remove a rule\n"
	  "\n"
	  "Example: vserver alert add web 'memory > 90% for 60s' --exec 'logger web'\n" },
};

/* the monitor's helpers, not listed */
static const struct cli_verb internal_verbs[] = {
	{ "__start", vs_cmd_helper, NULL, true },
	{ "__stop", vs_cmd_helper, NULL, false },
};

/* The binary on disk, before the sealed re-exec hides it: the monitor
 * program is found beside it and runs it as its helpers. A process running
 * from the sealed copy got it from its own earlier self. */
static void remember_exe(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (buf[0] == '/' && strncmp(buf, "/memfd:", 7))
		setenv("VSERVER_EXE", buf, 1);
}

static int run_verb(const struct cli_verb *v, int argc, char **argv)
{
	if (v->enters_container) {
		int r = rt_ensure_sealed_exe(argv, environ);
		if (r < 0)
			return cli_errorf("re-execute from a sealed copy: %s", strerror(-r));
	}
	g_cli.verb = argv[1];
	struct vs_err err = { 0 };
	bool help = argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"));
	for (size_t k = 0; help && k < VS_ARRAY_SIZE(helps); k++)
		if (!strcmp(helps[k].verb, argv[1])) {
			fputs(helps[k].text, stdout);
			return 0;
		}
	if (!help && srv_ctx_init(&g_srv, &err) < 0)
		return cli_error(&err);
	const char *exe = getenv("VSERVER_EXE");
	snprintf(g_srv.exe, sizeof(g_srv.exe), "%s", exe ? exe : "");
	g_srv.warn = cli_warn;
	g_srv.rt.warn = cli_warn;
	g_srv.rt.vm = &rt_vm_handler;  /* vserver links everything: VMs need no helper */
	optind = 0;
	return v->fn(argc - 1, argv + 1);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vserver <command> [options] [args]\n\nCommands:\n");
	for (size_t i = 0; i < VS_ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nState lives under /var/lib/vserver and /run/vserver "
		   "($VSERVER_ROOT/lib and /run when set).\n"
		   "Run 'vserver <command> --help' for a command's options; "
		   "'vserver --version' prints the version.\n");
}

int main(int argc, char **argv)
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
	remember_exe();
	for (size_t i = 0; i < VS_ARRAY_SIZE(verbs); i++)
		if (!strcmp(verbs[i].name, argv[1]))
			return run_verb(&verbs[i], argc, argv);
	for (size_t i = 0; i < VS_ARRAY_SIZE(internal_verbs); i++)
		if (!strcmp(internal_verbs[i].name, argv[1]))
			return run_verb(&internal_verbs[i], argc, argv);
	return cli_errorf("unknown command \"%s\" (see vserver --help)", argv[1]);
}
