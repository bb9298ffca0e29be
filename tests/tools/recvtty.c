/* recvtty: the receiving end of a --console-socket, for the tests.
 *   recvtty SOCKET [INPUT]
 * Listens on the unix socket SOCKET, accepts one connection, receives the pty
 * master over SCM_RIGHTS, prints the name sent with it on stderr as
 * "recvtty: got NAME", writes INPUT (if given) to the master, then copies
 * everything the master yields to stdout until the other side hangs up. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: recvtty SOCKET [INPUT]\n");
		return 2;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "recvtty: %s: path too long\n", argv[1]);
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		return die("socket");
	unlink(argv[1]);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
		return die("bind");
	int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return die("accept");
	close(ls);
	unlink(argv[1]);

	char name[256];
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return die("recvmsg");
	name[n] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "recvtty: no fd in the message\n");
		return 1;
	}
	int master;
	memcpy(&master, CMSG_DATA(cm), sizeof(int));
	close(c);
	fprintf(stderr, "recvtty: got %s\n", name);

	if (argc == 3) {
		size_t len = strlen(argv[2]);
		if (write(master, argv[2], len) != (ssize_t)len)
			return die("write the input");
	}
	char buf[4096];
	for (;;) {
		n = read(master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;   /* EIO: the last slave fd is closed */
		if (write(1, buf, (size_t)n) != n)
			return die("write stdout");
	}
	return 0;
}
