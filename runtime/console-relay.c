/* The console relay of --init servers: a pty's master copied to and from
 * the monitor's pipes. Linked by the small monitor program too (it runs the
 * relay, `vserver-monitor --console-relay`), so it uses nothing beyond libc
 * and common/. */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <termios.h>
#include <unistd.h>

#include "../common/common.h"

/* Copies what is readable on from to to; false on EOF or error. */
bool rt_pump(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	return vs_write_all(to, buf, (size_t)n) >= 0;
}

/* Copies what is readable on the console's master to stdout, with each
 * line's end as "\n": systemd resets the console's modes to a terminal's
 * (output processing on) whatever we set, and writes "\r\n" itself, so a
 * line arrives ending "\r\r\n"; console.log is a log, not a screen. The
 * "\r"s that end a read wait in *cr (their count) for what follows; a
 * "\r" not before a line's end (a progress line) is kept. */
static bool pump_log(int master, unsigned *cr)
{
	char buf[4096], out[4096 + 64];
	ssize_t n = read(master, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	size_t o = 0;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\r') {
			if (++*cr < 64)
				continue;
		} else if (buf[i] == '\n') {
			*cr = 0;
		}
		for (; *cr; --*cr) {
			if (o == sizeof(out)) {
				if (vs_write_all(1, out, o) < 0)
					return false;
				o = 0;
			}
			out[o++] = '\r';
		}
		if (buf[i] != '\r')
			out[o++] = buf[i];
		if (o >= sizeof(out) - 1) {
			if (vs_write_all(1, out, o) < 0)
				return false;
			o = 0;
		}
	}
	return vs_write_all(1, out, o) >= 0;
}

/* runs in: `vserver-monitor --console-relay`, which the start helper of a
 * server whose init has a terminal (--init) runs for as long as the server
 * runs; peer is the pty's other side, pfd a pidfd of init. The server's
 * /dev/console and init's stdio are the pty; what it writes goes to our
 * stdout (the monitor's pipe into console.log), our stdin (the monitor's
 * input pipe) to it. Output processing and echo are turned off, so typed
 * input is not doubled; systemd and a getty set their own modes, so the
 * copy into the log also turns "\r\n" back into "\n". We hold the pty's other side
 * open ourselves: systemd opens /dev/console for each message and closes it,
 * and a master whose other side nobody holds reads EIO. So the end is init's
 * exit (its pidfd), or the monitor's pipe breaking (SIGPIPE). */
void rt_console_relay(int master, int peer, int pfd)
{
	struct termios t;
	if (tcgetattr(master, &t) == 0) {
		t.c_oflag &= ~(tcflag_t)OPOST;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(master, TCSANOW, &t);
	}
	(void)peer;  /* held, never used: see above */
	bool in_open = true;
	unsigned cr = 0;
	for (;;) {
		struct pollfd p[3] = { { .fd = master, .events = POLLIN },
				       { .fd = in_open ? 0 : -1, .events = POLLIN },
				       { .fd = pfd, .events = POLLIN } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump_log(master, &cr))
			return;
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			in_open = rt_pump(0, master);
		if (p[2].revents)
			break;
	}
	/* init is gone: what it and its last processes wrote */
	for (;;) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0 || !pump_log(master, &cr))
			return;
	}
}
