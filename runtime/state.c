/* The state store: one directory per container under the state root, a lock
 * file, state.json written atomically, and the live status derived from the
 * init's pid, its start time, the exec fifo and the freezer. */
#include "internal.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

const char *rt_status_name(enum rt_status s)
{
	switch (s) {
	case RT_CREATING: return "creating";
	case RT_CREATED: return "created";
	case RT_RUNNING: return "running";
	case RT_PAUSED: return "paused";
	case RT_STOPPED: return "stopped";
	}
	return "unknown";
}

static int status_from_name(const char *s)
{
	for (int i = RT_CREATING; i <= RT_STOPPED; i++)
		if (!strcmp(s, rt_status_name(i)))
			return i;
	return RT_STOPPED;
}

int rt_dir(const struct rt_ctx *ctx, const char *id, char *buf, size_t len, struct vs_err *err)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 255 || !strcmp(id, ".") || !strcmp(id, ".."))
		return vs_failx(err, EINVAL, "invalid container id \"%s\"", id ? id : "");
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("._-+@:", id[i]))
			return vs_failx(err, EINVAL, "invalid container id \"%s\": "
					"only letters, digits and ._-+@: are allowed", id);
	if ((size_t)snprintf(buf, len, "%s/%s", ctx->root, id) >= len)
		return vs_failx(err, ENAMETOOLONG, "state: %s/%s: path too long", ctx->root, id);
	return 0;
}

int rt_dir_create(const struct rt_ctx *ctx, const char *id, struct vs_err *err)
{
	char dir[PATH_MAX];
	int r = rt_dir(ctx, id, dir, sizeof(dir), err);
	if (r < 0)
		return r;
	r = vs_mkdir_p(ctx->root, 0711);
	if (r < 0)
		return vs_fail(err, -r, "state: mkdir %s", ctx->root);
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return vs_failx(err, EEXIST, "container \"%s\" already exists", id);
		return vs_fail(err, errno, "state: mkdir %s", dir);
	}
	return 0;
}

int rt_lock(const struct rt_ctx *ctx, const char *id, struct vs_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 8];
	int r = rt_dir(ctx, id, dir, sizeof(dir), err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == ENOENT)
			return vs_failx(err, ENOENT, "container \"%s\" does not exist", id);
		return vs_fail(err, errno, "state: open %s", path);
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return vs_fail(err, e, "state: lock %s", path);
	}
	/* the container may have been deleted while we waited for the lock */
	struct stat st;
	if (stat(dir, &st) < 0) {
		close(fd);
		return vs_failx(err, ENOENT, "container \"%s\" does not exist", id);
	}
	return fd;
}

#define GSTR(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

static void gen_common(yajl_gen g, const struct rt_record *rec, enum rt_status status)
{
	const struct rt_state *st = &rec->st;
	GSTR(g, "ociVersion");
	GSTR(g, rec->oci_version[0] ? rec->oci_version : "1.2.0");
	GSTR(g, "id");
	GSTR(g, st->id);
	GSTR(g, "status");
	GSTR(g, rt_status_name(status));
	GSTR(g, "pid");
	yajl_gen_integer(g, status == RT_STOPPED ? 0 : st->pid);
	GSTR(g, "bundle");
	GSTR(g, st->bundle);
	GSTR(g, "annotations");
	yajl_gen_map_open(g);
	for (size_t i = 0; st->annotations && st->annotations[i]; i++) {
		const char *kv = st->annotations[i], *eq = strchr(kv, '=');
		if (!eq)
			continue;
		yajl_gen_string(g, (const unsigned char *)kv, (size_t)(eq - kv));
		GSTR(g, eq + 1);
	}
	yajl_gen_map_close(g);
}

static char *gen_finish(yajl_gen g)
{
	return conf_gen_take(g, false);
}

char *rt_record_state_json(const struct rt_record *rec, enum rt_status status)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(g);
	gen_common(g, rec, status);
	yajl_gen_map_close(g);
	return gen_finish(g);
}

char *rt_state_json(const struct rt_state *st)
{
	struct rt_record rec = { .st = *st };
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	yajl_gen_map_open(g);
	gen_common(g, &rec, st->status);
	GSTR(g, "rootfs");
	GSTR(g, st->rootfs);
	GSTR(g, "created");
	GSTR(g, st->created);
	GSTR(g, "owner");
	GSTR(g, st->owner);
	yajl_gen_map_close(g);
	char *out = gen_finish(g);
	size_t n = strlen(out);
	out = vs_xrealloc(out, n + 2);
	out[n] = '\n';
	out[n + 1] = '\0';
	return out;
}

