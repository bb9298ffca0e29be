/* The small base of vserver's named servers that both the vserver binary and
 * the per-server monitor (vserver-monitor) link: where a server's files are,
 * its record, and the monitor's status.json. Nothing here may pull in the
 * rest of the engine: the monitor links this file on its own. */
#include "internal.h"
#include "server-internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_tree.h>

int srv_ctx_init(struct srv_ctx *c, struct vs_err *err)
{
	memset(c, 0, sizeof(*c));
	const char *base = getenv("VSERVER_ROOT");
	if (base && *base) {
		snprintf(c->lib, sizeof(c->lib), "%s/lib", base);
		snprintf(c->run, sizeof(c->run), "%s/run", base);
	} else {
		snprintf(c->lib, sizeof(c->lib), "/var/lib/vserver");
		snprintf(c->run, sizeof(c->run), "/run/vserver");
	}
	snprintf(c->rt_root, sizeof(c->rt_root), "%s/rt", c->run);
	c->rt.root = c->rt_root;
	char servers[1100];
	snprintf(servers, sizeof(servers), "%s/servers", c->lib);
	int r = vs_mkdir_p(servers, 0700);
	if (r >= 0)
		r = vs_mkdir_p(c->rt_root, 0700);
	if (r < 0)
		return vs_fail(err, -r, "vserver: make %s", servers);
	return 0;
}

void srv_path(const struct srv_ctx *c, const char *name, const char *file, char *buf, size_t len)
{
	snprintf(buf, len, "%s/servers/%s%s%s", c->lib, name, file ? "/" : "", file ? file : "");
}

void srv_store_dir(const struct srv_ctx *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/images", c->lib);
}

void srv_net_dir(const struct srv_ctx *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/net", c->lib);
}

int srv_check_name(const char *name, struct vs_err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 63)
		return vs_failx(err, EINVAL, "server name \"%s\": must be 1 to 63 characters", name ? name : "");
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || (i && strchr("-_.", name[i]))))
			return vs_failx(err, EINVAL, "server name \"%s\": only letters, digits and -_. "
					"(not first) are allowed", name);
	return 0;
}

int srv_load(const struct srv_ctx *c, const char *name, struct conf_server **s, struct vs_err *err)
{
	int r = srv_check_name(name, err);
	if (r < 0)
		return r;
	char path[PATH_MAX];
	srv_path(c, name, "server.json", path, sizeof(path));
	_cleanup_free_ char *data = NULL;
	size_t len;
	r = vs_read_file(path, &data, &len);
	if (r == -ENOENT)
		return vs_failx(err, ENOENT, "server \"%s\" does not exist", name);
	if (r < 0)
		return vs_fail(err, -r, "vserver: read %s", path);
	return conf_server_parse(data, len, path, s, err);
}

int srv_status_write(const struct srv_ctx *c, const char *name, const struct srv_status *st)
{
	char path[PATH_MAX], buf[1024];
	srv_path(c, name, "status.json", path, sizeof(path));
	int n = snprintf(buf, sizeof(buf),
			 "{\"state\":\"%s\",\"pid\":%d,\"monitor\":%d,\"monitorStart\":%llu,"
			 "\"exitCode\":%d,\"restarts\":%u,\"started\":\"%s\",\"stopped\":\"%s\"}\n",
			 st->state, (int)st->pid, (int)st->monitor, st->monitor_start, st->exit_code,
			 st->restarts, st->started, st->stopped);
	return vs_write_file_atomic(path, buf, (size_t)n, 0600);
}

int srv_status_read(const struct srv_ctx *c, const char *name, struct srv_status *st)
{
	char path[PATH_MAX];
	memset(st, 0, sizeof(*st));
	snprintf(st->state, sizeof(st->state), "stopped");
	st->exit_code = -1;
	srv_path(c, name, "status.json", path, sizeof(path));
	_cleanup_free_ char *data = NULL;
	int r = vs_read_file(path, &data, NULL);
	if (r < 0)
		return r;
	yajl_val root = yajl_tree_parse(data, NULL, 0);
	if (!root)
		return -EINVAL;
	const char *k[2] = { NULL, NULL };
#define S(key, dst) k[0] = key; { yajl_val v = yajl_tree_get(root, k, yajl_t_string); \
	if (v) snprintf(dst, sizeof(dst), "%s", YAJL_GET_STRING(v)); }
#define I(key, dst) k[0] = key; { yajl_val v = yajl_tree_get(root, k, yajl_t_number); \
	if (v && YAJL_IS_INTEGER(v)) dst = YAJL_GET_INTEGER(v); }
	S("state", st->state);
	S("started", st->started);
	S("stopped", st->stopped);
	I("pid", st->pid);
	I("monitor", st->monitor);
	I("monitorStart", st->monitor_start);
	I("exitCode", st->exit_code);
	I("restarts", st->restarts);
#undef S
#undef I
	yajl_tree_free(root);
	return 0;
}

bool srv_monitor_alive(const struct srv_status *st)
{
	return st->monitor > 0 && rt_pid_alive(st->monitor, st->monitor_start);
}

void srv_report_format(const struct srv_started *s, const struct vs_err *err, char *buf, size_t len)
{
	if (err)
		snprintf(buf, len, "error %s\n", err->msg[0] ? err->msg : "unknown error");
	else
		snprintf(buf, len, "%s %d %d %s\n", s->adopted ? "adopt" : "ok", (int)s->pid,
			 s->cg_mode, s->cg_path);
}

int srv_report_parse(const char *line, struct srv_started *s, struct vs_err *err)
{
	memset(s, 0, sizeof(*s));
	if (!strncmp(line, "error ", 6)) {
		size_t n = strcspn(line + 6, "\n");
		return vs_failx(err, EIO, "%.*s", (int)n, line + 6);
	}
	char word[8];
	int pid, mode, off = 0;
	if (sscanf(line, "%7s %d %d %n", word, &pid, &mode, &off) != 3 || pid <= 0 ||
	    (strcmp(word, "ok") && strcmp(word, "adopt")))
		return vs_failx(err, EPROTO, "the start helper's report is garbled: \"%.*s\"",
				(int)(strcspn(line, "\n") < 60 ? strcspn(line, "\n") : 60), line);
	s->pid = pid;
	s->adopted = !strcmp(word, "adopt");
	s->cg_mode = mode;
	snprintf(s->cg_path, sizeof(s->cg_path), "%.*s", (int)strcspn(line + off, "\n"), line + off);
	return 0;
}

void srv_console_path(const struct srv_ctx *c, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.console", c->run, name);
}

void srv_stop_flag_path(const struct srv_ctx *c, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.stop", c->run, name);
}

void srv_stop_flag(const struct srv_ctx *c, const char *name, bool set)
{
	char path[PATH_MAX];
	srv_stop_flag_path(c, name, path, sizeof(path));
	if (!set) {
		unlink(path);
		return;
	}
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}
