/* vsrun update: changes a live container's limits, from flags (runc's) or
 * from a linux.resources JSON file. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_update =
	"update [options] ID\n"
	"  -r, --resources FILE     linux.resources JSON (- for stdin)\n"
	"  --blkio-weight N         --cpu-period US   --cpu-quota US   --cpu-share N\n"
	"  --cpu-rt-period US       --cpu-rt-runtime US                --cpuset-cpus LIST\n"
	"  --cpuset-mems LIST       --memory SIZE     --memory-reservation SIZE\n"
	"  --memory-swap SIZE|-1    --pids-limit N    --cpu-idle 0|1\n"
	"  --kernel-memory SIZE     --kernel-memory-tcp SIZE   (cgroup v1 with kmem only)";

static int num(const char *opt, const char *s, bool size, int64_t *out)
{
	if (!strcmp(s, "-1")) {
		*out = -1;
		return 0;
	}
	uint64_t v;
	char *end;
	if (size) {
		if (vs_parse_size(s, &v) < 0)
			goto bad;
	} else {
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || *end || end == s)
			goto bad;
	}
	if (v > INT64_MAX)
		goto bad;
	*out = (int64_t)v;
	return 0;
bad:
	cli_errorf("update: --%s: expected %s, got \"%s\"", opt, size ? "a size" : "a number", s);
	return -1;
}

int oci_update(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "blkio-weight", required_argument, NULL, 1 },
		{ "cpu-period", required_argument, NULL, 2 },
		{ "cpu-quota", required_argument, NULL, 3 },
		{ "cpu-share", required_argument, NULL, 4 },
		{ "cpu-rt-period", required_argument, NULL, 5 },
		{ "cpu-rt-runtime", required_argument, NULL, 6 },
		{ "cpuset-cpus", required_argument, NULL, 7 },
		{ "cpuset-mems", required_argument, NULL, 8 },
		{ "memory", required_argument, NULL, 9 },
		{ "memory-reservation", required_argument, NULL, 10 },
		{ "memory-swap", required_argument, NULL, 11 },
		{ "pids-limit", required_argument, NULL, 12 },
		{ "cpu-idle", required_argument, NULL, 13 },
		{ "kernel-memory", required_argument, NULL, 14 },
		{ "kernel-memory-tcp", required_argument, NULL, 15 },
		{ "l3-cache-schema", required_argument, NULL, 16 },
		{ "mem-bw-schema", required_argument, NULL, 17 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct conf_resources res;
	memset(&res, 0, sizeof(res));
	const char *file = NULL;
	bool any = false;
	int c, ret = 2;
	int64_t v = 0;
	while ((c = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		const char *name = c > 0 && c < 20 ? opts[c].name : "";
		bool size = c == 9 || c == 10 || c == 11 || c == 14 || c == 15;
		if (c >= 1 && c <= 15 && c != 7 && c != 8 && num(name, optarg, size, &v) < 0)
			goto out;
		any = any || (c >= 1 && c <= 15);
		switch (c) {
		case 'r': file = optarg; break;
		case 1: res.block_io.weight = (struct opt_u64){ true, (uint64_t)v }; break;
		case 2: res.cpu.period = (struct opt_u64){ true, (uint64_t)v }; break;
		case 3: res.cpu.quota = (struct opt_i64){ true, v }; break;
		case 4: res.cpu.shares = (struct opt_u64){ true, (uint64_t)v }; break;
		case 5: res.cpu.realtime_period = (struct opt_u64){ true, (uint64_t)v }; break;
		case 6: res.cpu.realtime_runtime = (struct opt_i64){ true, v }; break;
		case 7: free(res.cpu.cpus); res.cpu.cpus = vs_xstrdup(optarg); break;
		case 8: free(res.cpu.mems); res.cpu.mems = vs_xstrdup(optarg); break;
		case 9: res.memory.limit = (struct opt_i64){ true, v }; break;
		case 10: res.memory.reservation = (struct opt_i64){ true, v }; break;
		case 11: res.memory.swap = (struct opt_i64){ true, v }; break;
		case 12: res.pids.limit = (struct opt_i64){ true, v }; break;
		case 13: res.cpu.idle = (struct opt_i64){ true, v }; break;
		case 14: res.memory.kernel = (struct opt_i64){ true, v }; break;
		case 15: res.memory.kernel_tcp = (struct opt_i64){ true, v }; break;
		case 16: case 17:
			ret = cli_errorf("update: --%s: Intel RDT is not supported", name);
			goto out;
		case 'h': printf("usage: vsrun %s\n", usage_update); ret = 0; goto out;
		default: goto out;
		}
	}
	if (cli_need_args(argc, optind, 1, false, "update [options] ID") < 0)
		goto out;
	struct vs_err err = { 0 };
	if (file) {
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		int r = vs_read_file(strcmp(file, "-") ? file : "/dev/stdin", &data, &len);
		if (r < 0) {
			vs_fail(&err, -r, "update: read %s", file);
			ret = cli_error(&err);
			goto out;
		}
		struct conf_resources fres;
		if (conf_parse_resources(data, len, file, &fres, &err) < 0) {
			ret = cli_error(&err);
			goto out;
		}
		/* flags given with the file win, as in runc */
		if (!any) {
			conf_resources_free(&res);
			res = fres;
		} else {
			conf_resources_free(&fres);
		}
	}
	ret = rt_update(&g_cli.ctx, argv[optind], &res, &err) < 0 ? cli_error(&err) : 0;
out:
	conf_resources_free(&res);
	return ret;
}
