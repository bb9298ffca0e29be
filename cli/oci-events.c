/* vsrun events [--stats] [--interval D] ID: stats every interval and an "oom"
 * event whenever the container's memory limit kills, until it stops. */
#include "cli.h"

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
	uint64_t ooms = 0, now_ooms;
	if (rt_oom_count(&g_cli.ctx, id, &ooms, &err) < 0)
		return cli_error(&err);
	long since_stats = interval_ms; /* stats right away */
	const long tick = 100;
	for (;;) {
		if (since_stats >= interval_ms) {
			since_stats = 0;
			if (rt_stats_json(&g_cli.ctx, id, &json, &err) < 0)
				break;
			printf("%s\n", json);
			free(json);
			fflush(stdout);
		}
		if (rt_oom_count(&g_cli.ctx, id, &now_ooms, &err) < 0)
			break;
		if (now_ooms > ooms) {
			ooms = now_ooms;
			printf("{\"type\":\"oom\",\"id\":\"%s\"}\n", id);
			fflush(stdout);
		}
		struct rt_state st;
		if (rt_state(&g_cli.ctx, id, &st, &err) < 0)
			break;
		rt_state_free(&st);
		if (st.status == RT_STOPPED)
			return 0;
		struct timespec ts = { 0, tick * 1000000L };
		nanosleep(&ts, NULL);
		since_stats += tick;
	}
	/* the container went away while we watched: not an error */
	return err.code == ENOENT || err.code == ESRCH ? 0 : cli_error(&err);
}
