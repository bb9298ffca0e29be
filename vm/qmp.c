/* vm: a QMP client, one command per connection. QMP speaks one JSON object
 * per line: a greeting {"QMP": ...}, then for each command a {"return": ...}
 * or {"error": {"class", "desc"}}, with asynchronous {"event": ...} lines
 * anywhere in between. A connection per command keeps no state in us: the
 * socket is the only handle on a running guest. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <yajl/yajl_tree.h>

#define QMP_TIMEOUT_S 10
#define QMP_MAX_LINE (1 << 20)

struct qmp_conn {
	int fd;
	char *buf;
	size_t len, cap;
};

static int qmp_connect(const char *sock, int *fd_out, struct vs_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(sa.sun_path))
		return vs_failx(err, ENAMETOOLONG, "vm: qmp socket path %s is too long", sock);
	strcpy(sa.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vs_fail(err, errno, "vm: qmp socket");
	struct timeval tv = { .tv_sec = QMP_TIMEOUT_S };
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return vs_fail(err, e, "vm: qmp connect %s", sock);
	}
	*fd_out = fd;
	return 0;
}

/* the next line (without its newline), owned by the caller */
static int read_line(struct qmp_conn *c, char **line, struct vs_err *err)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			char *l = vs_xmalloc(n + 1);
			memcpy(l, c->buf, n);
			l[n] = '\0';
			if (n && l[n - 1] == '\r')
				l[n - 1] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			*line = l;
			return 0;
		}
		if (c->len == c->cap) {
			if (c->cap >= QMP_MAX_LINE)
				return vs_failx(err, EMSGSIZE, "vm: qmp: reply line over %d bytes",
						QMP_MAX_LINE);
			c->cap = c->cap ? c->cap * 2 : 4096;
			c->buf = vs_xrealloc(c->buf, c->cap);
		}
		ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return vs_failx(err, ETIMEDOUT, "vm: qmp: no reply within %d s", QMP_TIMEOUT_S);
		if (n < 0)
			return vs_fail(err, errno, "vm: qmp read");
		if (n == 0)
			return vs_failx(err, ECONNRESET, "vm: qmp: connection closed by qemu");
		c->len += (size_t)n;
	}
}

/* Sends cmd and reads up to its reply, skipping events. */
static int transact(struct qmp_conn *c, const char *cmd, char **reply, struct vs_err *err)
{
	size_t n = strlen(cmd);
	if (vs_write_all(c->fd, cmd, n) < 0 || vs_write_all(c->fd, "\n", 1) < 0)
		return vs_fail(err, errno, "vm: qmp write");
	for (;;) {
		_cleanup_free_ char *line = NULL;
		char ebuf[128];
		int r = read_line(c, &line, err);
		if (r < 0)
			return r;
		yajl_val tree = yajl_tree_parse(line, ebuf, sizeof(ebuf));
		if (!tree || !YAJL_IS_OBJECT(tree)) {
			yajl_tree_free(tree);
			return vs_failx(err, EPROTO, "vm: qmp: not a json object: %.80s", line);
		}
		const char *p_ret[] = { "return", NULL };
		const char *p_desc[] = { "error", "desc", NULL };
		const char *p_ev[] = { "event", NULL };
		if (yajl_tree_get(tree, p_ev, yajl_t_any)) {
			yajl_tree_free(tree);
			continue;
		}
		if (yajl_tree_get(tree, p_ret, yajl_t_any)) {
			yajl_tree_free(tree);
			if (reply)
				*reply = TAKE_PTR(line);
			return 0;
		}
		yajl_val desc = yajl_tree_get(tree, p_desc, yajl_t_string);
		if (desc) {
			r = vs_failx(err, EIO, "vm: qmp: %s", YAJL_GET_STRING(desc));
			yajl_tree_free(tree);
			return r;
		}
		yajl_tree_free(tree);
		return vs_failx(err, EPROTO, "vm: qmp: unexpected reply: %.80s", line);
	}
}

int vm_qmp(const char *sock, const char *command, char **reply, struct vs_err *err)
{
	struct qmp_conn c = { .fd = -1 };
	_cleanup_free_ char *greeting = NULL;
	int r;

	if (reply)
		*reply = NULL;
	r = qmp_connect(sock, &c.fd, err);
	if (r < 0)
		return r;
	r = read_line(&c, &greeting, err);
	if (r < 0)
		goto out;
	if (!strstr(greeting, "\"QMP\"")) {
		r = vs_failx(err, EPROTO, "vm: qmp %s: no greeting (got %.80s)", sock, greeting);
		goto out;
	}
	r = transact(&c, "{\"execute\":\"qmp_capabilities\"}", NULL, err);
	if (r < 0)
		goto out;
	r = transact(&c, command, reply, err);
out:
	close(c.fd);
	free(c.buf);
	return r;
}
