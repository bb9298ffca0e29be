/* common: errors, cleanup helpers, small file I/O. Includes nothing of ours.
 * Every module may use it; it has no knowledge of containers. */
#ifndef VS_COMMON_H
#define VS_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* A fixed-size error: filled once where the failure happens, prefixed with
 * context on the way up. Fixed-size so the container's init can send it over
 * the sync pipe without allocating. */
struct vs_err {
	int code;       /* positive errno, 0 = none */
	char msg[512];
};

/* Sets err (code and message "fmt: strerror") and returns -code. */
int vs_fail(struct vs_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, but the message is taken as is (no strerror suffix). */
int vs_failx(struct vs_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes "context: " to err->msg; returns -err->code (or -EIO if unset). */
int vs_wrap(struct vs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* errno name such as "EBUSY", or "E<num>". */
const char *vs_errno_name(int code);

/* Cleanup helpers. They keep errno. */
static inline void vs_closep(int *fd)
{
	if (*fd >= 0) {
		int e = errno;
		close(*fd);
		errno = e;
	}
}
static inline void vs_freep(void *p)
{
	int e = errno;
	free(*(void **)p);
	errno = e;
}
void vs_strv_free(char **v);
static inline void vs_strv_freep(char ***v)
{
	int e = errno;
	vs_strv_free(*v);
	errno = e;
}
#define _cleanup_close_ __attribute__((cleanup(vs_closep)))
#define _cleanup_free_ __attribute__((cleanup(vs_freep)))
#define _cleanup_strv_ __attribute__((cleanup(vs_strv_freep)))
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -EBADF; _fd; })
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })

#define VS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that aborts on OOM: the runtime cannot roll back sensibly
 * without memory, and a clear abort beats a NULL deref. */
void *vs_xmalloc(size_t n);
void *vs_xcalloc(size_t n, size_t sz);
void *vs_xrealloc(void *p, size_t n);
char *vs_xstrdup(const char *s);
char *vs_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* NULL-terminated string vectors. */
size_t vs_strv_len(char *const *v);
char **vs_strv_dup(char *const *v);
void vs_strv_push(char ***v, const char *s);   /* appends a copy */

/* File I/O. All return >= 0 or -errno. */
/* Reads a whole file (NUL-terminated); *len may be NULL. max 64 MiB. */
int vs_read_file(const char *path, char **out, size_t *len);
int vs_read_file_at(int dirfd, const char *path, char **out, size_t *len);
/* Writes a string to an existing file (cgroupfs, procfs): one write(). */
int vs_write_file(const char *path, const char *data);
int vs_write_file_at(int dirfd, const char *path, const char *data);
/* Atomic replace: temp file in the same dir, fsync, rename, fsync dir. The
 * temp file is new (O_EXCL|O_NOFOLLOW) with a random name, so a directory
 * others can write to (a --pid-file in /tmp) cannot redirect the write. */
int vs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same without the fsyncs: atomic against a kill at any moment, not
 * durable across a crash of the machine. For state that does not outlive a
 * reboot anyway (the runtime state of running containers). */
int vs_write_file_replace(const char *path, const void *data, size_t len, mode_t mode);
/* For tests only: when set, gives the suffix of the temp file's name for
 * each attempt (0, 1, ...) in place of a random one. */
extern void (*vs_tmp_suffix_hook)(unsigned attempt, char *out, size_t len);
/* mkdir -p; existing directories are fine. */
int vs_mkdir_p(const char *path, mode_t mode);
/* rm -rf that does not cross mount points; missing is fine. */
int vs_rm_rf(const char *path);
/* Writes all of buf, retrying on EINTR and short writes. */
ssize_t vs_write_all(int fd, const void *buf, size_t len);
/* Reads exactly len bytes (0 at clean EOF before any byte, -EPIPE on short). */
ssize_t vs_read_all(int fd, void *buf, size_t len);

/* Parses sizes like "512M", "1.5G", "100k", "1024" (bytes). */
int vs_parse_size(const char *s, uint64_t *out);
/* Monotonic time in nanoseconds. */
uint64_t vs_now_ns(void);

/* s as a JSON string, quoted and escaped, to f; NULL prints "" */
void vs_json_fputs(FILE *f, const char *s);

#endif
