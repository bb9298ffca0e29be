/* vserver create NAME --image IMG [limits] [network] [-- CMD...] */
#include "vserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_create =
	"create NAME [--image IMG] [--cpus 1.5] [--memory 512M] [--swap 256M] [--disk 5G]\n"
	"       [--pids 512] [--io-max 'MAJ:MIN wbps=N'] [--io-weight N] [--net NET|none]\n"
	"       [--ip auto|ADDR] [--publish [hostip:]8080:80[/udp]] [--bandwidth 100mbit]\n"
	"       [--bandwidth-in R] [--bandwidth-out R] [--hostname H] [--env K=V]\n"
	"       [--init | -- CMD...] [--autostart] [--restart no|on-failure|always]\n"
	"       [--vm [--kernel PATH | --disk-image FILE] [--vcpus N]]\n"
	"  The image defaults to the embedded busybox image \"default\".";

void vs_fmt_size(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "BKMGT";
	double d = (double)v;
	int u = 0;
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)v);
	else
		snprintf(buf, len, d < 10 ? "%.1f%c" : "%.0f%c", d, units[u]);
}

static int size_opt(const char *name, const char *v, uint64_t *out)
{
	if (!strcmp(v, "max") || !strcmp(v, "none")) {
		*out = 0;
		return 0;
	}
	if (vs_parse_size(v, out) < 0) {
		cli_errorf("--%s: expected a size like 512M or 2G, got \"%s\"", name, v);
		return -1;
	}
	return 0;
}

int vs_server_opts(int argc, char **argv, struct conf_server *s, bool create)
{
	static const struct option opts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "swap", required_argument, NULL, 's' },
		{ "disk", required_argument, NULL, 'D' },
		{ "pids", required_argument, NULL, 'p' },
		{ "io-max", required_argument, NULL, 'O' },
		{ "io-weight", required_argument, NULL, 'W' },
		{ "net", required_argument, NULL, 'n' },
		{ "ip", required_argument, NULL, 'a' },
		{ "publish", required_argument, NULL, 'P' },
		{ "bandwidth", required_argument, NULL, 'b' },
		{ "bandwidth-in", required_argument, NULL, 'B' },
		{ "bandwidth-out", required_argument, NULL, 'U' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "env", required_argument, NULL, 'e' },
		{ "init", no_argument, NULL, 'I' },
		{ "autostart", no_argument, NULL, 'A' },
		{ "no-autostart", no_argument, NULL, 'N' },
		{ "restart", required_argument, NULL, 'r' },
		{ "vm", no_argument, NULL, 'V' },
		{ "kernel", required_argument, NULL, 'K' },
		{ "disk-image", required_argument, NULL, 'G' },
		{ "vcpus", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;
	char **io_max = NULL;
	bool io_given = false;
	while ((c = cli_getopt(argc, argv, "+i:e:h", opts)) != -1) {
		const char *name = NULL;
		for (size_t k = 0; opts[k].name; k++)
			if (opts[k].val == c)
				name = opts[k].name;
		if (!create && strchr("iDnaPHeIrVKGC", c) && c != 'r') {
			cli_errorf("set: --%s can only be given at create", name);
			goto fail;
		}
		switch (c) {
		case 'i': free(s->image); s->image = vs_xstrdup(optarg); break;
		case 'c': {
			char *end;
			double v = strtod(optarg, &end);
			if (*end || end == optarg || v < 0 || v > 4096) {
				cli_errorf("--cpus: expected a number of CPUs like 1.5, got \"%s\"", optarg);
				goto fail;
			}
			s->cpu_milli = (uint64_t)(v * 1000 + 0.5);
			if (v > 0 && s->cpu_milli < 10) {
				cli_errorf("--cpus: %s is below the smallest quota (0.01)", optarg);
				goto fail;
			}
			break;
		}
		case 'm': if (size_opt(name, optarg, &s->memory) < 0) goto fail; break;
		case 's': if (size_opt(name, optarg, &s->swap) < 0) goto fail; break;
		case 'D': if (size_opt(name, optarg, &s->disk) < 0) goto fail; break;
		case 'p': case 'W': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || end == optarg || optarg[0] < '0' || optarg[0] > '9') {
				cli_errorf("--%s: expected a number, got \"%s\"", name, optarg);
				goto fail;
			}
			if (c == 'p')
				s->pids = v;
			else
				s->io_weight = v;
			break;
		}
		case 'O': io_given = true; vs_strv_push(&io_max, optarg); break;
		case 'n': free(s->net); s->net = vs_xstrdup(optarg); break;
		case 'a':
			free(s->ip);
			s->ip = strcmp(optarg, "auto") ? vs_xstrdup(optarg) : NULL;
			break;
		case 'P': {
			char ip[64];
			unsigned hp, p;
			bool udp;
			if (conf_parse_publish(optarg, ip, &hp, &p, &udp) < 0) {
				cli_errorf("--publish: expected [hostip:]hostport:port[/udp] (hostip ipv4 or [ipv6]), got \"%s\"", optarg);
				goto fail;
			}
			vs_strv_push(&s->publish, optarg);
			break;
		}
		case 'b': case 'B': case 'U': {
			uint64_t bits = 0;
			if (strcmp(optarg, "none") && conf_parse_rate(optarg, &bits) < 0) {
				cli_errorf("--%s: expected a rate like 100mbit, got \"%s\"", name, optarg);
				goto fail;
			}
			if (c != 'U')
				s->bw_in = bits;
			if (c != 'B')
				s->bw_out = bits;
			break;
		}
		case 'H': free(s->hostname); s->hostname = vs_xstrdup(optarg); break;
		case 'e':
			if (!strchr(optarg, '=')) {
				cli_errorf("--env: expected K=V, got \"%s\"", optarg);
				goto fail;
			}
			vs_strv_push(&s->env, optarg);
			break;
		case 'I': s->init = true; break;
		case 'V': s->vm = true; break;
		case 'K': free(s->vm_kernel); s->vm_kernel = vs_xstrdup(optarg); break;
		case 'G': free(s->vm_disk_image); s->vm_disk_image = vs_xstrdup(optarg); break;
		case 'C': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 255) {
				cli_errorf("--vcpus: expected 1 to 255, got \"%s\"", optarg);
				goto fail;
			}
			s->vm_vcpus = v;
			break;
		}
		case 'A': s->autostart = true; break;
		case 'N': s->autostart = false; break;
		case 'r': {
			int pol = conf_restart_from_name(optarg);
			if (pol < 0) {
				cli_errorf("--restart: expected no, on-failure or always, got \"%s\"", optarg);
				goto fail;
			}
			s->restart = (enum conf_restart)pol;
			break;
		}
		case 'h':
			printf("usage: vserver %s\n", create ? usage_create :
			       "set NAME [--cpus N] [--memory SIZE] [--swap SIZE] [--pids N]\n"
			       "       [--io-max SPEC] [--io-weight N] [--bandwidth R] [--bandwidth-in R]\n"
			       "       [--bandwidth-out R] [--restart POLICY] [--autostart|--no-autostart]");
			vs_strv_free(io_max);
			return -2;
		default:
			goto fail;
		}
	}
	if (io_given) {
		vs_strv_free(s->io_max);
		s->io_max = io_max;
	}
	if (!s->vm && (s->vm_kernel || s->vm_disk_image || s->vm_vcpus)) {
		cli_errorf("--kernel, --disk-image and --vcpus need --vm");
		return -1;
	}
	if (s->swap && !s->memory) {
		cli_errorf("--swap needs --memory");
		return -1;
	}
	struct conf_resources res;
	struct vs_err err = { 0 };
	if (conf_server_resources(s, &res, &err) < 0) {
		cli_error(&err);
		return -1;
	}
	conf_resources_free(&res);
	return optind;
