/* Alert rules of the monitor: "memory > 90% for 60s => CMD". */
#include "internal.h"
#include "server-internal.h"

#include <stdio.h>
#include <string.h>

int srv_alert_parse(const char *spec, struct srv_alert *a, struct vs_err *err)
{
	memset(a, 0, sizeof(*a));
	char metric[16], op[3], num[32];
	int n = 0;
	if (sscanf(spec, " %15[a-z] %2[<>] %31[0-9.%] %n", metric, op, num, &n) != 3)
		goto bad;
	if (strcmp(metric, "memory") && strcmp(metric, "cpu") && strcmp(metric, "pids"))
		return vs_failx(err, EINVAL, "alert \"%s\": metric must be memory, cpu or pids", spec);
	snprintf(a->metric, sizeof(a->metric), "%s", metric);
	a->op = op[0];
	size_t l = strlen(num);
	if (l && num[l - 1] == '%') {
		a->percent = true;
		num[l - 1] = '\0';
	}
	char *end;
	a->value = strtod(num, &end);
	if (*end || end == num)
		goto bad;
	if (!strcmp(metric, "memory") && !a->percent) {
		/* an absolute memory figure may carry a unit: handled by the caller as bytes */
	}
	const char *rest = spec + n;
	unsigned secs = 0;
	int m = 0;
	if (!strncmp(rest, "for", 3)) {
		char unit = 's';
		if (sscanf(rest, "for %u%c %n", &secs, &unit, &m) < 1)
			goto bad;
		if (unit == 'm')
			secs *= 60;
		else if (unit != 's')
			goto bad;
		rest += m;
	}
	a->for_s = secs ? secs : 1;
	if (!strncmp(rest, "=>", 2)) {
		rest += 2;
		while (*rest == ' ')
			rest++;
		if (*rest)
			a->cmd = vs_xstrdup(rest);
	} else if (*rest) {
		goto bad;
	}
	return 0;
bad:
	return vs_failx(err, EINVAL, "alert \"%s\": expected METRIC >|< VALUE[%%] [for Ns] [=> CMD]", spec);
}
