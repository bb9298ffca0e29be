/* vsrun create: makes the container; its process waits for `start`. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_create =
	"create [-b|--bundle DIR] [--config FILE] [--console-socket PATH] [--pid-file FILE]\n"
	"       [--no-pivot] [--no-new-keyring] [--preserve-fds N] [--no-subreaper] ID";
static const char *usage_run =
	"run [-b|--bundle DIR] [--config FILE] [--console-socket PATH] [--pid-file FILE]\n"
	"       [--no-pivot] [--no-new-keyring] [--preserve-fds N] [--no-subreaper]\n"
	"       [-d|--detach] [--keep] ID";

/* Parses the options create and run share; run adds --detach and --keep. */
int cli_create_opts(int argc, char **argv, struct rt_create_opts *o, bool run)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "no-pivot", no_argument, NULL, 'P' },
		{ "no-new-keyring", no_argument, NULL, 'K' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ "no-subreaper", no_argument, NULL, 'S' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;
	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, run ? "+b:dh" : "+b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': o->bundle = optarg; break;
		case 'c': o->console_socket = optarg; break;
		case 'p': o->pid_file = optarg; break;
		case 'P': o->no_pivot = true; break;
		case 'K': o->no_new_keyring = true; break;
		case 'C': o->config_path = optarg; break;
		case 'S': break;
		case 'f': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 0 || n > 10000) {
				cli_errorf("--preserve-fds: expected a count, got \"%s\"", optarg);
				return -2;
			}
			o->preserve_fds = (int)n;
			if (cli_fill_preserved_fds(o->preserve_fds) < 0)
				return -2;
			break;
		}
		case 'd': if (run) { o->detach = true; break; } goto bad;
		case 'k': if (run) { o->keep = true; break; } goto bad;
		case 'h':
			printf("usage: vsrun %s\n", run ? usage_run : usage_create);
			return -1;
		default:
		bad:
			return -2;
		}
	}
	if (cli_need_args(argc, optind, 1, false, run ? usage_run : usage_create) < 0)
		return -2;
	o->id = argv[optind];
	return 0;
}

int oci_create(int argc, char **argv)
{
	struct rt_create_opts o;
	int r = cli_create_opts(argc, argv, &o, false);
	if (r < 0)
		return r == -1 ? 0 : 2;
	struct vs_err err = { 0 };
	if (rt_create(&g_cli.ctx, &o, &err) < 0)
		return cli_error(&err);
	return 0;
}
