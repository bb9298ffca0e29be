/* The parent<->init sync protocol: fixed-size messages over a SOCK_SEQPACKET
 * socketpair, so an error inside the child reaches the user as one line. */
#include "internal.h"

#include <string.h>
#include <sys/socket.h>

int rt_sync_send(int fd, int type, const struct vs_err *err)
{
	struct sync_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	if (err) {
		m.code = err->code;
		memcpy(m.msg, err->msg, sizeof(m.msg));
		m.msg[sizeof(m.msg) - 1] = '\0';
	}
	for (;;) {
		ssize_t n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
		if (n == (ssize_t)sizeof(m))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : -EIO;
	}
}

int rt_sync_recv(int fd, struct sync_msg *m)
{
	for (;;) {
		ssize_t n = recv(fd, m, sizeof(*m), 0);
		if (n == (ssize_t)sizeof(*m)) {
			m->msg[sizeof(m->msg) - 1] = '\0';
			return 0;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : -EPIPE;
	}
}

/* A variable-size payload (the state JSON for hooks run by init). */
int rt_sync_send_data(int fd, const char *data)
{
	size_t len = strlen(data) + 1;
	ssize_t n;
	do
		n = send(fd, data, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
}

int rt_sync_recv_data(int fd, char **out)
{
	size_t cap = 65536;
	char *buf = vs_xmalloc(cap);
	ssize_t n;
	do
		n = recv(fd, buf, cap - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		free(buf);
		return n < 0 ? -errno : -EPIPE;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}
