/* vm: the guest's whole state (RAM and devices) to a file and back, through
 * QEMU's migration over a unix socket: for live snapshots. QEMU runs under
 * -sandbox spawn=deny (no "exec:" URIs) and 7.2 has no "file:" URI, so we
 * are the other end of the socket: we listen and write what QEMU sends
 * (save), or QEMU listens (-incoming unix:PATH) and we send the file
 * (load). The guest should be paused for a save, so that its disk can be
 * copied in the same state. */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#define MIGRATE_TIMEOUT_MS 120000

static void nap(void)
{
	struct timespec ts = { 0, 50 * 1000000L };
	nanosleep(&ts, NULL);
}

static int unix_addr(const char *path, struct sockaddr_un *sa, struct vs_err *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return vs_failx(err, ENAMETOOLONG, "vm: migration socket %s: path too long", path);
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	return 0;
}

/* the "status" of query-migrate ("" when none yet) */
static int migrate_status(const char *qmp, char *buf, size_t len, struct vs_err *err)
{
	_cleanup_free_ char *reply = NULL;
	int r = vm_qmp(qmp, "{\"execute\":\"query-migrate\"}", &reply, err);
	if (r < 0)
		return r;
	yajl_val t = yajl_tree_parse(reply, NULL, 0);
	const char *p[] = { "return", "status", NULL };
	yajl_val s = t ? yajl_tree_get(t, p, yajl_t_string) : NULL;
	snprintf(buf, len, "%s", s ? YAJL_GET_STRING(s) : "");
	yajl_tree_free(t);
	return 0;
}

static int copy_fd(int in, int out, const char *what, struct vs_err *err)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vs_fail(err, errno, "vm: %s: read", what);
		if (n == 0)
			return 0;
		if (vs_write_all(out, buf, (size_t)n) < 0)
			return vs_fail(err, errno, "vm: %s: write", what);
	}
}

int vm_save_state(const char *qmp, const char *sock, const char *out, struct vs_err *err)
{
	struct sockaddr_un sa;
	int r = unix_addr(sock, &sa, err);
	if (r < 0)
		return r;
	_cleanup_close_ int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(sock);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
		return vs_fail(err, errno, "vm: listen on %s", sock);
	_cleanup_free_ char *tmp = vs_xasprintf("%s.tmp", out);
	_cleanup_free_ char *cmd = vs_xasprintf("{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:%s\"}}",
						 sock);
	_cleanup_close_ int c = -1;
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = vs_fail(err, errno, "vm: create %s", tmp);
		goto out;
	}
	if ((r = vm_qmp(qmp, cmd, NULL, err)) < 0)
		goto out;
	struct pollfd p = { .fd = l, .events = POLLIN };
	if (poll(&p, 1, 10000) <= 0) {
		r = vs_failx(err, ETIMEDOUT, "vm: qemu did not connect to %s to save the state", sock);
		goto out;
	}
	c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0 || (r = copy_fd(c, fd, "save state", err)) < 0) {
		r = c < 0 ? vs_fail(err, errno, "vm: accept on %s", sock) : r;
		goto out;
	}
	char st[32] = "";
	uint64_t end = vs_now_ns() + MIGRATE_TIMEOUT_MS * 1000000ULL;
	while ((r = migrate_status(qmp, st, sizeof(st), err)) >= 0 && strcmp(st, "completed")) {
		if (!strcmp(st, "failed") || !strcmp(st, "cancelled") || vs_now_ns() > end) {
			r = vs_failx(err, EIO, "vm: saving the state: migration %s", *st ? st : "timed out");
			break;
		}
		nap();
	}
	if (r >= 0 && fsync(fd) < 0)
		r = vs_fail(err, errno, "vm: sync %s", tmp);
	if (r >= 0 && rename(tmp, out) < 0)
		r = vs_fail(err, errno, "vm: rename %s", tmp);
out:
	if (r < 0)
		unlink(tmp);
	unlink(sock);
	return r;
}

int vm_load_state(const char *qmp, const char *sock, const char *in, struct vs_err *err)
{
	struct sockaddr_un sa;
	int r = unix_addr(sock, &sa, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = open(in, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vs_fail(err, errno, "vm: open %s", in);
	_cleanup_close_ int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		return vs_fail(err, errno, "vm: socket");
	/* QEMU listens once its -incoming is set up, about when QMP answers */
	uint64_t end = vs_now_ns() + 10000 * 1000000ULL;
	while (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if ((errno != ENOENT && errno != ECONNREFUSED) || vs_now_ns() > end)
			return vs_fail(err, errno, "vm: connect to the incoming socket %s", sock);
		nap();
	}
	if ((r = copy_fd(fd, c, "load state", err)) < 0)
		return r;
	shutdown(c, SHUT_WR);
	char st[32] = "";
	end = vs_now_ns() + MIGRATE_TIMEOUT_MS * 1000000ULL;
	while ((r = vm_status(qmp, st, sizeof(st), err)) >= 0 && !strcmp(st, "inmigrate")) {
		if (vs_now_ns() > end)
			return vs_failx(err, ETIMEDOUT, "vm: loading the state took too long");
		nap();
	}
	if (r >= 0 && strcmp(st, "running") && strcmp(st, "paused"))
		r = vs_failx(err, EIO, "vm: loading the state left the guest %s", st);
	unlink(sock);
	return r;
}
