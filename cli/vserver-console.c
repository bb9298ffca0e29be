/* vserver console [--detach-keys KEYS] NAME: attach to a running server.
 * The server has no terminal: its standard input is a pipe its monitor
 * holds, its output the pipe the monitor copies into console.log. Attached,
 * we print the log so far, then the server's output live, and pass what is
 * typed to its standard input. A detach key sequence (Ctrl-] unless
 * --detach-keys says otherwise) leaves; so does Ctrl-C. The server keeps
 * running either way; the console ends by itself when the server stops. */
#include "vserver.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>

#define MAX_KEYS 8

/* Docker's syntax: "ctrl-p,ctrl-q"; a key is ctrl-<a-z @ [ \ ] ^ _> or one
 * printable character. Returns the number of keys, or -1. */
static int parse_detach_keys(const char *spec, unsigned char *keys)
{
	int n = 0;
	const char *p = spec;
	while (*p) {
		size_t len = strcspn(p, ",");
		if (n == MAX_KEYS)
			return -1;
		if (len == 6 && !strncmp(p, "ctrl-", 5)) {
			char c = p[5];
			if (c >= 'a' && c <= 'z')
				keys[n++] = (unsigned char)(c - 'a' + 1);
			else if (c >= 'A' && c <= 'Z')
				keys[n++] = (unsigned char)(c - 'A' + 1);
			else if (strchr("@[\\]^_", c))
				keys[n++] = (unsigned char)(c == '@' ? 0 : c - '@');
			else
				return -1;
		} else if (len == 1 && p[0] > ' ' && p[0] < 127) {
			keys[n++] = (unsigned char)p[0];
		} else {
			return -1;
		}
		p += len;
		if (*p == ',' && *++p == '\0')
			return -1;
	}
	return n ? n : -1;
}

static struct termios saved_tty;
static bool tty_changed;

static void restore_tty(void)
{
	if (tty_changed)
		tcsetattr(0, TCSADRAIN, &saved_tty);
	tty_changed = false;
}

static void on_signal(int sig)
{
	restore_tty();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A terminal on our side stays in line mode (it edits and echoes lines
 * locally: the server's shell has no terminal to echo), and the detach
 * keys end a line at once so they are seen when typed. */
static void setup_tty(const unsigned char *keys, int n)
{
	if (!isatty(0) || tcgetattr(0, &saved_tty) < 0)
		return;
	struct termios t = saved_tty;
	/* no flow control: ctrl-q and ctrl-s are keys like others (ctrl-p,ctrl-q) */
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF);
	t.c_cc[VEOL] = keys[0];
	if (n > 1)
		t.c_cc[VEOL2] = keys[n - 1];
	if (tcsetattr(0, TCSADRAIN, &t) < 0)
		return;
	tty_changed = true;
	atexit(restore_tty);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
}

/* Copies the log so far to stdout. */
static void print_history(const char *name)
{
	char path[PATH_MAX], buf[8192];
	srv_path(&g_srv, name, "console.log", path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (vs_write_all(1, buf, (size_t)n) < 0)
			break;
	close(fd);
}

struct keymatch {
	const unsigned char *keys;
	int n, matched;           /* keys[0..matched-1] seen, held back */
};

/* Sends typed bytes to the server, holding back a partial detach sequence.
 * Returns 1 when the whole sequence was typed. */
static int forward_input(int sock, struct keymatch *km, const unsigned char *buf, size_t len)
{
	unsigned char out[4096 + MAX_KEYS];
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == km->keys[km->matched]) {
			if (++km->matched < km->n)
				continue;
			vs_write_all(sock, out, o);
			return 1;
		}
		/* a broken sequence: what was held back was plain input */
		memcpy(out + o, km->keys, (size_t)km->matched);
		o += (size_t)km->matched;
		km->matched = 0;
		if (buf[i] == km->keys[0])
			km->matched = 1;
		else
			out[o++] = buf[i];
	}
	if (o && vs_write_all(sock, out, o) < 0)
		return -1;
	return 0;
}

static int attach(int sock, const char *name, const unsigned char *keys, int n)
{
	struct keymatch km = { keys, n, 0 };
	bool in_open = true;
	for (;;) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN },
				       { .fd = in_open ? 0 : -1, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return cli_errorf("console: poll: %s", strerror(errno));
		}
		if (p[0].revents) {
			char buf[4096];
			ssize_t k = read(sock, buf, sizeof(buf));
			if (k <= 0) {
				restore_tty();
				fprintf(stderr, "\n[the console of %s closed: the server stopped]\n", name);
				return 0;
			}
			if (vs_write_all(1, buf, (size_t)k) < 0)
				return 1;
		}
		if (p[1].revents) {
			unsigned char buf[4096];
			ssize_t k = read(0, buf, sizeof(buf));
			/* end of input: keep following the output (on a terminal,
			 * Ctrl-D on an empty line: read on) */
			if (k == 0 && !isatty(0))
				in_open = false;
			if (k < 0 && errno != EINTR && errno != EAGAIN)
				in_open = false;
			if (k > 0) {
				int r = forward_input(sock, &km, buf, (size_t)k);
				if (r == 1) {
					restore_tty();
					fprintf(stderr, "\n[detached from %s: it keeps running]\n", name);
					return 0;
				}
				if (r < 0)
					return 0;
			}
		}
	}
}

int vs_cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach-keys", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *spec = "ctrl-]";
	int c;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		switch (c) {
		case 'k': spec = optarg; break;
		case 'h': printf("usage: vserver console [--detach-keys KEYS] NAME\n"); return 0;
		default: return 2;
		}
	}
	unsigned char keys[MAX_KEYS];
	int n = parse_detach_keys(spec, keys);
	if (n < 0) {
		cli_errorf("--detach-keys: expected keys like ctrl-] or ctrl-p,ctrl-q, got \"%s\"", spec);
		return 2;
	}
	if (vs_need_name(argc, optind, "console [--detach-keys KEYS] NAME") < 0)
		return 2;
	const char *name = argv[optind];
	struct vs_err err = { 0 };
	int sock = srv_console_connect(&g_srv, name, &err);
	if (sock < 0)
		return cli_error(&err);
	signal(SIGPIPE, SIG_IGN);
	/* before anything is printed: keys typed from then on are seen */
	setup_tty(keys, n);
	fprintf(stderr, "[console of %s: %s detaches, the server keeps running; it has no terminal: "
			"what you type goes to its standard input]\n", name, spec);
	print_history(name);
	int r = attach(sock, name, keys, n);
	close(sock);
	return r;
}
