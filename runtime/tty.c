/* Foreground runs (vsrun run, exec without -d): forward signals to the
 * container's process, proxy a pty when the runtime owns it, and wait. */
#include "internal.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <termios.h>

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
				 SIGWINCH, SIGCONT, SIGTSTP };

static void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

/* Copies what is readable on from to to; false on EOF or error. */
static bool pump(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	return vs_write_all(to, buf, (size_t)n) >= 0;
}

int rt_wait_forward(pid_t pid, int pty_master, int *exit_status)
{
	sigset_t set, old;
	sigemptyset(&set);
	for (size_t i = 0; i < VS_ARRAY_SIZE(forwarded); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return -errno;

	struct termios saved;
	bool raw = false;
	if (pty_master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(0, TCSANOW, &t) == 0;
		copy_winsize(0, pty_master);
	}
	bool in_open = pty_master >= 0, out_open = pty_master >= 0;
	int status = 0, r = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = in_open ? 0 : -1, .events = POLLIN },
			{ .fd = out_open ? pty_master : -1, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD) {
				if (si.ssi_signo == SIGWINCH && pty_master >= 0)
					copy_winsize(0, pty_master);
				else
					kill(pid, (int)si.ssi_signo);
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			in_open = pump(0, pty_master);
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			out_open = pump(pty_master, 1);
	}
	/* drain what the process wrote before it exited */
	while (pty_master >= 0 && out_open) {
		struct pollfd p = { .fd = pty_master, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			break;
		out_open = pump(pty_master, 1);
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return r;
	if (WIFEXITED(status))
		*exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*exit_status = 128 + WTERMSIG(status);
	return 0;
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

/* runs in: a child of the start helper of a server whose init has a
 * terminal (--init), for as long as the server runs. The server's
 * /dev/console and init's stdio are the pty; what it writes goes to our
 * stdout (the monitor's pipe into console.log), our stdin (the monitor's
 * input pipe) to it. Output processing and echo are turned off, so typed
 * input is not doubled; systemd and a getty set their own modes, so the
 * copy into the log also turns "\r\n" back into "\n". We hold the pty's other side
 * open ourselves: systemd opens /dev/console for each message and closes it,
 * and a master whose other side nobody holds reads EIO. So the end is init's
 * exit (its pidfd), or the monitor's pipe breaking (SIGPIPE). */
void rt_console_relay(int master, pid_t init)
{
	struct termios t;
	if (tcgetattr(master, &t) == 0) {
		t.c_oflag &= ~(tcflag_t)OPOST;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(master, TCSANOW, &t);
	}
	int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	int pfd = (int)syscall(SYS_pidfd_open, init, 0);
	if (peer < 0 || pfd < 0)
		return;
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
			in_open = pump(0, master);
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
