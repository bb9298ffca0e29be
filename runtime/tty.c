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
			in_open = rt_pump(0, pty_master);
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			out_open = rt_pump(pty_master, 1);
	}
	/* drain what the process wrote before it exited */
	while (pty_master >= 0 && out_open) {
		struct pollfd p = { .fd = pty_master, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			break;
		out_open = rt_pump(pty_master, 1);
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
