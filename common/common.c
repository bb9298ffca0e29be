/* common: errors, allocation, string vectors, file I/O. */
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

static const struct {
	int code;
	const char *name;
} errnames[] = {
	{ EPERM, "EPERM" },     { ENOENT, "ENOENT" },   { ESRCH, "ESRCH" },
	{ EINTR, "EINTR" },     { EIO, "EIO" },         { ENXIO, "ENXIO" },
	{ E2BIG, "E2BIG" },     { ENOEXEC, "ENOEXEC" }, { EBADF, "EBADF" },
	{ ECHILD, "ECHILD" },   { EAGAIN, "EAGAIN" },   { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" },   { EFAULT, "EFAULT" },   { EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" },   { EXDEV, "EXDEV" },     { ENODEV, "ENODEV" },
	{ ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" },   { EINVAL, "EINVAL" },
	{ ENFILE, "ENFILE" },   { EMFILE, "EMFILE" },   { ENOTTY, "ENOTTY" },
	{ EFBIG, "EFBIG" },     { ENOSPC, "ENOSPC" },   { ESPIPE, "ESPIPE" },
	{ EROFS, "EROFS" },     { EMLINK, "EMLINK" },   { EPIPE, "EPIPE" },
	{ ERANGE, "ERANGE" },   { ENAMETOOLONG, "ENAMETOOLONG" },
	{ ENOSYS, "ENOSYS" },   { ENOTEMPTY, "ENOTEMPTY" }, { ELOOP, "ELOOP" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { ETIMEDOUT, "ETIMEDOUT" },
	{ EADDRINUSE, "EADDRINUSE" }, { ECONNREFUSED, "ECONNREFUSED" },
	{ ENOTSUP, "ENOTSUP" }, { EOVERFLOW, "EOVERFLOW" }, { ECANCELED, "ECANCELED" },
};

const char *vs_errno_name(int code)
{
	static __thread char buf[16];
	for (size_t i = 0; i < VS_ARRAY_SIZE(errnames); i++)
		if (errnames[i].code == code)
			return errnames[i].name;
	snprintf(buf, sizeof(buf), "E%d", code);
	return buf;
}

static int vfail(struct vs_err *err, int code, bool with_errno, const char *fmt, va_list ap)
{
	if (code <= 0)
		code = EIO;
	if (err) {
		int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
			snprintf(err->msg + n, sizeof(err->msg) - n, ": %s (%s)",
				 vs_errno_name(code), strerror(code));
		err->code = code;
	}
	return -code;
}

int vs_fail(struct vs_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(err, code, true, fmt, ap);
	va_end(ap);
	return r;
}

int vs_failx(struct vs_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(err, code, false, fmt, ap);
	va_end(ap);
	return r;
}

int vs_wrap(struct vs_err *err, const char *fmt, ...)
{
	if (!err)
		return -EIO;
	char prefix[256], old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	if (err->code <= 0)
		err->code = EIO;
	return -err->code;
}

void *vs_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *vs_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		abort();
	return p;
}

void *vs_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *vs_xstrdup(const char *s)
{
	if (!s)
		return NULL;
	char *r = strdup(s);
	if (!r)
		abort();
	return r;
}

char *vs_xasprintf(const char *fmt, ...)
{
	char *r;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&r, fmt, ap) < 0)
		abort();
	va_end(ap);
	return r;
}

size_t vs_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void vs_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char **vs_strv_dup(char *const *v)
{
	size_t n = vs_strv_len(v);
	char **r = vs_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		r[i] = vs_xstrdup(v[i]);
	return r;
}

void vs_strv_push(char ***v, const char *s)
{
	size_t n = vs_strv_len(*v);
	*v = vs_xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = vs_xstrdup(s);
	(*v)[n + 1] = NULL;
}

ssize_t vs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t vs_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return done == 0 ? 0 : -EPIPE;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int vs_read_file_at(int dirfd, const char *path, char **out, size_t *len)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, n = 0;
	char *buf = vs_xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap >= (64u << 20)) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			buf = vs_xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int vs_read_file(const char *path, char **out, size_t *len)
{
	return vs_read_file_at(AT_FDCWD, path, out, len);
}

int vs_write_file_at(int dirfd, const char *path, const char *data)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	size_t len = strlen(data);
	ssize_t n = write(fd, data, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

int vs_write_file(const char *path, const char *data)
{
	return vs_write_file_at(AT_FDCWD, path, data);
}

static int write_replace(const char *path, const void *data, size_t len, mode_t mode,
			 bool durable);

int vs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_replace(path, data, len, mode, true);
}

int vs_write_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_replace(path, data, len, mode, false);
}

void (*vs_tmp_suffix_hook)(unsigned attempt, char *out, size_t len);

#define TMP_ATTEMPTS 64

static void tmp_suffix(unsigned attempt, char *out, size_t len)
{
	uint64_t r;
	if (vs_tmp_suffix_hook) {
		vs_tmp_suffix_hook(attempt, out, len);
		return;
	}
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = ((uint64_t)ts.tv_nsec << 24) ^ (uint64_t)ts.tv_sec ^
		    ((uint64_t)getpid() << 40) ^ attempt;
	}
	snprintf(out, len, "%016llx", (unsigned long long)r);
}

/* Makes a new temporary file beside path, named path.tmp.RANDOM. Why: the
 * directory may be writable by others (a --pid-file in /tmp), and the old
 * name, path.tmp.PID, could be guessed: a symlink planted there made root
 * truncate and write the file it pointed to. O_EXCL|O_NOFOLLOW: never an
 * existing file, never through a symlink (a dangling one either); a name
 * taken is retried with another. */
static int open_tmp(const char *path, mode_t mode, char *tmp, size_t len)
{
	for (unsigned i = 0; i < TMP_ATTEMPTS; i++) {
		char sfx[40];
		tmp_suffix(i, sfx, sizeof(sfx));
		if (snprintf(tmp, len, "%s.tmp.%s", path, sfx) >= (int)len)
			return -ENAMETOOLONG;
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int write_replace(const char *path, const void *data, size_t len, mode_t mode,
			 bool durable)
{
	char tmp[PATH_MAX];
	int fd = open_tmp(path, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	ssize_t w = vs_write_all(fd, data, len);
	if (w < 0 || (durable && fsync(fd) < 0)) {
		int e = w < 0 ? (int)-w : errno;
		close(fd);
		unlink(tmp);
		return -e;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	if (!durable)
		return 0;
	/* make the rename durable */
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}

int vs_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_rf_at(int dfd, const char *name, dev_t dev)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV; /* never cross into another mount */
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int q = rm_rf_at(dirfd(d), de->d_name, dev);
		if (q < 0 && r == 0)
			r = q;
	}
	closedir(d);
	if (r < 0)
		return r;
	return unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int vs_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return rm_rf_at(AT_FDCWD, path, st.st_dev);
}

int vs_parse_size(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	uint64_t mult = 1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	case 't': case 'T': mult = 1ULL << 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	double r = v * (double)mult;
	if (r > 1.8e19)
		return -ERANGE;
	*out = (uint64_t)r;
	return 0;
}

uint64_t vs_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void vs_json_fputs(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
