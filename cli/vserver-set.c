/* vserver set NAME [limits]: live resize. vserver stats [--watch] NAME... */
#include "vserver.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

int vs_cmd_set(int argc, char **argv)
{
	/* the name comes first: load the record, then parse the changes over it */
	if (argc >= 2 && argv[1][0] != '-') {
		struct vs_err err = { 0 };
		struct srv_info info;
		if (srv_info(&g_srv, argv[1], &info, &err) < 0)
			return cli_error(&err);
		struct conf_server *s = TAKE_PTR(info.rec);
		char *name = argv[1];
		argv[1] = argv[0];
		int idx = vs_server_opts(argc - 1, argv + 1, s, false);
		int ret = 2;
		if (idx == -2)
			ret = 0;
		else if (idx >= 0 && argc - 1 - idx != 0)
			cli_errorf("set: unexpected argument \"%s\"", argv[1 + idx]);
		else if (idx >= 0)
			ret = srv_set(&g_srv, name, s, &err) < 0 ? cli_error(&err) : 0;
		if (ret == 0 && idx >= 0)
			printf("updated %s\n", name);
		conf_server_free(s);
		return ret;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: vserver set NAME [--cpus N] [--memory SIZE] [--swap SIZE] [--pids N]\n"
		       "       [--io-max SPEC] [--io-weight N] [--bandwidth R] [--bandwidth-in R]\n"
		       "       [--bandwidth-out R] [--restart POLICY] [--autostart|--no-autostart]\n"
		       "  Limits change live on a running server and persist.\n");
		return 0;
	}
	return cli_errorf("set: missing the server name (usage: vserver set NAME [options])");
}

static void print_stats(const char *name, const struct srv_stats *st, bool json)
{
	char mu[16], ml[16], ir[16], iw[16], nr[16], nt[16];
	vs_fmt_size(mu, sizeof(mu), st->mem_usage);
	vs_fmt_size(ml, sizeof(ml), st->mem_limit);
	vs_fmt_size(ir, sizeof(ir), st->io_read);
	vs_fmt_size(iw, sizeof(iw), st->io_write);
	vs_fmt_size(nr, sizeof(nr), st->net_rx);
	vs_fmt_size(nt, sizeof(nt), st->net_tx);
	if (json) {
		printf("{\"name\":\"%s\",\"cpuPercent\":%.2f,\"memoryUsage\":%llu,\"memoryLimit\":%llu,"
		       "\"pids\":%llu,\"pidsLimit\":%llu,\"ioRead\":%llu,\"ioWrite\":%llu,"
		       "\"netRx\":%llu,\"netTx\":%llu", name, st->cpu_percent,
		       (unsigned long long)st->mem_usage, (unsigned long long)st->mem_limit,
		       (unsigned long long)st->pids, (unsigned long long)st->pids_limit,
		       (unsigned long long)st->io_read, (unsigned long long)st->io_write,
		       (unsigned long long)st->net_rx, (unsigned long long)st->net_tx);
		if (st->has_psi)
			printf(",\"pressure\":{\"cpu\":%.2f,\"memory\":%.2f,\"io\":%.2f}", st->psi_cpu,
			       st->psi_mem, st->psi_io);
		if (st->vm)
			printf(",\"vm\":{\"status\":\"%s\",\"vcpus\":%u,\"memory\":%llu,\"balloon\":%llu,"
			       "\"vmmRss\":%llu}", st->vm_status, st->vcpus,
			       (unsigned long long)st->vm_memory, (unsigned long long)st->vm_balloon,
			       (unsigned long long)st->vmm_rss);
		printf("}\n");
		return;
	}
	char psi[48] = "-";
	if (st->has_psi)
		snprintf(psi, sizeof(psi), "%.0f/%.0f/%.0f", st->psi_cpu, st->psi_mem, st->psi_io);
	printf("%-16s %6.1f%% %8s / %-8s %6llu %8s / %-8s %8s / %-8s %s\n", name, st->cpu_percent,
	       mu, st->mem_limit && st->mem_limit < (1ULL << 60) ? ml : "-",
	       (unsigned long long)st->pids, ir, iw, nr, nt, psi);
	if (st->vm) {
		char gm[16], gb[16], rss[16];
		vs_fmt_size(gm, sizeof(gm), st->vm_memory);
		vs_fmt_size(gb, sizeof(gb), st->vm_balloon);
		vs_fmt_size(rss, sizeof(rss), st->vmm_rss);
		printf("%-16s vm %s, %u vcpus, guest memory %s (balloon %s), vmm rss %s\n", "",
		       st->vm_status, st->vcpus, gm, gb, rss);
	}
}

int vs_cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", no_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool watch = false, json = false;
	int c;
	while ((c = cli_getopt(argc, argv, "+wf:h", opts)) != -1) {
		switch (c) {
		case 'w': watch = true; break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "table"))
				return cli_errorf("--format: expected table or json, got \"%s\"", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'h': printf("usage: vserver stats [--watch] [--format json] [NAME...]\n"); return 0;
		default: return 2;
		}
	}
	struct vs_err err = { 0 };
	char **names = NULL;
	if (optind < argc)
		names = vs_strv_dup(argv + optind);
	else if (srv_names(&g_srv, &names, &err) < 0)
		return cli_error(&err);
	int ret = 0;
	do {
		if (!json)
			printf("%-16s %7s %19s %6s %19s %19s %s\n", "NAME", "CPU", "MEMORY", "PIDS",
			       "IO READ / WRITE", "NET RX / TX", "PSI cpu/mem/io");
		for (size_t i = 0; names[i]; i++) {
			struct srv_stats st;
			if (srv_stats(&g_srv, names[i], 250, &st, &err) < 0) {
				if (optind < argc) {
					ret = cli_error(&err);
					watch = false;
				}
				continue;
			}
			print_stats(names[i], &st, json);
		}
		fflush(stdout);
		if (watch)
			poll(NULL, 0, 1000);
	} while (watch);
	vs_strv_free(names);
	return ret;
}
