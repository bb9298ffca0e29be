/* vsrun spec: writes a default config.json into the bundle. */
#include "cli.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int oci_spec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *bundle = ".";
	bool rootless = false;
	int c;
	while ((c = getopt_long(argc, argv, "+b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bundle = optarg; break;
		case 'r': rootless = true; break;
		case 'h': printf("usage: vsrun spec [--bundle DIR] [--rootless]\n"); return 0;
		default: return 2;
		}
	}
	if (cli_need_args(argc, optind, 0, false, "spec [--bundle DIR] [--rootless]") < 0)
		return 2;
	char path[4096];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	_cleanup_free_ char *json = conf_default_spec(rootless);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		struct vs_err e;
		if (errno == EEXIST)
			vs_failx(&e, EEXIST, "spec: %s already exists: remove it first", path);
		else
			vs_fail(&e, errno, "spec: create %s", path);
		return cli_error(&e);
	}
	ssize_t w = vs_write_all(fd, json, strlen(json));
	close(fd);
	if (w < 0) {
		struct vs_err e;
		vs_fail(&e, (int)-w, "spec: write %s", path);
		unlink(path);
		return cli_error(&e);
	}
	return 0;
}
