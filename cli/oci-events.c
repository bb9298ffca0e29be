/* vsrun events [--stats] [--interval D] ID: stats every interval and an "oom"
 * event whenever the container's memory limit kills, until it stops. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int parse_interval(const char *s, long *ms)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v <= 0)
		return -1;
	if (!strcmp(end, "ms"))
		*ms = (long)v;
	else if (!strcmp(end, "s") || !*end)
		*ms = (long)(v * 1000);
	else if (!strcmp(end, "m"))
		*ms = (long)(v * 60000);
	else
		return -1;
	return *ms > 0 ? 0 : -1;
}

/* {"type":"oom","id":ID,"data":{"cgroup":"/pods/a","own":false,"limit":N,"kills":K}}:
 * runc's event with a data object naming the cgroup whose memory limit fired
 * (its own, or a parent's) */
static void print_oom(const char *id, const struct rt_oom_event *ev)
{
	printf("{\"type\":\"oom\",\"id\":");
	vs_json_fputs(stdout, id);
	printf(",\"data\":{\"kills\":%" PRIu64, ev->kills);
	if (*ev->cgroup) {
		printf(",\"cgroup\":");
		vs_json_fputs(stdout, ev->cgroup);
		printf(",\"own\":%s", ev->own ? "true" : "false");
		if (ev->limit != UINT64_MAX)
			printf(",\"limit\":%" PRIu64, ev->limit);
	}
	printf("}}\n");
	fflush(stdout);
}

/* stats every interval, an oom event when one happens, until the container stops */
static int watch(const char *id, struct rt_oom_watch *w, long interval_ms, struct vs_err *err)
{
	char *json = NULL;
	long since_stats = interval_ms; /* stats right away */
	const long tick = 100;
	for (;;) {
		if (since_stats >= interval_ms) {
			since_stats = 0;
			if (rt_stats_json(&g_cli.ctx, id, &json, err) < 0)
				return -err->code;
			printf("%s\n", json);
			free(json);
			fflush(stdout);
		}
		struct rt_oom_event ev;
		int r = rt_oom_poll(w, &ev, err);
		if (r < 0)
			return r;
		if (r > 0)
			print_oom(id, &ev);
		struct rt_state st;
		if (rt_state(&g_cli.ctx, id, &st, err) < 0)
			return -err->code;
		rt_state_free(&st);
		if (st.status == RT_STOPPED)
			return 0;
		struct timespec ts = { 0, tick * 1000000L };
		nanosleep(&ts, NULL);
		since_stats += tick;
	}
}

int oci_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool once = false;
	long interval_ms = 5000;
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's': once = true; break;
		case 'i':
			if (parse_interval(optarg, &interval_ms) < 0)
				return cli_errorf("events: --interval: expected a duration like 5s, got \"%s\"", optarg);
			break;
		case 'h': printf("usage: vsrun events [--stats] [--interval 5s] ID\n"); return 0;
		default: return 2;
		}
	}
	if (cli_need_args(argc, optind, 1, false, "events [--stats] [--interval 5s] ID") < 0)
		return 2;
	const char *id = argv[optind];
	struct vs_err err = { 0 };
	char *json = NULL;
	if (once) {
		if (rt_stats_json(&g_cli.ctx, id, &json, &err) < 0)
			return cli_error(&err);
		printf("%s\n", json);
		free(json);
		return 0;
	}
	struct rt_oom_watch *w = NULL;
	if (rt_oom_watch_new(&g_cli.ctx, id, &w, &err) < 0)
		return cli_error(&err);
	int r = watch(id, w, interval_ms, &err);
	rt_oom_watch_free(w);
	/* the container went away while we watched: not an error */
	return r >= 0 || err.code == ENOENT || err.code == ESRCH ? 0 : cli_error(&err);
}
