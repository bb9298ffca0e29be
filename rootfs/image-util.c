/* rootfs/image-util: paths, temp dirs, the store lock, running helpers, JSON. */
#include "image-internal.h"

#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int img_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int img_mktemp(struct vs_store *s, const char *prefix, char *out, size_t len, struct vs_err *err)
{
	if (img_path(out, len, "%s/tmp/%s.XXXXXX", s->root, prefix) < 0)
		return vs_fail(err, ENAMETOOLONG, "image: temp dir under %s", s->root);
	if (!mkdtemp(out))
		return vs_fail(err, errno, "image: mkdtemp %s", out);
	return 0;
}

int img_lock(struct vs_store *s, struct vs_err *err)
{
	int fd = openat(s->root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return vs_fail(err, errno, "image: open %s/lock", s->root);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return vs_fail(err, e, "image: flock %s/lock", s->root);
	}
	return fd;
}

int img_run(char *const argv[], char **out, struct vs_err *err)
{
	int pfd[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (out) {
		if (pipe2(pfd, O_CLOEXEC) < 0) {
			posix_spawn_file_actions_destroy(&fa);
			return vs_fail(err, errno, "%s: pipe", argv[0]);
		}
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	} else {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	}
	pid_t pid;
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (r != 0) {
		if (pfd[0] >= 0)
			close(pfd[0]);
		return vs_fail(err, r, "%s: spawn", argv[0]);
	}
	char *buf = NULL;
	size_t n = 0, cap = 0;
	if (out) {
		for (;;) {
			if (n + 4096 + 1 > cap) {
				cap = cap ? cap * 2 : 16384;
				buf = vs_xrealloc(buf, cap);
			}
			ssize_t k = read(pfd[0], buf + n, cap - n - 1);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			n += (size_t)k;
		}
		close(pfd[0]);
		buf = buf ? buf : vs_xmalloc(1);
		buf[n] = '\0';
	}
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			free(buf);
			return vs_fail(err, errno, "%s: waitpid", argv[0]);
		}
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		free(buf);
		if (WIFEXITED(st))
			return vs_failx(err, EIO, "%s: exited with status %d", argv[0], WEXITSTATUS(st));
		return vs_failx(err, EIO, "%s: killed by signal %d", argv[0], WTERMSIG(st));
	}
	if (out)
		*out = buf;
	return 0;
}

char *img_now_iso(void)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char b[32];
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return vs_xstrdup(b);
}

void img_free_ptr_array(struct vs_image **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vs_image_free(v[i]);
	free(v);
}

yajl_val img_json_get(yajl_val v, const char *key, yajl_type type)
{
	const char *path[] = { key, NULL };
	return v ? yajl_tree_get(v, path, type) : NULL;
}

const char *img_json_str(yajl_val v, const char *key)
{
	yajl_val s = img_json_get(v, key, yajl_t_string);
	return s ? YAJL_GET_STRING(s) : NULL;
}

char **img_json_strv(yajl_val v, const char *key)
{
	yajl_val a = img_json_get(v, key, yajl_t_array);
	if (!a)
		return NULL;
	char **r = vs_xcalloc(a->u.array.len + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < a->u.array.len; i++)
		if (YAJL_IS_STRING(a->u.array.values[i]))
			r[k++] = vs_xstrdup(YAJL_GET_STRING(a->u.array.values[i]));
	return r;
}

void img_gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void img_gen_kv(yajl_gen g, const char *key, const char *val)
{
	if (!val)
		return;
	img_gen_str(g, key);
	img_gen_str(g, val);
}

void img_gen_strv(yajl_gen g, const char *key, char *const *v)
{
	if (!v)
		return;
	img_gen_str(g, key);
	yajl_gen_array_open(g);
	for (size_t i = 0; v[i]; i++)
		img_gen_str(g, v[i]);
	yajl_gen_array_close(g);
}
