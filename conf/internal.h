/* conf internals shared by the files of conf/; not for other modules.
 *
 * Every parser here has the same shape:
 *     static int parse_x(struct jctx *c, const struct jpath *p, yajl_val v, T *out)
 * `p` is where `v` sits in the document, kept as a chain of stack nodes so an
 * error can name the exact path ("linux.resources.memory.limit") without any
 * allocation. Parsers write straight into *out, which starts zeroed; on
 * failure they just return -EINVAL and leave what they filled so far for the
 * caller's free function, which copes with half-filled structs. That keeps
 * every error path leak-free without per-function unwinding. */
#ifndef VS_CONF_INTERNAL_H
#define VS_CONF_INTERNAL_H

#include <yajl/yajl_tree.h>

#include "conf.h"

struct jctx {
	const char *what;      /* "config.json", shown in every message */
	struct vs_err *err;
};

/* A path node: a key of an object, or (key == NULL) an index of an array.
 * The root has up == NULL. */
struct jpath {
	const struct jpath *up;
	const char *key;
	size_t idx;
};
#define JROOT ((struct jpath){ .up = NULL })
#define JKEY(parent, k) ((struct jpath){ .up = (parent), .key = (k) })
#define JIDX(parent, i) ((struct jpath){ .up = (parent), .key = NULL, .idx = (i) })

/* ---- json.c ---- */

/* Checks the syntax strictly (no comments, no trailing garbage, UTF-8, no
 * \u0000 in strings, bounded nesting) and builds the tree. The error on
 * malformed input carries the line and column. */
int j_parse_tree(struct jctx *c, const char *json, size_t len, yajl_val *out);

/* "conf: <what>: <path>: <message>", EINVAL. Always returns -EINVAL. */
int j_fail(struct jctx *c, const struct jpath *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, with " got <description of v>" appended after "expected <what>,". */
int j_fail_type(struct jctx *c, const struct jpath *p, yajl_val v, const char *expected);
/* Formats a path ("mounts[2].destination") into buf. */
void j_path_str(const struct jpath *p, char *buf, size_t n);

/* The value of key in obj, or NULL when absent or JSON null (null means
 * "not set", as in the Go runtimes). With duplicate keys the last wins. */
yajl_val j_get(yajl_val obj, const char *key);

/* Shape checks: return 0 or -EINVAL with "expected an object, got ...". */
int j_want_object(struct jctx *c, const struct jpath *p, yajl_val v);
int j_want_array(struct jctx *c, const struct jpath *p, yajl_val v);
size_t j_array_len(yajl_val v);
yajl_val j_array_at(yajl_val v, size_t i);

/* Scalar readers. v == NULL (absent) leaves *out untouched and returns 0;
 * a value that was read returns 1; a bad one returns -EINVAL. */
int j_string(struct jctx *c, const struct jpath *p, yajl_val v, char **out);
int j_bool(struct jctx *c, const struct jpath *p, yajl_val v, bool *out);
int j_i64(struct jctx *c, const struct jpath *p, yajl_val v, int64_t min, int64_t max,
	  int64_t *out);
int j_u64(struct jctx *c, const struct jpath *p, yajl_val v, uint64_t max, uint64_t *out);
int j_u32(struct jctx *c, const struct jpath *p, yajl_val v, uint32_t *out);
int j_opt_i64(struct jctx *c, const struct jpath *p, yajl_val v, int64_t min, int64_t max,
	      struct opt_i64 *out);
int j_opt_u64(struct jctx *c, const struct jpath *p, yajl_val v, uint64_t max,
	      struct opt_u64 *out);
int j_opt_bool(struct jctx *c, const struct jpath *p, yajl_val v, struct opt_bool *out);
/* Array of strings into a NULL-terminated vector (empty array -> empty vector). */
int j_strv(struct jctx *c, const struct jpath *p, yajl_val v, char ***out);
/* Object of string values into key/value pairs. */
int j_string_map(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_kv **out,
		 size_t *n);
/* Same as j_string, but the value must be present. */
int j_string_req(struct jctx *c, const struct jpath *p, yajl_val v, char **out);
/* A present string that must be an absolute path. */
int j_abs_path(struct jctx *c, const struct jpath *p, yajl_val v, char **out, bool required);

void conf_kv_free(struct conf_kv *kv, size_t n);

/* ---- names.c ---- */
struct conf_name { const char *name; int value; };
/* Looks name up in a table ending with { NULL, 0 }; -EINVAL when unknown. */
int conf_name_lookup(const struct conf_name *t, const char *name);
extern const struct conf_name conf_ns_names[];          /* "pid" -> CONF_NS_PID */
extern const struct conf_name conf_sched_policies[];    /* "SCHED_FIFO" -> 1 */
extern const struct conf_name conf_sched_flags[];       /* "SCHED_FLAG_RECLAIM" -> 0x02 */
extern const struct conf_name conf_ioprio_classes[];    /* "IOPRIO_CLASS_RT" -> 1 */
extern const struct conf_name conf_seccomp_actions[];   /* "SCMP_ACT_ERRNO" -> ..._ERRNO */
extern const struct conf_name conf_seccomp_ops[];       /* "SCMP_CMP_EQ" -> 4 */
extern const struct conf_name conf_propagations[];      /* "rslave" -> MS_SLAVE|MS_REC */

/* ---- the section parsers ---- */
int conf_process_parse(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_process *out);
void conf_process_clear(struct conf_process *p);

int conf_mounts_parse(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_config *cfg);
int conf_idmaps_parse(struct jctx *c, const struct jpath *p, yajl_val v,
		      struct conf_idmap **out, size_t *n);
void conf_mount_clear(struct conf_mount *m);

int conf_hooks_parse(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_config *cfg);
void conf_hook_list_clear(struct conf_hook_list *l);

int conf_linux_parse(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_linux *out);
void conf_linux_clear(struct conf_linux *l);

int conf_resources_parse(struct jctx *c, const struct jpath *p, yajl_val v,
			 struct conf_resources *out);

int conf_seccomp_parse(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_seccomp *out);
void conf_seccomp_free(struct conf_seccomp *s);

#endif