int rt_record_write(const struct rt_ctx *ctx, const struct rt_record *rec, struct vs_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int r = rt_dir(ctx, rec->st.id, dir, sizeof(dir), err);
	if (r < 0)
		return r;
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(g);
	gen_common(g, rec, rec->st.status);
	GSTR(g, "rootfs");
	GSTR(g, rec->st.rootfs);
	GSTR(g, "created");
	GSTR(g, rec->st.created);
	GSTR(g, "owner");
	GSTR(g, rec->st.owner);
	GSTR(g, "startTime");
	yajl_gen_integer(g, (long long)rec->start_time);
	if (rec->host_rootfs_below) {
		GSTR(g, "hostRootfsMount");
		yajl_gen_integer(g, (long long)rec->host_rootfs_mnt);
		GSTR(g, "hostRootfsBelow");
		yajl_gen_integer(g, (long long)rec->host_rootfs_below);
	}
	if (rec->hooks_known) {
		GSTR(g, "hookKinds");
		yajl_gen_integer(g, rec->hooks);
	}
	if (rec->has_cg) {
		GSTR(g, "cgroupPath");
		GSTR(g, rec->cg.path);
		GSTR(g, "cgroupMode");
		yajl_gen_integer(g, rec->cg.mode);
		if (rec->cg_inner[0]) {
			GSTR(g, "cgroupInner");
			GSTR(g, rec->cg_inner);
		}
	}
	yajl_gen_map_close(g);
	_cleanup_free_ char *json = gen_finish(g);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	r = vs_write_file_replace(path, json, strlen(json), 0600);
	if (r < 0)
		return vs_fail(err, -r, "state: write %s", path);
	return 0;
}

static const char *tstr(yajl_val root, const char *key)
{
	const char *p[] = { key, NULL };
	yajl_val v = yajl_tree_get(root, p, yajl_t_string);
	return v ? YAJL_GET_STRING(v) : "";
}

