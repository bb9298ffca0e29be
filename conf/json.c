/* conf/json.c: yajl glue. A strict syntax pass that reports where the text
 * is broken, the tree the section parsers walk, and typed readers that turn
 * every wrong value into one line naming its JSON path. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "internal.h"

/* Deep enough for any real config (the schema nests 6 levels; unknown
 * extensions get plenty of room), shallow enough that yajl_tree_free's
 * recursion can never exhaust the stack. */
#define J_MAX_DEPTH 128

/* ---- syntax pass ---- */

struct syntax {
	unsigned depth;
	const char *problem;   /* set when a callback cancels the parse */
};

static int sx_string(void *ctx, const unsigned char *s, size_t len)
{
	struct syntax *sx = ctx;
	/* yajl decodes \u0000 into a NUL byte and yajl_tree keeps C strings,
	 * so "/etc\u0000x" would silently become "/etc". Refuse it. */
	if (memchr(s, 0, len)) {
		sx->problem = "a string contains \\u0000";
		return 0;
	}
	return 1;
}

static int sx_open(void *ctx)
{
	struct syntax *sx = ctx;
	if (++sx->depth > J_MAX_DEPTH) {
		sx->problem = "nesting is too deep";
		return 0;
	}
	return 1;
}

static int sx_close(void *ctx)
{
	struct syntax *sx = ctx;
	sx->depth--;
	return 1;
}

static const yajl_callbacks sx_callbacks = {
	.yajl_string = sx_string,
	.yajl_map_key = sx_string,
	.yajl_start_map = sx_open,
	.yajl_end_map = sx_close,
	.yajl_start_array = sx_open,
	.yajl_end_array = sx_close,
};

