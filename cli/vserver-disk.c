/* vserver snapshot|restore NAME SNAP, clone SRC DST, export NAME FILE,
 * import FILE [NAME] */
#include "vserver.h"

#include <stdio.h>

static int two_args(int argc, char **argv, const char *usage, int min, int max)
{
	int r = vs_simple_opts(argc, argv, usage);
	if (r < 0)
		return r;
	int have = argc - optind;
	if (have < min || have > max) {
		cli_errorf("%s: expected %d%s arguments (usage: vserver %s)", argv[0], min,
			   max > min ? " or more" : "", usage);
		return -2;
	}
	return 0;
}

#define RET(r) ((r) == -1 ? 0 : 2)

int vs_cmd_snapshot(int argc, char **argv)
{
	int r = two_args(argc, argv, "snapshot NAME SNAPSHOT", 2, 2);
	if (r < 0)
		return RET(r);
	struct vs_err err = { 0 };
	if (srv_snapshot(&g_srv, argv[optind], argv[optind + 1], false, &err) < 0)
		return cli_error(&err);
	printf("snapshot %s of %s taken\n", argv[optind + 1], argv[optind]);
	return 0;
}

int vs_cmd_restore(int argc, char **argv)
{
	int r = two_args(argc, argv, "restore NAME SNAPSHOT", 2, 2);
	if (r < 0)
		return RET(r);
	struct vs_err err = { 0 };
	if (srv_snapshot(&g_srv, argv[optind], argv[optind + 1], true, &err) < 0)
		return cli_error(&err);
	printf("%s restored to snapshot %s\n", argv[optind], argv[optind + 1]);
	return 0;
}

int vs_cmd_clone(int argc, char **argv)
{
	int r = two_args(argc, argv, "clone SOURCE NEW", 2, 2);
	if (r < 0)
		return RET(r);
	struct vs_err err = { 0 };
	if (srv_clone(&g_srv, argv[optind], argv[optind + 1], &err) < 0)
		return cli_error(&err);
	printf("cloned %s into %s\n", argv[optind], argv[optind + 1]);
	return 0;
}

int vs_cmd_export(int argc, char **argv)
{
	int r = two_args(argc, argv, "export NAME FILE", 2, 2);
	if (r < 0)
		return RET(r);
	struct vs_err err = { 0 };
	if (srv_export(&g_srv, argv[optind], argv[optind + 1], &err) < 0)
		return cli_error(&err);
	printf("exported %s to %s\n", argv[optind], argv[optind + 1]);
	return 0;
}

int vs_cmd_import(int argc, char **argv)
{
	int r = two_args(argc, argv, "import FILE [NAME]", 1, 2);
	if (r < 0)
		return RET(r);
	struct vs_err err = { 0 };
	const char *name = argc - optind > 1 ? argv[optind + 1] : NULL;
	if (srv_import(&g_srv, argv[optind], name, &err) < 0)
		return cli_error(&err);
	printf("imported %s\n", argv[optind]);
	return 0;
}