static long long tint(yajl_val root, const char *key)
{
	const char *p[] = { key, NULL };
	yajl_val v = yajl_tree_get(root, p, yajl_t_number);
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

int rt_record_read(const struct rt_ctx *ctx, const char *id, struct rt_record *rec,
		   struct vs_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int r = rt_dir(ctx, id, dir, sizeof(dir), err);
	if (r < 0)
		return r;
	memset(rec, 0, sizeof(*rec));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	_cleanup_free_ char *data = NULL;
	r = vs_read_file(path, &data, NULL);
	if (r == -ENOENT) {
		struct stat st;
		if (stat(dir, &st) < 0)
			return vs_failx(err, ENOENT, "container \"%s\" does not exist", id);
		/* made by a create that has not written its state yet (or died) */
		snprintf(rec->st.id, sizeof(rec->st.id), "%s", id);
		rec->st.status = RT_CREATING;
		return 0;
	}
	if (r < 0)
		return vs_fail(err, -r, "state: read %s", path);
	char ebuf[256];
	yajl_val root = yajl_tree_parse(data, ebuf, sizeof(ebuf));
	if (!root || !YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		return vs_failx(err, EINVAL, "state: %s: corrupt state file", path);
	}
	struct rt_state *st = &rec->st;
	snprintf(st->id, sizeof(st->id), "%s", id);
	st->status = status_from_name(tstr(root, "status"));
	st->pid = (pid_t)tint(root, "pid");
	snprintf(st->bundle, sizeof(st->bundle), "%s", tstr(root, "bundle"));
	snprintf(st->rootfs, sizeof(st->rootfs), "%s", tstr(root, "rootfs"));
	snprintf(st->created, sizeof(st->created), "%s", tstr(root, "created"));
	snprintf(st->owner, sizeof(st->owner), "%s", tstr(root, "owner"));
	snprintf(rec->oci_version, sizeof(rec->oci_version), "%s", tstr(root, "ociVersion"));
	rec->start_time = (unsigned long long)tint(root, "startTime");
	rec->host_rootfs_mnt = (unsigned long long)tint(root, "hostRootfsMount");
	rec->host_rootfs_below = (unsigned long long)tint(root, "hostRootfsBelow");
	const char *hp[] = { "hookKinds", NULL };
	yajl_val hk = yajl_tree_get(root, hp, yajl_t_number);
	if (hk && YAJL_IS_INTEGER(hk)) {
		rec->hooks_known = true;
		rec->hooks = (unsigned)YAJL_GET_INTEGER(hk);
	}
	const char *cgp = tstr(root, "cgroupPath");
	if (*cgp) {
		rec->has_cg = true;
		snprintf(rec->cg.path, sizeof(rec->cg.path), "%s", cgp);
		rec->cg.mode = (enum cg_mode)tint(root, "cgroupMode");
		snprintf(rec->cg_inner, sizeof(rec->cg_inner), "%s", tstr(root, "cgroupInner"));
	}
	const char *ap[] = { "annotations", NULL };
	yajl_val an = yajl_tree_get(root, ap, yajl_t_object);
	if (an) {
		for (size_t i = 0; i < YAJL_GET_OBJECT(an)->len; i++) {
			yajl_val v = YAJL_GET_OBJECT(an)->values[i];
			if (!YAJL_IS_STRING(v))
				continue;
			_cleanup_free_ char *kv = vs_xasprintf("%s=%s", YAJL_GET_OBJECT(an)->keys[i],
								YAJL_GET_STRING(v));
			vs_strv_push(&st->annotations, kv);
		}
	}
	yajl_tree_free(root);
	return 0;
}

void rt_state_free(struct rt_state *st)
{
	vs_strv_free(st->annotations);
	st->annotations = NULL;
}

enum rt_status rt_live_status(const struct rt_ctx *ctx, const struct rt_record *rec)
{
	if (rec->st.status == RT_STOPPED || !rt_pid_alive(rec->st.pid, rec->start_time))
		return rec->st.status == RT_CREATING && rec->st.pid == 0 ? RT_CREATING : RT_STOPPED;
	if (rec->st.status == RT_CREATING)
		return RT_CREATING;
	if (rec->has_cg && cg_is_frozen(&rec->cg) == 1)
		return RT_PAUSED;
	char dir[PATH_MAX], fifo[PATH_MAX + 16];
	if (rt_dir(ctx, rec->st.id, dir, sizeof(dir), NULL) < 0)
		return RT_STOPPED;
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
	return access(fifo, F_OK) == 0 ? RT_CREATED : RT_RUNNING;
}

int rt_record_config(const struct rt_ctx *ctx, const char *id, struct conf_config **cfg,
		     struct vs_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int r = rt_dir(ctx, id, dir, sizeof(dir), err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	return conf_load(path, cfg, err);
}

int rt_state(const struct rt_ctx *ctx, const char *id, struct rt_state *st, struct vs_err *err)
{
	struct rt_record rec;
	int r = rt_record_read(ctx, id, &rec, err);
	if (r < 0)
		return r;
	*st = rec.st;
	st->status = rt_live_status(ctx, &rec);
	if (st->status == RT_STOPPED)
		st->pid = 0;
	return 0;
}

static int cmp_state(const void *a, const void *b)
{
	return strcmp(((const struct rt_state *)a)->id, ((const struct rt_state *)b)->id);
}

int rt_list(const struct rt_ctx *ctx, struct rt_state **out, size_t *n, struct vs_err *err)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(ctx->root);
	if (!d)
		return errno == ENOENT ? 0 : vs_fail(err, errno, "state: open %s", ctx->root);
	struct dirent *de;
	size_t cap = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct rt_state st;
		struct vs_err e2 = { 0 };
		if (rt_state(ctx, de->d_name, &st, &e2) < 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = vs_xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = st;
	}
	closedir(d);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_state);
	return 0;
}

int rt_container_config(const struct rt_ctx *ctx, const char *id, struct conf_config **cfg,
			struct vs_err *err)
{
	/* "does not exist" rather than the config file's ENOENT */
	struct rt_record rec;
	int r = rt_record_read(ctx, id, &rec, err);
	if (r < 0)
		return r;
	rt_state_free(&rec.st);
	return rt_record_config(ctx, id, cfg, err);
}

char *rt_process_state_json(const struct rt_record *rec, enum rt_status status, pid_t pid,
			    const char *metadata)
{
	/* the runtime-spec's "container process state" sent to listenerPath */
	_cleanup_free_ char *state = rt_record_state_json(rec, status);
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(g);
	GSTR(g, "ociVersion");
	GSTR(g, rec->oci_version[0] ? rec->oci_version : "1.2.0");
	GSTR(g, "fds");
	yajl_gen_array_open(g);
	GSTR(g, "seccompFd");
	yajl_gen_array_close(g);
	GSTR(g, "pid");
	yajl_gen_integer(g, pid);
	GSTR(g, "metadata");
	GSTR(g, metadata ? metadata : "");
	yajl_gen_map_close(g);
	_cleanup_free_ char *head = gen_finish(g);
	/* splice the state object in: {...,"state":{...}} */
	size_t hl = strlen(head);
	char *out = vs_xasprintf("%.*s,\"state\":%s}", (int)(hl - 1), head, state);
	return out;
}
