/* vserver exec [-t] [-e K=V] NAME CMD... / enter NAME / logs [-f] NAME /
 * (console is in vserver-console.c) */
#include "vserver.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int vs_cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tty", no_argument, NULL, 't' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "env", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool tty = false;
	char **env = NULL;
	int c;
	while ((c = cli_getopt(argc, argv, "+tie:h", opts)) != -1) {
		switch (c) {
		case 't': tty = true; break;
		case 'i': break; /* stdin is always passed through */
		case 'e': vs_strv_push(&env, optarg); break;
		case 'h': printf("usage: vserver exec [-it] [-e K=V] NAME CMD [ARG...]\n"); return 0;
		default: vs_strv_free(env); return 2;
		}
	}
	if (cli_need_args(argc, optind, 2, true, "exec [-it] [-e K=V] NAME CMD [ARG...]") < 0) {
		vs_strv_free(env);
		return 2;
	}
	/* NAME -- CMD: the separator is optional */
	int cmd = optind + 1;
	if (!strcmp(argv[cmd], "--") && cmd + 1 < argc)
		cmd++;
	struct vs_err err = { 0 };
	int status = 0;
	int r = srv_exec(&g_srv, argv[optind], argv + cmd, tty, env, &status, &err);
	vs_strv_free(env);
	return r < 0 ? cli_error(&err) : status;
}

int vs_cmd_enter(int argc, char **argv)
{
	int r = vs_simple_opts(argc, argv, "enter NAME");
	if (r < 0)
		return r == -1 ? 0 : 2;
	if (vs_need_name(argc, optind, "enter NAME") < 0)
		return 2;
	char *sh[] = { "/bin/sh", "-l", NULL };
	struct vs_err err = { 0 };
	int status = 0;
	if (srv_exec(&g_srv, argv[optind], sh, isatty(0), NULL, &status, &err) < 0)
		return cli_error(&err);
	return status;
}

/* Prints the log, and with follow keeps printing what is appended until
 * interrupted. */
static int print_log(const char *name, bool follow)
{
	char path[PATH_MAX];
	srv_path(&g_srv, name, "console.log", path, sizeof(path));
	struct srv_info info;
	struct vs_err err = { 0 };
	if (srv_info(&g_srv, name, &info, &err) < 0)
		return cli_error(&err);
	srv_info_free(&info);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && !follow)
		return 0; /* never started: nothing logged yet */
	char buf[8192];
	for (;;) {
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : 0;
		if (n > 0) {
			if (vs_write_all(1, buf, (size_t)n) < 0)
				break;
			continue;
		}
		if (!follow)
			break;
		/* rotated? reopen */
		struct stat a, b;
		if (stat(path, &a) == 0 && (fd < 0 || (fstat(fd, &b) == 0 && a.st_ino != b.st_ino))) {
			if (fd >= 0)
				close(fd);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			continue;
		}
		poll(NULL, 0, 200);
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

int vs_cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool follow = false;
	int c;
	while ((c = cli_getopt(argc, argv, "+fh", opts)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		case 'h': printf("usage: vserver logs [-f] NAME\n"); return 0;
		default: return 2;
		}
	}
	if (vs_need_name(argc, optind, "logs [-f] NAME") < 0)
		return 2;
	return print_log(argv[optind], follow);
}
