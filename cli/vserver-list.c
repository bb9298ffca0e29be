/* vserver list [--format json] / vserver info [--format json] NAME */
#include "vserver.h"

#include <stdio.h>
#include <string.h>

static void json_str(const char *k, const char *v, bool comma)
{
	printf("\"%s\":\"", k);
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	printf("\"%s", comma ? "," : "");
}

static void print_json(const struct srv_info *i)
{
	const struct conf_server *s = i->rec;
	printf("{");
	json_str("name", i->name, true);
	json_str("status", i->status, true);
	json_str("image", i->image, true);
	json_str("net", i->net, true);
	json_str("ip", i->ip, true);
	json_str("kind", i->kind, true);
	json_str("accel", i->accel, true);
	if (s->vm) {
		json_str("kernel", s->vm_kernel ? s->vm_kernel : "", true);
		json_str("diskImage", s->vm_disk_image ? s->vm_disk_image : "", true);
		printf("\"vcpus\":%llu,", (unsigned long long)(s->vm_vcpus ? s->vm_vcpus : 1));
	}
	printf("\"pid\":%d,\"monitor\":%d,\"lastExit\":%d,\"restarts\":%u,", (int)i->pid,
	       (int)i->monitor, i->last_exit, i->restarts);
	printf("\"cpus\":%.2f,\"memory\":%llu,\"swap\":%llu,\"disk\":%llu,\"pids\":%llu,"
	       "\"bandwidthIn\":%llu,\"bandwidthOut\":%llu,\"autostart\":%s,",
	       (double)s->cpu_milli / 1000, (unsigned long long)s->memory,
	       (unsigned long long)s->swap, (unsigned long long)s->disk,
	       (unsigned long long)s->pids, (unsigned long long)s->bw_in,
	       (unsigned long long)s->bw_out, s->autostart ? "true" : "false");
	json_str("restart", conf_restart_name(s->restart), true);
	json_str("created", s->created, true);
	json_str("started", i->started, true);
	json_str("stopped", i->stopped, false);
	printf("}");
}

static int format_opt(int argc, char **argv, const char *usage, bool *json)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;
	while ((c = cli_getopt(argc, argv, "+f:h", opts)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
				cli_errorf("--format: expected table or json, got \"%s\"", optarg);
				return -2;
			}
			*json = !strcmp(optarg, "json");
			break;
		case 'h': printf("usage: vserver %s\n", usage); return -1;
		default: return -2;
		}
	}
	return 0;
}

int vs_cmd_list(int argc, char **argv)
{
	bool json = false;
	int r = format_opt(argc, argv, "list [--format table|json]", &json);
	if (r < 0)
		return r == -1 ? 0 : 2;
	if (cli_need_args(argc, optind, 0, false, "list [--format table|json]") < 0)
		return 2;
	struct vs_err err = { 0 };
	char **names = NULL;
	if (srv_names(&g_srv, &names, &err) < 0)
		return cli_error(&err);
	if (json)
		printf("[");
	else
		printf("%-16s %-12s %-16s %-16s %-6s %-8s %-8s %-8s %s\n", "NAME", "STATUS", "IMAGE",
		       "ADDRESS", "CPUS", "MEMORY", "DISK", "PID", "KIND");
	bool first = true;
	for (size_t i = 0; names[i]; i++) {
		struct srv_info info;
		struct vs_err e = { 0 };
		if (srv_info(&g_srv, names[i], &info, &e) < 0)
			continue; /* half-made by a crash: destroy --force removes it */
		if (json) {
			printf("%s", first ? "" : ",");
			print_json(&info);
		} else {
			char cpus[16] = "-", mem[16] = "-", disk[16] = "-";
			if (info.rec->cpu_milli)
				snprintf(cpus, sizeof(cpus), "%.2f", (double)info.rec->cpu_milli / 1000);
			if (info.rec->memory)
				vs_fmt_size(mem, sizeof(mem), info.rec->memory);
			if (info.rec->disk)
				vs_fmt_size(disk, sizeof(disk), info.rec->disk);
			char kind[32];
			snprintf(kind, sizeof(kind), "%s%s%s", info.kind, info.rec->vm ? "/" : "",
				 info.rec->vm ? info.accel : "");
			printf("%-16s %-12s %-16s %-16s %-6s %-8s %-8s %-8d %s\n", info.name, info.status,
			       info.image, info.ip, cpus, mem, disk, (int)info.pid, kind);
		}
		first = false;
		srv_info_free(&info);
	}
	if (json)
		printf("]\n");
	vs_strv_free(names);
	return 0;
}

int vs_cmd_info(int argc, char **argv)
{
	bool json = false;
	int r = format_opt(argc, argv, "info [--format table|json] NAME", &json);
	if (r < 0)
		return r == -1 ? 0 : 2;
	if (vs_need_name(argc, optind, "info [--format json] NAME") < 0)
		return 2;
	struct vs_err err = { 0 };
	struct srv_info i;
	if (srv_info(&g_srv, argv[optind], &i, &err) < 0)
		return cli_error(&err);
	if (json) {
		print_json(&i);
		printf("\n");
		srv_info_free(&i);
		return 0;
	}
	const struct conf_server *s = i.rec;
	char buf[32];
	printf("name:       %s\nstatus:     %s\nimage:      %s\n", i.name, i.status, i.image);
	printf("kind:       %s\n", i.kind);
	if (s->vm) {
		printf("accel:      %s\n", i.accel);
		printf("boot:       %s %s\n", s->vm_kernel ? "kernel" : "disk image",
		       s->vm_kernel ? s->vm_kernel : s->vm_disk_image);
		printf("vcpus:      %llu\n", (unsigned long long)(s->vm_vcpus ? s->vm_vcpus : 1));
	}
	printf("network:    %s  address %s\n", i.net, i.ip);
	if (s->publish)
		for (size_t k = 0; s->publish[k]; k++)
			printf("publish:    %s\n", s->publish[k]);
	printf("pid:        %d  (monitor %d)\n", (int)i.pid, (int)i.monitor);
	printf("cpus:       %s\n", s->cpu_milli ? (snprintf(buf, sizeof(buf), "%.2f", (double)s->cpu_milli / 1000), buf) : "no limit");
	vs_fmt_size(buf, sizeof(buf), s->memory);
	printf("memory:     %s\n", s->memory ? buf : "no limit");
	vs_fmt_size(buf, sizeof(buf), s->swap);
	printf("swap:       %s\n", s->swap ? buf : "-");
	vs_fmt_size(buf, sizeof(buf), s->disk);
	printf("disk:       %s\n", s->disk ? buf : "no quota");
	printf("pids:       %llu\n", (unsigned long long)s->pids);
	printf("bandwidth:  in %llu bit/s, out %llu bit/s (0 = no cap)\n",
	       (unsigned long long)s->bw_in, (unsigned long long)s->bw_out);
	printf("restart:    %s  autostart %s  restarts %u\n", conf_restart_name(s->restart),
	       s->autostart ? "yes" : "no", i.restarts);
	printf("created:    %s\nstarted:    %s\nstopped:    %s  (last exit %d)\n", s->created ? s->created : "",
	       i.started, i.stopped, i.last_exit);
	if (s->alerts)
		for (size_t k = 0; s->alerts[k]; k++)
			printf("alert:      %s\n", s->alerts[k]);
	if (i.alerts_log[0])
		printf("alert history:\n%s", i.alerts_log);
	srv_info_free(&i);
	return 0;
}
