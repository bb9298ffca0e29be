/* vm: the host's side of the guest agent (vm/agent/proto.h): one exec per
 * connection to the agent's unix socket (QEMU's end of the virtio-serial
 * port). QEMU takes one connection at a time; a second exec waits in the
 * socket's backlog until the first ends. The guest acknowledges an exec at
 * once (STARTED): that first frame is awaited at most VS_VM_AGENT_TIMEOUT
 * seconds (30 by default), so a guest that never answers is an error, not
 * a hang; after it the exec runs as long as it runs. Each exec has a random
 * tag on its frames (proto.h): what the guest sends with another tag is the
 * end of an exec whose host went away, and is dropped. */
#include "internal.h"
#include "agent/proto.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>

void *vm_agent_encode_proc(char *const *argv, char *const *env, const char *cwd,
			   const struct vm_agent_user *user, size_t *len)
{
	static const struct vm_agent_user root = { 0 };
	if (!user)
		user = &root;
	size_t argc = vs_strv_len((char **)argv), envc = vs_strv_len((char **)env);
	size_t ngids = user->n_gids > AGENT_MAX_GIDS ? AGENT_MAX_GIDS : user->n_gids;
	size_t n = 8 + strlen(cwd ? cwd : "") + 1 + 12 + 4 * ngids;
	for (size_t i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	for (size_t i = 0; i < envc; i++)
		n += strlen(env[i]) + 1;
	unsigned char *buf = vs_xmalloc(n), *p = buf + 8;
	agent_put_u32(buf, (uint32_t)argc);
	agent_put_u32(buf + 4, (uint32_t)envc);
	for (size_t i = 0; i < argc + envc + 1; i++) {
		const char *s = i < argc ? argv[i] : i < argc + envc ? env[i - argc] : (cwd ? cwd : "");
		size_t l = strlen(s) + 1;
		memcpy(p, s, l);
		p += l;
	}
	agent_put_u32(p, user->uid);
	agent_put_u32(p + 4, user->gid);
	agent_put_u32(p + 8, (uint32_t)ngids);
	for (size_t i = 0; i < ngids; i++)
		agent_put_u32(p + 12 + 4 * i, user->gids[i]);
	*len = n;
	return buf;
}

static int send_frame(int fd, uint8_t type, uint32_t tag, const void *data, size_t len,
		      struct vs_err *err)
{
	unsigned char h[8];
	agent_put_hdr(h, type, tag, (uint32_t)len);
	if (vs_write_all(fd, h, sizeof(h)) < 0 || (len && vs_write_all(fd, data, len) < 0))
		return vs_fail(err, errno, "vm: agent: send");
	return 0;
}

static int agent_connect(const char *sock, struct vs_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(sa.sun_path))
		return vs_failx(err, ENAMETOOLONG, "vm: agent socket %s: path too long", sock);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vs_fail(err, errno, "vm: agent: socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return vs_fail(err, e, "vm: agent: connect %s", sock);
	}
	return fd;
}

/* reads one frame; 0 at a clean EOF between frames */
static int read_frame(int fd, struct agent_hdr *h, unsigned char *buf, struct vs_err *err)
{
	unsigned char raw[8];
	ssize_t n = vs_read_all(fd, raw, sizeof(raw));
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return 0;  /* hung up (a reset: it left our last frame unread) */
	if (n != (ssize_t)sizeof(raw))
		return vs_failx(err, EPROTO, "vm: agent: the guest closed the connection mid-frame");
	h->type = raw[0];
	h->tag = agent_hdr_tag(raw);
	h->len = agent_get_u32(raw + 4);
	if (h->len > AGENT_MAX_PAYLOAD)
		return vs_failx(err, EPROTO, "vm: agent: frame of %u bytes", h->len);
	if (h->len && vs_read_all(fd, buf, h->len) != (ssize_t)h->len)
		return vs_failx(err, EPROTO, "vm: agent: the guest closed the connection mid-frame");
	return 1;
}

