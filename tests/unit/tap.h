/* A tiny TAP producer for the C unit tests: no framework. */
#ifndef VS_TAP_H
#define VS_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do { \
	tap_n++; \
	if (cond) { printf("ok %d - ", tap_n); } \
	else { tap_failed++; printf("not ok %d - ", tap_n); } \
	printf(__VA_ARGS__); printf("\n"); \
	if (!(cond)) printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	fflush(stdout); \
} while (0)

#define is_int(got, want, ...) do { \
	long long _g = (long long)(got), _w = (long long)(want); \
	ok(_g == _w, __VA_ARGS__); \
	if (_g != _w) printf("#   got %lld, want %lld\n", _g, _w); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *_g = (got), *_w = (want); \
	int _eq = (_g && _w) ? !strcmp(_g, _w) : _g == _w; \
	ok(_eq, __VA_ARGS__); \
	if (!_eq) printf("#   got \"%s\", want \"%s\"\n", _g ? _g : "(null)", _w ? _w : "(null)"); \
} while (0)

#define skip(n, why) do { for (int _i = 0; _i < (n); _i++) { \
	tap_n++; printf("ok %d # SKIP %s\n", tap_n, why); } } while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
