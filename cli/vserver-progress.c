/* A one-line progress bar on stderr for long operations (vserver image
 * import): redrawn in place at most every 100 ms and at the end of each
 * phase, only when stderr is a terminal. */
#include "vserver.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool vs_progress_init(struct vs_progress_bar *p, const char *label, bool quiet)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	p->on = !quiet && isatty(STDERR_FILENO);
	return p->on;
}

void vs_progress_cb(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct vs_progress_bar *p = arg;
	if (!p->on)
		return;
	double t = now_s();
	if (strcmp(p->phase, phase)) {
		snprintf(p->phase, sizeof(p->phase), "%s", phase);
		p->phase_start = t;
		p->last = 0;
	} else if (done < total && t - p->last < 0.1) {
		return;
	}
	p->last = t;
	double el = t - p->phase_start, mib = 1024.0 * 1024.0;
	int pct = total ? (int)(done * 100 / total) : 100;
	char bar[21];
	int fill = pct / 5;
	for (int i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[20] = '\0';
	fprintf(stderr, "\r\033[K%s: %-6s [%s] %3d%% %.1f/%.1f MiB", p->label, phase, bar, pct,
		(double)done / mib, (double)total / mib);
	if (el > 0.05)
		fprintf(stderr, " %.1f MiB/s", (double)done / mib / el);
	fflush(stderr);
	p->drawn = true;
}

void vs_progress_done(struct vs_progress_bar *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = false;
}
