/* Small facts about processes and time, shared by the engine and the
 * per-server monitor (which links this file without the rest of runtime/). */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void rt_now_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char base[40];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}

unsigned long long rt_pid_start_time(pid_t pid)
{
	char path[64];
	_cleanup_free_ char *s = NULL;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (vs_read_file(path, &s, NULL) < 0)
		return 0;
	char *p = strrchr(s, ')');
	if (!p)
		return 0;
	/* after ") ": field 3 is the state; start time is field 22 */
	char state = p[2];
	if (state == 'Z' || state == 'X')
		return 0;
	p += 2;
	for (int f = 3; f < 22 && p; f++) {
		p = strchr(p, ' ');
		if (p)
			p++;
		/* field 9, flags: PF_EXITING (0x4) is a process in exit. A
		 * pid-namespace init stays there, not yet a zombie, until every
		 * other process of its namespace is reaped, which may be never
		 * when one of them was reparented to a host init that does not
		 * reap: it is dead all the same */
		if (f == 8 && p && (strtoull(p, NULL, 10) & 0x4))
			return 0;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

bool rt_pid_alive(pid_t pid, unsigned long long start_time)
{
	if (pid <= 0)
		return false;
	unsigned long long t = rt_pid_start_time(pid);
	return t != 0 && (start_time == 0 || t == start_time);
}