/* a random tag for one exec, never 0 (the tag of untagged frames) */
static uint32_t new_tag(void)
{
	uint32_t t = 0;
	if (getrandom(&t, sizeof(t), GRND_NONBLOCK) != sizeof(t))
		t = (uint32_t)vs_now_ns() ^ (uint32_t)getpid() << 8;
	t &= AGENT_TAG_MASK;
	return t ? t : 1;
}

/* seconds to wait for the guest's STARTED */
static int start_timeout(void)
{
	const char *e = getenv("VS_VM_AGENT_TIMEOUT");
	char *end;
	long v = e ? strtol(e, &end, 10) : 0;
	return e && *e && !*end && v > 0 && v <= 3600 ? (int)v : 30;
}

int vm_agent_exec(const char *sock, char *const *argv, char *const *env, const char *cwd,
		  const struct vm_agent_user *user, int in_fd, int out_fd, int err_fd,
		  int *exit_status, struct vs_err *err)
{
	if (!argv || !argv[0])
		return vs_failx(err, EINVAL, "vm: agent: no command");
	_cleanup_close_ int fd = agent_connect(sock, err);
	if (fd < 0)
		return fd;
	size_t len;
	_cleanup_free_ void *req = vm_agent_encode_proc(argv, env, cwd, user, &len);
	if (len > AGENT_MAX_PAYLOAD)
		return vs_failx(err, E2BIG, "vm: agent: the command and its environment exceed %u bytes",
				AGENT_MAX_PAYLOAD);
	uint32_t tag = new_tag();
	int r = send_frame(fd, AGENT_EXEC, tag, req, len, err);
	if (r < 0)
		return r;
	if (in_fd < 0 && (r = send_frame(fd, AGENT_EOF, tag, NULL, 0, err)) < 0)
		return r;
	_cleanup_free_ unsigned char *buf = vs_xmalloc(AGENT_MAX_PAYLOAD);
	int limit = start_timeout();
	uint64_t deadline = vs_now_ns() + (uint64_t)limit * 1000000000u;
	bool started = false;
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = in_fd, .events = POLLIN } };
		int ms = -1;
		if (!started) {
			uint64_t now = vs_now_ns();
			ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
		}
		int k = poll(p, in_fd >= 0 ? 2 : 1, ms);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return vs_fail(err, errno, "vm: agent: poll");
		}
		if (!started && !(k > 0 && p[0].revents) && vs_now_ns() >= deadline)
			return vs_failx(err, ETIMEDOUT, "vm: agent: no answer from the guest in %d s", limit);
		if (in_fd >= 0 && p[1].revents) {
			ssize_t n = read(in_fd, buf, 16384);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0)
				r = send_frame(fd, AGENT_STDIN, tag, buf, (size_t)n, err);
			else {
				r = send_frame(fd, AGENT_EOF, tag, NULL, 0, err);
				in_fd = -1;
			}
			if (r < 0)
				return r;
		}
		if (!p[0].revents)
			continue;
		struct agent_hdr h = { 0 };
		r = read_frame(fd, &h, buf, err);
		if (r < 0)
			return r;
		if (r == 0)
			return vs_failx(err, EPIPE, "vm: agent: the guest ended the exec without a status");
		/* another tag, or anything before STARTED: the tail of an exec
		 * whose host went away (tag 0: an agent older than tags) */
		if (h.tag != tag && h.tag != 0)
			continue;
		if (!started) {
			started = h.type == AGENT_STARTED;
			continue;
		}
		if (h.type == AGENT_STDOUT || h.type == AGENT_STDERR) {
			int o = h.type == AGENT_STDOUT ? out_fd : err_fd;
			if (o >= 0)
				(void)vs_write_all(o, buf, h.len);
		} else if (h.type == AGENT_EXIT && h.len >= 4) {
			*exit_status = (int)agent_get_u32(buf);
			return 0;
		}
	}
}
