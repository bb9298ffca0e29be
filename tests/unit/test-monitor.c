/* The line the monitor's start helper reports (srv_report_format /
 * srv_report_parse) and the alert rules the monitor evaluates. */
#include "tap.h"
#include "../../runtime/runtime.h"

#include <limits.h>

static void round_trip(void)
{
	struct srv_started s = { .pid = 4242, .adopted = false, .cg_mode = 1 }, got;
	struct vs_err err = { 0 };
	char line[8192];
	snprintf(s.cg_path, sizeof(s.cg_path), "/vsrun-vserver/web");
	srv_report_format(&s, NULL, line, sizeof(line));
	is_str(line, "ok 4242 1 /vsrun-vserver/web\n", "a start is reported as ok PID MODE PATH");
	is_int(srv_report_parse(line, &got, &err), 0, "and parsed back");
	is_int(got.pid, 4242, "pid");
	ok(!got.adopted, "not adopted");
	is_int(got.cg_mode, 1, "cgroup mode");
	is_str(got.cg_path, "/vsrun-vserver/web", "cgroup path, without the newline");

	s.adopted = true;
	srv_report_format(&s, NULL, line, sizeof(line));
	is_int(srv_report_parse(line, &got, &err), 0, "an adoption parses");
	ok(got.adopted, "adopt is adopted");

	/* a path as long as the struct holds survives the round trip */
	memset(s.cg_path, 'a', sizeof(s.cg_path) - 1);
	s.cg_path[0] = '/';
	s.cg_path[sizeof(s.cg_path) - 1] = '\0';
	srv_report_format(&s, NULL, line, sizeof(line));
	is_int(srv_report_parse(line, &got, &err), 0, "a long cgroup path parses");
	is_int(strlen(got.cg_path), sizeof(s.cg_path) - 1, "and keeps its length");
}

static void errors(void)
{
	struct srv_started got = { 0 };
	struct vs_err err = { 0 }, in = { 0 };
	char line[1024];
	snprintf(in.msg, sizeof(in.msg), "create: rootfs /x: No such file or directory");
	srv_report_format(&got, &in, line, sizeof(line));
	is_str(line, "error create: rootfs /x: No such file or directory\n", "a failure is error MESSAGE");
	is_int(srv_report_parse(line, &got, &err), -EIO, "which parses as a failure");
	is_str(err.msg, "create: rootfs /x: No such file or directory", "carrying the message");

	const char *bad[] = { "", "ok", "ok x 1 /p", "ok 0 1 /p", "ok -3 1 /p", "started 12 1 /p",
			      "ok 12", "garbage" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		is_int(srv_report_parse(bad[i], &got, &err), -EPROTO, "garbled \"%s\" is refused", bad[i]);
		ok(strstr(err.msg, "garbled") != NULL && !strchr(err.msg, '\n'),
		   "with a one-line message: %s", err.msg);
	}
	{
		memset(&err, 0, sizeof(err));
		srv_report_parse("nonsense line\nsecond line\n", &got, &err);
		ok(!strchr(err.msg, '\n'), "a report of several lines gives a one-line message: %s",
		   err.msg);
	}
}

int main(void)
{
	round_trip();
	errors();
	return tap_done();
}
