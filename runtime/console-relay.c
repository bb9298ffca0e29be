/* The console relay of --init servers: a pty's master copied to and from
 * the monitor's pipes. Linked by the small monitor program too (it runs the
 * relay, `vserver-monitor --console-relay`), so it uses nothing beyond libc
 * and common/. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
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

/* Neither side may stall the relay, and through it the server: systemd
 * blocks in its write to /dev/console when nobody reads the pty's master,
 * and our copy blocks when its destination is full. So both destinations
 * are non-blocking, with a bounded buffer each:
 * - console output (master -> the monitor's pipe into console.log) is
 *   always read; what the pipe cannot take waits in out[] (64 KiB, on top
 *   of the pipe's own 64 KiB), and what does not fit there either is
 *   dropped and counted, with a line saying so once there is room again;
 * - typed input (the monitor's input pipe -> master) waits in in[] until
 *   the pty has room; meanwhile the input pipe is not read, so it fills and
 *   the monitor drops what clients type past it (its write is
 *   non-blocking too). Nobody reading /dev/console inside stalls nothing. */
#define RELAY_OUT_MAX (64u << 10)
#define RELAY_IN_MAX 8192u

struct relay {
	int master, out;           /* out: stdout's pipe, opened non-blocking */
	unsigned cr;               /* "\r"s held back (see pump_log) */
	size_t olen, ilen, ioff;
	unsigned long long dropped;
	char obuf[RELAY_OUT_MAX];
	char ibuf[RELAY_IN_MAX];
};

/* Writes what out[] holds, as far as the pipe takes it; then, once it is
 * empty, says how much was dropped. False when the pipe is broken. */
static bool flush_out(struct relay *r)
{
	while (r->olen) {
		ssize_t n = write(r->out, r->obuf, r->olen);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		memmove(r->obuf, r->obuf + n, r->olen - (size_t)n);
		r->olen -= (size_t)n;
	}
	if (r->dropped) {
		char note[96];
		int k = snprintf(note, sizeof(note),
				 "\n[vserver-console: %llu bytes of console output dropped: the log "
				 "could not keep up]\n", r->dropped);
		r->dropped = 0;
		memcpy(r->obuf, note, (size_t)k);
		r->olen = (size_t)k;
	}
	return true;
}

/* Queues n bytes for stdout: written at once when nothing waits before
 * them, else kept in out[] while it has room, else dropped. */
static bool emit(struct relay *r, const char *buf, size_t n)
{
	if (!r->olen && !r->dropped) {
		ssize_t k = write(r->out, buf, n);
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (k > 0) {
			buf += k;
			n -= (size_t)k;
		}
	}
	size_t room = RELAY_OUT_MAX - r->olen, take = n < room ? n : room;
	memcpy(r->obuf + r->olen, buf, take);
	r->olen += take;
	r->dropped += n - take;
	return true;
}

/* Copies what is readable on the console's master to stdout, with each
 * line's end as "\n": systemd resets the console's modes to a terminal's
 * (output processing on) whatever we set, and writes "\r\n" itself, so a
 * line arrives ending "\r\r\n"; console.log is a log, not a screen. The
 * "\r"s that end a read wait in r->cr (their count) for what follows; a
 * "\r" not before a line's end (a progress line) is kept. */
static bool pump_log(struct relay *r)
{
	char buf[4096], out[4096 + 64];
	ssize_t n = read(r->master, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	size_t o = 0;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\r') {
			if (++r->cr < 64)
				continue;
		} else if (buf[i] == '\n') {
			r->cr = 0;
		}
		for (; r->cr; --r->cr) {
			if (o == sizeof(out)) {
				if (!emit(r, out, o))
					return false;
				o = 0;
			}
			out[o++] = '\r';
		}
		if (buf[i] != '\r')
			out[o++] = buf[i];
		if (o >= sizeof(out) - 1) {
			if (!emit(r, out, o))
				return false;
			o = 0;
		}
	}
	return emit(r, out, o);
}

/* Typed input: what in[] holds goes to the master as far as the pty takes
 * it; when it is empty, the next read of stdin fills it. False on stdin's
 * end. */
static bool pump_in(struct relay *r, bool readable)
{
	if (!r->ilen && readable) {
		ssize_t n = read(0, r->ibuf, sizeof(r->ibuf));
		if (n <= 0)
			return n < 0 && (errno == EINTR || errno == EAGAIN);
		r->ilen = (size_t)n;
		r->ioff = 0;
	}
	while (r->ioff < r->ilen) {
		ssize_t n = write(r->master, r->ibuf + r->ioff, r->ilen - r->ioff);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			break;  /* the pty refuses it: dropped */
		}
		r->ioff += (size_t)n;
	}
	r->ilen = r->ioff = 0;
	return true;
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
	static struct relay r;  /* its buffers are touched only when used */
	struct termios t;
	if (tcgetattr(master, &t) == 0) {
		t.c_oflag &= ~(tcflag_t)OPOST;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(master, TCSANOW, &t);
	}
	(void)peer;  /* held, never used: see above */
	r.master = master;
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	/* our own open of the pipe, non-blocking: the monitor's end of it is
	 * shared with the start helpers, which must keep blocking writes */
	r.out = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (r.out < 0)
		r.out = 1;  /* no /proc: blocking, as before */
	bool in_open = true;
	for (;;) {
		struct pollfd p[4] = {
			{ .fd = master, .events = POLLIN | (r.ilen ? POLLOUT : 0) },
			{ .fd = in_open && !r.ilen ? 0 : -1, .events = POLLIN },
			{ .fd = pfd, .events = POLLIN },
			{ .fd = r.olen ? r.out : -1, .events = POLLOUT },
		};
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if ((p[3].revents & (POLLOUT | POLLERR)) && !flush_out(&r))
			return;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump_log(&r))
			return;
		if ((p[0].revents & POLLOUT) || (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			in_open = pump_in(&r, p[1].revents != 0) && in_open;
		if (p[2].revents)
			break;
	}
	/* init is gone: what it and its last processes wrote, for at most 2 s
	 * (the monitor waits for us at most 1 s) */
	uint64_t end = vs_now_ns() + 2000000000ULL;
	while (vs_now_ns() < end) {
		struct pollfd p[2] = { { .fd = master, .events = POLLIN },
				       { .fd = r.olen ? r.out : -1, .events = POLLOUT } };
		if (poll(p, 2, 50) <= 0)
			return;
		if ((p[1].revents & (POLLOUT | POLLERR)) && !flush_out(&r))
			return;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump_log(&r))
			return;
	}
}
