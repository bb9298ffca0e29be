/* vserver-monitor: the per-server monitor program (runtime/monitor.c).
 * Run only by `vserver start`, detached:
 *   vserver-monitor --ready-fd N --vserver PATH NAME
 * It reports on fd N ("ok" or why the server did not start) and from then
 * on writes only to the server's console log. Also the console relay of an
 * --init server, run by its start helper (runtime/console-relay.c):
 *   vserver-monitor --console-relay
 * with the pty's master on fd 3, its other side on fd 4, a pidfd of the
 * server's init on fd 5, and the monitor's pipes as stdin and stdout. */
#include "../runtime/runtime.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <fcntl.h>

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--console-relay")) {
		for (int fd = 3; fd <= 5; fd++)
			if (fcntl(fd, F_GETFD) < 0) {
				fprintf(stderr, "vserver-monitor: --console-relay: fd %d is not open "
						"(run by vserver's start helper, not by hand)\n", fd);
				return 2;
			}
		prctl(PR_SET_NAME, "vserver-console");
		rt_console_relay(3, 4, 5);
		return 0;
	}
	int ready = -1;
	const char *exe = NULL, *name = NULL;
	bool bad = false;
	for (int i = 1; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "--ready-fd") && i + 1 < argc)
			ready = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--vserver") && i + 1 < argc)
			exe = argv[++i];
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			bad = true;
	}
	if (bad || ready < 3 || !exe || exe[0] != '/' || !name) {
		fprintf(stderr, "vserver-monitor: usage: vserver-monitor --ready-fd N --vserver PATH NAME "
				"(run by vserver start, not by hand)\n");
		return 2;
	}
	struct srv_ctx c;
	struct vs_err err = { 0 };
	if (srv_ctx_init(&c, &err) < 0) {
		dprintf(ready, "%s\n", err.msg);
		return 1;
	}
	snprintf(c.exe, sizeof(c.exe), "%s", exe);
	srv_monitor_main(&c, name, exe, ready);
}
