/* Linked into vserver-monitor only when it is built against musl (see the
 * Makefile): Debian's static yajl (libyajl_s.a) was compiled against glibc
 * with _FORTIFY_SOURCE and calls glibc's checked entry points, which musl
 * does not have. These do what the unchecked functions do; the bounds they
 * get are those of yajl's own fixed buffers, which it never exceeds. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len);
int __snprintf_chk(char *s, size_t n, int flag, size_t s_len, const char *fmt, ...);
int __sprintf_chk(char *s, int flag, size_t s_len, const char *fmt, ...);

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len)
{
	(void)dst_len;
	return memcpy(dst, src, n);
}

int __snprintf_chk(char *s, size_t n, int flag, size_t s_len, const char *fmt, ...)
{
	va_list ap;
	(void)flag;
	(void)s_len;
	va_start(ap, fmt);
	int r = vsnprintf(s, n, fmt, ap);
	va_end(ap);
	return r;
}

int __sprintf_chk(char *s, int flag, size_t s_len, const char *fmt, ...)
{
	va_list ap;
	(void)flag;
	va_start(ap, fmt);
	int r = vsnprintf(s, s_len, fmt, ap);
	va_end(ap);
	return r;
}