static void line_col(const char *json, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (json[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int syntax_check(struct jctx *c, const char *json, size_t len)
{
	struct syntax sx = { 0 };
	yajl_handle h = yajl_alloc(&sx_callbacks, NULL, &sx);
	if (!h)
		abort();
	yajl_status st = yajl_parse(h, (const unsigned char *)json, len);
	/* yajl counts the token it refused; point at its last byte instead */
	size_t off = yajl_get_bytes_consumed(h);
	if (off > 0)
		off--;
	if (st == yajl_status_ok) {
		st = yajl_complete_parse(h);
		off = len;   /* premature EOF: the position just past the end */
	}
	if (st == yajl_status_ok) {
		yajl_free(h);
		return 0;
	}

	char msg[160];
	if (st == yajl_status_client_canceled) {
		snprintf(msg, sizeof(msg), "%s", sx.problem);
	} else {
		unsigned char *e = yajl_get_error(h, 0, NULL, 0);
		snprintf(msg, sizeof(msg), "%s", e ? (char *)e : "parse error");
		if (e)
			yajl_free_error(h, e);
		msg[strcspn(msg, "\n")] = '\0';
		/* house style: no final full stop */
		size_t n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '.' || msg[n - 1] == ' '))
			msg[--n] = '\0';
	}
	yajl_free(h);

	size_t line, col;
	if (off > len)
		off = len;
	line_col(json, off, &line, &col);
	if (len == 0)
		return vs_failx(c->err, EINVAL, "conf: %s: empty document", c->what);
	return vs_failx(c->err, EINVAL, "conf: %s: %s at line %zu, column %zu",
			c->what, msg, line, col);
}

int j_parse_tree(struct jctx *c, const char *json, size_t len, yajl_val *out)
{
	int r = syntax_check(c, json, len);
	if (r < 0)
		return r;

	/* yajl_tree wants a NUL-terminated text; the syntax pass has already
	 * refused raw NUL bytes (control characters are invalid JSON). */
	_cleanup_free_ char *copy = vs_xmalloc(len + 1);
	memcpy(copy, json, len);
	copy[len] = '\0';

	char ebuf[256] = "";
	yajl_val tree = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	if (!tree) {
		ebuf[strcspn(ebuf, "\n")] = '\0';
		return vs_failx(c->err, EINVAL, "conf: %s: %s", c->what,
				ebuf[0] ? ebuf : "parse error");
	}
	*out = tree;
	return 0;
}

/* ---- paths and errors ---- */

static bool is_ident(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return false;
	return true;
}

/* Appends the printable form of s to buf at *pos, bounded. */
static void put(char *buf, size_t n, size_t *pos, const char *s)
{
	for (; *s && *pos + 1 < n; s++)
		buf[(*pos)++] = isprint((unsigned char)*s) ? *s : '?';
	buf[*pos < n ? *pos : n - 1] = '\0';
}

static void path_rec(const struct jpath *p, char *buf, size_t n, size_t *pos)
{
	if (!p || !p->up)
		return;
	path_rec(p->up, buf, n, pos);
	bool first = !p->up->up;
	if (!p->key) {
		char idx[32];
		snprintf(idx, sizeof(idx), "[%zu]", p->idx);
		put(buf, n, pos, idx);
	} else if (is_ident(p->key)) {
		if (!first)
			put(buf, n, pos, ".");
		put(buf, n, pos, p->key);
	} else {
		/* map keys such as annotations["org.opencontainers.x"] */
		put(buf, n, pos, "[\"");
		put(buf, n, pos, p->key);
		put(buf, n, pos, "\"]");
	}
}

void j_path_str(const struct jpath *p, char *buf, size_t n)
{
	size_t pos = 0;
	buf[0] = '\0';
	path_rec(p, buf, n, &pos);
}

int j_fail(struct jctx *c, const struct jpath *p, const char *fmt, ...)
{
	char path[200], msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j_path_str(p, path, sizeof(path));
	if (!path[0])
		return vs_failx(c->err, EINVAL, "conf: %s: %s", c->what, msg);
	return vs_failx(c->err, EINVAL, "conf: %s: %s: %s", c->what, path, msg);
}

static void describe(yajl_val v, char *buf, size_t n)
{
	size_t pos = 0;
	buf[0] = '\0';
	if (!v) {
		put(buf, n, &pos, "nothing");
	} else if (YAJL_IS_STRING(v)) {
		char s[48];
		snprintf(s, sizeof(s), "%s", v->u.string);
		put(buf, n, &pos, "\"");
		put(buf, n, &pos, s);
		put(buf, n, &pos, strlen(v->u.string) >= sizeof(s) ? "...\"" : "\"");
	} else if (YAJL_IS_NUMBER(v)) {
		char s[48];
		snprintf(s, sizeof(s), "%s", v->u.number.r);
		put(buf, n, &pos, s);
	} else if (YAJL_IS_TRUE(v)) {
		put(buf, n, &pos, "true");
	} else if (YAJL_IS_FALSE(v)) {
		put(buf, n, &pos, "false");
	} else if (YAJL_IS_OBJECT(v)) {
		put(buf, n, &pos, "an object");
	} else if (YAJL_IS_ARRAY(v)) {
		put(buf, n, &pos, "an array");
	} else {
		put(buf, n, &pos, "null");
	}
}

int j_fail_type(struct jctx *c, const struct jpath *p, yajl_val v, const char *expected)
{
	char got[64];
	describe(v, got, sizeof(got));
	return j_fail(c, p, "expected %s, got %s", expected, got);
}

/* ---- tree access ---- */

yajl_val j_get(yajl_val obj, const char *key)
{
	yajl_val found = NULL;
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (!strcmp(obj->u.object.keys[i], key))
			found = obj->u.object.values[i];
	if (found && found->type == yajl_t_null)
		return NULL;
	return found;
}

int j_want_object(struct jctx *c, const struct jpath *p, yajl_val v)
{
	return YAJL_IS_OBJECT(v) ? 0 : j_fail_type(c, p, v, "an object");
}

int j_want_array(struct jctx *c, const struct jpath *p, yajl_val v)
{
	return YAJL_IS_ARRAY(v) ? 0 : j_fail_type(c, p, v, "an array");
}

size_t j_array_len(yajl_val v)
{
	return YAJL_IS_ARRAY(v) ? v->u.array.len : 0;
}

yajl_val j_array_at(yajl_val v, size_t i)
{
	return v->u.array.values[i];
}

/* ---- scalars ---- */

int j_string(struct jctx *c, const struct jpath *p, yajl_val v, char **out)
{
	if (!v)
		return 0;
	if (!YAJL_IS_STRING(v))
		return j_fail_type(c, p, v, "a string");
	free(*out);
	*out = vs_xstrdup(v->u.string);
	return 1;
}

int j_string_req(struct jctx *c, const struct jpath *p, yajl_val v, char **out)
{
	if (!v)
		return j_fail(c, p, "is required");
	return j_string(c, p, v, out);
}

int j_abs_path(struct jctx *c, const struct jpath *p, yajl_val v, char **out, bool required)
{
	int r = required ? j_string_req(c, p, v, out) : j_string(c, p, v, out);
	if (r <= 0)
		return r;
	if ((*out)[0] != '/')
		return j_fail(c, p, "must be an absolute path");
	return 1;
}

int j_bool(struct jctx *c, const struct jpath *p, yajl_val v, bool *out)
{
	if (!v)
		return 0;
	if (YAJL_IS_TRUE(v))
		*out = true;
	else if (YAJL_IS_FALSE(v))
		*out = false;
	else
		return j_fail_type(c, p, v, "a boolean");
	return 1;
}

/* Only plain integers: Go's encoding/json (runc) refuses 1.0 and 1e3 for
 * integer fields, and so do we. The text is already valid JSON. */
static bool integer_text(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int j_i64(struct jctx *c, const struct jpath *p, yajl_val v, int64_t min, int64_t max,
	  int64_t *out)
{
	if (!v)
		return 0;
	if (!YAJL_IS_NUMBER(v) || !integer_text(v->u.number.r))
		return j_fail_type(c, p, v, "an integer");
	errno = 0;
	char *end;
	long long x = strtoll(v->u.number.r, &end, 10);
	if (errno == ERANGE || *end || x < min || x > max)
		return j_fail(c, p, "must be an integer between %" PRId64 " and %" PRId64
			      ", got %.40s", min, max, v->u.number.r);
	*out = x;
	return 1;
}

int j_u64(struct jctx *c, const struct jpath *p, yajl_val v, uint64_t max, uint64_t *out)
{
	if (!v)
		return 0;
	if (!YAJL_IS_NUMBER(v) || !integer_text(v->u.number.r))
		return j_fail_type(c, p, v, "an integer");
	const char *s = v->u.number.r;
	errno = 0;
	char *end;
	unsigned long long x = s[0] == '-' ? 0 : strtoull(s, &end, 10);
	if (s[0] == '-' || errno == ERANGE || *end || x > max)
		return j_fail(c, p, "must be an integer between 0 and %" PRIu64 ", got %.40s",
			      max, s);
	*out = x;
	return 1;
}

int j_u32(struct jctx *c, const struct jpath *p, yajl_val v, uint32_t *out)
{
	uint64_t x;
	int r = j_u64(c, p, v, UINT32_MAX, &x);
	if (r > 0)
		*out = (uint32_t)x;
	return r;
}

int j_opt_i64(struct jctx *c, const struct jpath *p, yajl_val v, int64_t min, int64_t max,
	      struct opt_i64 *out)
{
	int r = j_i64(c, p, v, min, max, &out->v);
	if (r > 0)
		out->set = true;
	return r;
}

int j_opt_u64(struct jctx *c, const struct jpath *p, yajl_val v, uint64_t max,
	      struct opt_u64 *out)
{
	int r = j_u64(c, p, v, max, &out->v);
	if (r > 0)
		out->set = true;
	return r;
}

int j_opt_bool(struct jctx *c, const struct jpath *p, yajl_val v, struct opt_bool *out)
{
	int r = j_bool(c, p, v, &out->v);
	if (r > 0)
		out->set = true;
	return r;
}

/* ---- composites ---- */

int j_strv(struct jctx *c, const struct jpath *p, yajl_val v, char ***out)
{
	if (!v)
		return 0;
	if (!YAJL_IS_ARRAY(v))
		return j_fail_type(c, p, v, "an array of strings");
	size_t n = v->u.array.len;
	vs_strv_free(*out);
	*out = vs_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		if (!YAJL_IS_STRING(e)) {
			struct jpath pi = JIDX(p, i);
			return j_fail_type(c, &pi, e, "a string");
		}
		(*out)[i] = vs_xstrdup(e->u.string);
	}
	return 1;
}

void conf_kv_free(struct conf_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int j_string_map(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_kv **out,
		 size_t *n)
{
	if (!v)
		return 0;
	if (!YAJL_IS_OBJECT(v))
		return j_fail_type(c, p, v, "an object of strings");
	conf_kv_free(*out, *n);
	*n = v->u.object.len;
	*out = vs_xcalloc(*n, sizeof(**out));
	for (size_t i = 0; i < *n; i++) {
		const char *k = v->u.object.keys[i];
		yajl_val e = v->u.object.values[i];
		struct jpath pk = JKEY(p, k);
		(*out)[i].key = vs_xstrdup(k);
		if (!YAJL_IS_STRING(e))
			return j_fail_type(c, &pk, e, "a string");
		(*out)[i].value = vs_xstrdup(e->u.string);
	}
	return 1;
}
