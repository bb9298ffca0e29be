/* holdexec SOCKET DIR: a seccomp-notify agent for the tests of the window
 * between fork and execve (tests/oci-escape.bats).
 *
 * It listens on SOCKET for the listener fds vsrun sends (listenerPath) and
 * lets every notified syscall go on, except the first one of the second
 * listener (the first is the container init's, the second the one of the
 * `vsrun exec` process): that process is held in its execve, after its
 * capabilities are dropped and its filter is on, until DIR/scanned exists.
 * The agent says so in the file DIR/held (the host's pid of the process)
 * and with a line in the fifo DIR/wake. So a test knows, without any
 * timing, that the process is in the window while the container looks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[4096];

static int recv_fd(int conn)
{
	static char data[65536];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	if (recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static int exists(const char *name)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* one notification of listener fd; hold it first when told so */
static int answer(int fd, int hold)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	memset(&req, 0, sizeof(req));
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return errno == ENOENT || errno == EINTR ? 0 : -1;
	if (hold) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/held", dir);
		FILE *f = fopen(p, "w");
		if (f) {
			fprintf(f, "%u\n", req.pid);
			fclose(f);
		}
		/* wake the container's scanner: it waits reading the fifo
		 * DIR/wake (it may run no program while we hold: its execve
		 * would wait for us) */
		snprintf(p, sizeof(p), "%s/wake", dir);
		int w = open(p, O_WRONLY | O_CLOEXEC);
		if (w >= 0) {
			(void)!write(w, "go\n", 3);
			close(w);
		}
		/* the test bounds this wait; a dead test leaves no agent behind */
		for (int i = 0; i < 600 && !exists("scanned"); i++)
			usleep(50000);
	}
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: holdexec SOCKET DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[2]);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	unlink(sa.sun_path);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 8) < 0) {
		perror("holdexec: listen");
		return 1;
	}
	struct pollfd pf[16] = { { .fd = ls, .events = POLLIN } };
	int n = 1, held = 0;
	for (;;) {
		if (poll(pf, (nfds_t)n, -1) < 0)
			continue;
		for (int i = 1; i < n; i++) {
			if (pf[i].revents & POLLIN) {
				int hold = i == 2 && !held;
				if (answer(pf[i].fd, hold) > 0 && hold)
					held = 1;
			} else if (pf[i].revents & (POLLHUP | POLLERR)) {
				pf[i].fd = -1; /* keep the index: the second stays the second */
			}
		}
		if ((pf[0].revents & POLLIN) && n < 16) {
			int conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
			int fd = conn >= 0 ? recv_fd(conn) : -1;
			if (conn >= 0)
				close(conn);
			if (fd >= 0)
				pf[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		}
	}
}
