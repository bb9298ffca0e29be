/* vserver start|stop|restart|destroy|boot NAME, and the monitor's helpers */
#include "vserver.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int vs_cmd_start(int argc, char **argv)
{
	int r = vs_simple_opts(argc, argv, "start NAME");
	if (r < 0)
		return r == -1 ? 0 : 2;
	if (vs_need_name(argc, optind, "start NAME") < 0)
		return 2;
	struct vs_err err = { 0 };
	if (srv_start(&g_srv, argv[optind], &err) < 0)
		return cli_error(&err);
	printf("started %s\n", argv[optind]);
	return 0;
}

/* --timeout SECONDS (0..3600) of stop, restart and shutdown */
static int parse_timeout(const char *arg, int *timeout)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || v < 0 || v > 3600)
		return cli_errorf("--timeout: expected seconds, got \"%s\"", arg), -1;
	*timeout = (int)v;
	return 0;
}

static int stop_opts(int argc, char **argv, const char *usage, int *timeout, bool *force)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;
	while ((c = cli_getopt(argc, argv, "+t:fh", opts)) != -1) {
		switch (c) {
		case 't':
			if (parse_timeout(optarg, timeout) < 0)
				return -2;
			break;
		case 'f':
			if (force) {
				*force = true;
				break;
			}
			cli_errorf("%s: unknown option --force", g_cli.verb);
			return -2;
		case 'h': printf("usage: vserver %s\n", usage); return -1;
		default: return -2;
		}
	}
	return vs_need_name(argc, optind, usage) < 0 ? -2 : 0;
}

int vs_cmd_stop(int argc, char **argv)
{
	int timeout = 10;
	int r = stop_opts(argc, argv, "stop [--timeout S] NAME", &timeout, NULL);
	if (r < 0)
		return r == -1 ? 0 : 2;
	struct vs_err err = { 0 };
	if (srv_stop(&g_srv, argv[optind], timeout, &err) < 0)
		return cli_error(&err);
	printf("stopped %s\n", argv[optind]);
	return 0;
}

int vs_cmd_restart(int argc, char **argv)
{
	int timeout = 10;
	int r = stop_opts(argc, argv, "restart [--timeout S] NAME", &timeout, NULL);
	if (r < 0)
		return r == -1 ? 0 : 2;
	struct vs_err err = { 0 };
	if (srv_stop(&g_srv, argv[optind], timeout, &err) < 0 && err.code != ESRCH)
		return cli_error(&err);
	if (srv_start(&g_srv, argv[optind], &err) < 0)
		return cli_error(&err);
	printf("restarted %s\n", argv[optind]);
	return 0;
}

int vs_cmd_destroy(int argc, char **argv)
{
	int timeout = 10;
	bool force = false;
	int r = stop_opts(argc, argv, "destroy [--force] NAME", &timeout, &force);
	if (r < 0)
		return r == -1 ? 0 : 2;
	struct vs_err err = { 0 };
	struct srv_info info;
	if (!force && srv_info(&g_srv, argv[optind], &info, &err) >= 0) {
		bool running = strcmp(info.status, "stopped") != 0;
		srv_info_free(&info);
		if (running)
			return cli_errorf("server \"%s\" is %s: stop it first, or use --force",
					  argv[optind], info.status);
	}
	if (srv_destroy(&g_srv, argv[optind], force, &err) < 0)
		return cli_error(&err);
	printf("destroyed %s\n", argv[optind]);
	return 0;
}

int vs_cmd_boot(int argc, char **argv)
{
	int r = vs_simple_opts(argc, argv, "boot");
	if (r < 0)
		return r == -1 ? 0 : 2;
	struct vs_err err = { 0 };
	unsigned n = 0;
	r = srv_boot(&g_srv, &n, &err);
	printf("started %u autostart server%s\n", n, n == 1 ? "" : "s");
	return r < 0 ? cli_error(&err) : 0;
}

static int pause_verb(int argc, char **argv, bool pause)
{
	const char *usage = pause ? "pause NAME" : "resume NAME";
	int r = vs_simple_opts(argc, argv, usage);
	if (r < 0)
		return r == -1 ? 0 : 2;
	if (vs_need_name(argc, optind, usage) < 0)
		return 2;
	struct vs_err err = { 0 };
	if (srv_pause(&g_srv, argv[optind], pause, &err) < 0)
		return cli_error(&err);
	printf("%s %s\n", pause ? "paused" : "resumed", argv[optind]);
	return 0;
}

int vs_cmd_pause(int argc, char **argv)
{
	return pause_verb(argc, argv, true);
}

int vs_cmd_resume(int argc, char **argv)
{
	return pause_verb(argc, argv, false);
}

int vs_cmd_shutdown(int argc, char **argv)
{
	int timeout = 10;
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;
	while ((c = cli_getopt(argc, argv, "+t:h", opts)) != -1) {
		switch (c) {
		case 't':
			if (parse_timeout(optarg, &timeout) < 0)
				return 2;
			break;
		case 'h': printf("usage: vserver shutdown [--timeout S]\n"); return 0;
		default: return 2;
		}
	}
	if (optind < argc) {
		cli_errorf("shutdown takes no server name (it stops them all)");
		return 2;
	}
	struct vs_err err = { 0 };
	unsigned n = 0;
	int r = srv_shutdown(&g_srv, timeout, &n, &err);
	printf("stopped %u server%s\n", n, n == 1 ? "" : "s");
	return r < 0 ? cli_error(&err) : 0;
}

/* `vserver __start [--adopt] NAME` and `vserver __stop NAME`: the steps
 * the server's monitor runs in a helper process (see runtime/monitor.c).
 * Not for users: they report to the monitor on fd 3, a pipe. */
static int helper_report_fd(void)
{
	struct stat st;
	if (fstat(3, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		cli_errorf("internal command: run by the server's monitor only");
		return -1;
	}
	fcntl(3, F_SETFD, FD_CLOEXEC);
	return 3;
}

int vs_cmd_helper(int argc, char **argv)
{
	bool start = !strcmp(argv[0], "__start");
	bool adopt = argc == 3 && !strcmp(argv[1], "--adopt");
	if (argc != 2 && !adopt)
		return cli_errorf("internal command: usage: %s [--adopt] NAME", argv[0]);
	int fd = helper_report_fd();
	if (fd < 0)
		return 2;
	const char *name = argv[argc - 1];
	struct vs_err err = { 0 };
	struct srv_started s = { 0 };
	char line[sizeof(err.msg) + 4200];
	int code = -1;
	int r = start ? srv_workload_start(&g_srv, name, adopt, &s, &err)
		      : srv_workload_stop(&g_srv, name, &code, &err);
	if (start || r < 0) {
		srv_report_format(&s, r < 0 ? &err : NULL, line, sizeof(line));
		vs_write_all(fd, line, strlen(line));
	} else if (code >= 0) {
		/* the workload's own exit status (a VM's agent line) */
		int n = snprintf(line, sizeof(line), "exit %d\n", code);
		vs_write_all(fd, line, (size_t)n);
	}
	return r < 0 ? 1 : 0;
}
