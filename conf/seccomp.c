/* conf/seccomp.c: linux.seccomp. Names are checked against the spec's
 * vocabulary here; syscall names are left to libseccomp in runtime/, which
 * knows which exist on which architecture. */
#include <string.h>

#include "internal.h"

void conf_seccomp_free(struct conf_seccomp *s)
{
	if (!s)
		return;
	vs_strv_free(s->architectures);
	vs_strv_free(s->flags);
	free(s->listener_path);
	free(s->listener_metadata);
	for (size_t i = 0; s->syscalls && i < s->n_syscalls; i++) {
		vs_strv_free(s->syscalls[i].names);
		free(s->syscalls[i].args);
	}
	free(s->syscalls);
	free(s);
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

static int parse_action(struct jctx *c, const struct jpath *p, yajl_val v, int *out)
{
	if (!v)
		return j_fail(c, p, "is required");
	if (!YAJL_IS_STRING(v))
		return j_fail_type(c, p, v, "a string");
	*out = conf_name_lookup(conf_seccomp_actions, v->u.string);
	if (*out < 0)
		return j_fail(c, p, "unknown seccomp action \"%.60s\"", v->u.string);
	return 0;
}

/* errnoRet means something only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE; the
 * spec asks the runtime to refuse it elsewhere. */
static int check_errno_ret(struct jctx *c, const struct jpath *p, int action,
			   const struct opt_u64 *ret)
{
	if (ret->set && action != CONF_SECCOMP_ACT_ERRNO && action != CONF_SECCOMP_ACT_TRACE)
		return j_fail(c, p, "is only allowed with SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
	return 0;
}

/* A list of strings each taken from `known`. */
static int parse_names(struct jctx *c, const struct jpath *p, yajl_val v,
		       const char *const *known, const char *what, char ***out)
{
	if (j_strv(c, p, v, out) < 0)
		return -EINVAL;
	for (size_t i = 0; *out && (*out)[i]; i++) {
		struct jpath pi = JIDX(p, i);
		if (!in_list(known, (*out)[i]))
			return j_fail(c, &pi, "unknown seccomp %s \"%.60s\"", what, (*out)[i]);
	}
	return 0;
}

static int parse_arg(struct jctx *c, const struct jpath *p, yajl_val v,
		     struct conf_seccomp_arg *a)
{
	struct jpath pi = JKEY(p, "index"), pv = JKEY(p, "value");
	struct jpath pv2 = JKEY(p, "valueTwo"), po = JKEY(p, "op");
	uint64_t idx = 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	if (!j_get(v, "index"))
		return j_fail(c, &pi, "is required");
	if (!j_get(v, "value"))
		return j_fail(c, &pv, "is required");
	/* a syscall has at most six arguments */
	if (j_u64(c, &pi, j_get(v, "index"), 5, &idx) < 0 ||
	    j_u64(c, &pv, j_get(v, "value"), UINT64_MAX, &a->value) < 0 ||
	    j_u64(c, &pv2, j_get(v, "valueTwo"), UINT64_MAX, &a->value_two) < 0)
		return -EINVAL;
	a->index = (unsigned)idx;
	yajl_val op = j_get(v, "op");
	if (!op)
		return j_fail(c, &po, "is required");
	if (!YAJL_IS_STRING(op))
		return j_fail_type(c, &po, op, "a string");
	a->op = conf_name_lookup(conf_seccomp_ops, op->u.string);
	if (a->op < 0)
		return j_fail(c, &po, "unknown seccomp operator \"%.60s\"", op->u.string);
	return 0;
}

static int parse_rule(struct jctx *c, const struct jpath *p, yajl_val v,
		      struct conf_seccomp_rule *rule)
{
	struct jpath pn = JKEY(p, "names"), pa = JKEY(p, "action");
	struct jpath pe = JKEY(p, "errnoRet"), pargs = JKEY(p, "args");
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	yajl_val names = j_get(v, "names");
	if (!YAJL_IS_ARRAY(names) || j_array_len(names) == 0)
		return j_fail(c, &pn, "must be a non-empty array of strings");
	if (j_strv(c, &pn, names, &rule->names) < 0 ||
	    parse_action(c, &pa, j_get(v, "action"), &rule->action) < 0 ||
	    j_opt_u64(c, &pe, j_get(v, "errnoRet"), UINT32_MAX, &rule->errno_ret) < 0 ||
	    check_errno_ret(c, &pe, rule->action, &rule->errno_ret) < 0)
		return -EINVAL;

	yajl_val args = j_get(v, "args");
	if (!args)
		return 0;
	if (j_want_array(c, &pargs, args) < 0)
		return -EINVAL;
	rule->n_args = j_array_len(args);
	rule->args = vs_xcalloc(rule->n_args, sizeof(*rule->args));
	for (size_t i = 0; i < rule->n_args; i++) {
		struct jpath pi = JIDX(&pargs, i);
		if (parse_arg(c, &pi, j_array_at(args, i), &rule->args[i]) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_syscalls(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_seccomp *s)
{
	if (!v)
		return 0;
	if (j_want_array(c, p, v) < 0)
		return -EINVAL;
	s->n_syscalls = j_array_len(v);
	s->syscalls = vs_xcalloc(s->n_syscalls, sizeof(*s->syscalls));
	for (size_t i = 0; i < s->n_syscalls; i++) {
		struct jpath pi = JIDX(p, i);
		if (parse_rule(c, &pi, j_array_at(v, i), &s->syscalls[i]) < 0)
			return -EINVAL;
	}
	return 0;
}

int conf_seccomp_parse(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_seccomp *s)
{
	struct jpath pda = JKEY(p, "defaultAction"), pde = JKEY(p, "defaultErrnoRet");
	struct jpath par = JKEY(p, "architectures"), pfl = JKEY(p, "flags");
	struct jpath plp = JKEY(p, "listenerPath"), plm = JKEY(p, "listenerMetadata");
	struct jpath psc = JKEY(p, "syscalls");
	if (j_want_object(c, p, v) < 0 ||
	    parse_action(c, &pda, j_get(v, "defaultAction"), &s->default_action) < 0 ||
	    j_opt_u64(c, &pde, j_get(v, "defaultErrnoRet"), UINT32_MAX, &s->default_errno_ret) < 0 ||
	    check_errno_ret(c, &pde, s->default_action, &s->default_errno_ret) < 0 ||
	    parse_names(c, &par, j_get(v, "architectures"), conf_known_seccomp_archs(),
			"architecture", &s->architectures) < 0 ||
	    parse_names(c, &pfl, j_get(v, "flags"), conf_known_seccomp_flags(),
			"flag", &s->flags) < 0 ||
	    j_abs_path(c, &plp, j_get(v, "listenerPath"), &s->listener_path, false) < 0 ||
	    j_string(c, &plm, j_get(v, "listenerMetadata"), &s->listener_metadata) < 0 ||
	    parse_syscalls(c, &psc, j_get(v, "syscalls"), s) < 0)
		return -EINVAL;

	/* The notify fd has to go somewhere, and a filter whose default is to
	 * ask userspace would ask about the runtime's own execve. */
	if (s->default_action == CONF_SECCOMP_ACT_NOTIFY)
		return j_fail(c, &pda, "SCMP_ACT_NOTIFY cannot be the default action");
	bool notify = false;
	for (size_t i = 0; i < s->n_syscalls; i++)
		notify |= s->syscalls[i].action == CONF_SECCOMP_ACT_NOTIFY;
	if (notify && !s->listener_path)
		return j_fail(c, &plp, "is required when a rule uses SCMP_ACT_NOTIFY");
	return 0;
}