fail:
	vs_strv_free(io_max);
	return -1;
}

int vs_need_name(int argc, int optind_, const char *usage)
{
	return cli_need_args(argc, optind_, 1, false, usage);
}

int vs_simple_opts(int argc, char **argv, const char *usage)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		if (c == 'h') {
			printf("usage: vserver %s\n", usage);
			return -1;
		}
		return -2;
	}
	return 0;
}

int vs_cmd_create(int argc, char **argv)
{
	struct conf_server *s = vs_xcalloc(1, sizeof(*s));
	int ret = 2;
	/* vserver create NAME [options] [-- CMD...]: the name may come first */
	char *first = NULL;
	if (argc >= 2 && argv[1][0] != '-') {
		first = argv[1];
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	int idx = vs_server_opts(argc, argv, s, true);
	if (idx < 0) {
		ret = idx == -2 ? 0 : 2;
		goto out;
	}
	if (!first && argc - idx < 1) {
		cli_errorf("create: missing the server name (see vserver create --help)");
		goto out;
	}
	s->name = vs_xstrdup(first ? first : argv[idx++]);
	if (argc - idx > 0) {
		if (s->init) {
			cli_errorf("create: --init and a command exclude each other");
			goto out;
		}
		s->cmd = vs_strv_dup(argv + idx);
	}
	if (!s->image)
		s->image = vs_xstrdup("default");
	struct vs_err err = { 0 };
	if (srv_create(&g_srv, s, &err) < 0) {
		ret = cli_error(&err);
		goto out;
	}
	if (s->vm)
		printf("created %s (vm, %s %s, image %s, address %s)\n", s->name,
		       s->vm_kernel ? "kernel" : "disk image",
		       s->vm_kernel ? s->vm_kernel : s->vm_disk_image, s->image, s->ip ? s->ip : "none");
	else
		printf("created %s (image %s, address %s)\n", s->name, s->image, s->ip ? s->ip : "none");
	ret = 0;
out:
	conf_server_free(s);
	return ret;
}
