/* runtime/console.c: the container's pty (process.terminal with
 * --console-socket) and fd passing over unix sockets. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* runs in: the runtime or container init: anywhere a unix socket path is
 * reachable. Paths longer than sun_path are reached through
 * /proc/self/fd/<dir>/<name>. */
int rt_unix_connect(const char *path, struct vs_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int dfd = -EBADF;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		const char *slash = strrchr(path, '/');
		char dir[4096];
		if (!slash || (size_t)(slash - path) >= sizeof(dir))
			return vs_failx(err, ENAMETOOLONG, "connect %s: path too long", path);
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		dfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return vs_fail(err, errno, "connect %s: open %s", path, dir);
		int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd,
				 slash + 1);
		if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
			return vs_failx(err, ENAMETOOLONG, "connect %s: name too long", path);
	} else {
		strcpy(sa.sun_path, path);
	}

	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vs_fail(err, errno, "connect %s: socket", path);
	int r;
	do
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return vs_fail(err, errno, "connect %s", path);
	return TAKE_FD(fd);
}

/* Sends fd with msg as the payload (at least one byte is needed to carry
 * the SCM_RIGHTS message; an empty msg sends a single NUL). runc's console
 * protocol puts the pty's name there. Returns 0 or -errno. */
int rt_send_fd(int sock, int fd, const char *msg)
{
	const char *payload = msg && *msg ? msg : "";
	size_t len = msg && *msg ? strlen(msg) : 1;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = { .iov_base = (void *)payload, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));

	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EPIPE;
	return 0;
}

/* Receives one fd (made close-on-exec) and its payload into buf
 * (NUL-terminated, truncated to buflen-1; buf may be NULL: on a stream
 * socket the rest of a longer payload stays queued, so size buf for the
 * protocol). Returns the fd, -EBADMSG when the message carried none, -EPIPE
 * at EOF, or -errno. */
int rt_recv_fd(int sock, char *buf, size_t buflen)
{
	char scratch[1];
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf && buflen > 1 ? buf : scratch,
			     .iov_len = buf && buflen > 1 ? buflen - 1 : sizeof(scratch) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	ssize_t n;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (buf && buflen > 1)
		buf[n] = '\0';
	else if (buf && buflen == 1)
		buf[0] = '\0';

	int fd = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int f;
			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = f;
			else
				close(f);       /* only one was asked for */
		}
	}
	if (n == 0 && fd < 0)
		return -EPIPE;
	if (fd < 0)
		return -EBADMSG;
	if (mh.msg_flags & MSG_CTRUNC) {
		close(fd);
		return -EBADMSG;
	}
	return fd;
}

/* The slave of master: through TIOCGPTPEER when the kernel has it (4.13+),
 * which cannot be fooled by whatever sits at /dev/pts/N in the container;
 * by path otherwise. name receives the path either way. */
static int open_peer(int master, char *name, size_t len)
{
	if (ptsname_r(master, name, len) != 0)
		return -errno;
	int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno != EINVAL && errno != ENOTTY)
		return -errno;
	fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* runs in: container init (or an exec'd process) inside the container's
 * namespaces, after pivot_root and the /dev/pts mount, before execve; the
 * console socket (sock_fd) was connected by the runtime before entering.
 *
 * Order: open the pty pair, size it, send the master to the console socket
 * and close our copy (the container must not keep the master, or a process
 * in it could read its own terminal's input), then become a session leader
 * with the slave as controlling terminal and stdio. */
int rt_console_setup(int sock_fd, const struct conf_process *p, struct vs_err *err)
{
	char name[64];
	int r;

	_cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return vs_fail(err, errno, "console: open /dev/ptmx");
	if (grantpt(master) < 0)
		return vs_fail(err, errno, "console: grantpt");
	if (unlockpt(master) < 0)
		return vs_fail(err, errno, "console: unlockpt");
	_cleanup_close_ int slave = open_peer(master, name, sizeof(name));
	if (slave < 0)
		return vs_fail(err, -slave, "console: open the pty slave");

	if (p && p->has_console_size) {
		struct winsize ws = { .ws_row = (unsigned short)p->console_height,
				      .ws_col = (unsigned short)p->console_width };
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return vs_fail(err, errno, "console: set the size %ux%u", p->console_width,
				       p->console_height);
	}

	r = rt_send_fd(sock_fd, master, name);
	if (r < 0)
		return vs_fail(err, -r, "console: send the pty master to the console socket");
	close(TAKE_FD(master));

	if (setsid() < 0 && !(errno == EPERM && getsid(0) == getpid()))
		return vs_fail(err, errno, "console: setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return vs_fail(err, errno, "console: make %s the controlling terminal", name);
	if (slave <= 2) {
		/* dup2 onto itself would keep O_CLOEXEC: move it out of the way */
		int moved = fcntl(slave, F_DUPFD_CLOEXEC, 3);
		if (moved < 0)
			return vs_fail(err, errno, "console: dup %s", name);
		close(slave);
		slave = moved;
	}
	for (int i = 0; i <= 2; i++)
		if (dup2(slave, i) < 0)
			return vs_fail(err, errno, "console: dup2 %s onto fd %d", name, i);
	return 0;
}
