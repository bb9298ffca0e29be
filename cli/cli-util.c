/* Shared by every verb: error printing, --log, argument checks. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct cli_global g_cli = { .ctx = { .root = RT_DEFAULT_ROOT }, .prog = "vsrun" };

static void log_line(const char *level, const char *msg)
{
	if (!g_cli.log_path)
		return;
	int fd = open(g_cli.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	char ts[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (g_cli.log_json) {
		char *esc = NULL;
		size_t esc_len = 0;
		FILE *m = open_memstream(&esc, &esc_len);
		if (!m)
			goto out;
		vs_json_fputs(m, msg);
		fclose(m);
		dprintf(fd, "{\"level\":\"%s\",\"msg\":%s,\"time\":\"%s\"}\n", level, esc, ts);
		free(esc);
	} else {
		dprintf(fd, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
	}
out:
	close(fd);
}


int cli_error(const struct vs_err *err)
{
	const char *msg = err->msg[0] ? err->msg : strerror(err->code ? err->code : EIO);
	fprintf(stderr, "%s: %s\n", g_cli.prog, msg);
	log_line("error", msg);
	return 1;
}

int cli_errorf(const char *fmt, ...)
{
	struct vs_err e = { .code = EINVAL };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	return cli_error(&e);
}

void cli_warn(const char *msg)
{
	fprintf(stderr, "%s: warning: %s\n", g_cli.prog, msg);
	log_line("warning", msg);
}

int cli_need_args(int argc, int optind_, int n, bool at_least, const char *usage)
{
	int have = argc - optind_;
	if (have == n || (at_least && have > n))
		return 0;
	cli_errorf("%s: %s (usage: %s %s)", g_cli.verb,
		   have < n ? "missing arguments" : "too many arguments", g_cli.prog, usage);
	return -1;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	/* ':' first (after a '+'): a missing value is told apart */
	char opts[64];
	bool plus = shortopts[0] == '+';
	snprintf(opts, sizeof(opts), "%s:%s", plus ? "+" : "", shortopts + plus);
	opterr = 0;
	/* the word this call reads (optind 0: getopt starts over at 1) */
	int at = optind > 0 ? optind : 1;
	int c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	const char *word = at < argc ? argv[at] : "";
	bool is_long = !strncmp(word, "--", 2);
	char name[64];
	if (is_long)
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(word, "="), word);
	else
		snprintf(name, sizeof(name), "-%c", optopt > 0 ? optopt : '?');
	if (c == ':')
		cli_errorf("%s: option %s needs a value", g_cli.verb, name);
	else if (is_long && strchr(word, '=') && optopt)
		cli_errorf("%s: option %s takes no value", g_cli.verb, name);
	else
		cli_errorf("%s: unknown option %s", g_cli.verb, name);
	return '?';
}

int cli_parse_signal(const char *s)
{
	int sig = conf_signal_from_name(s);
	return sig > 0 ? sig : -1;
}

int cli_fill_preserved_fds(int n)
{
	for (int fd = 3; fd < 3 + n; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int nul = open("/dev/null", O_RDWR);  /* passed on: no O_CLOEXEC */
		if (nul < 0) {
			cli_errorf("--preserve-fds: open /dev/null: %s", strerror(errno));
			return -1;
		}
		if (nul != fd) {
			int r = dup2(nul, fd);
			close(nul);
			if (r < 0) {
				cli_errorf("--preserve-fds: dup2 to fd %d: %s", fd, strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}
