/* conf/hooks.c: config.hooks, the six lists of the spec. Kinds the spec does
 * not define are ignored like any unknown field. */
#include <inttypes.h>
#include <string.h>

#include "internal.h"

void conf_hook_list_clear(struct conf_hook_list *l)
{
	for (size_t i = 0; l->v && i < l->n; i++) {
		free(l->v[i].path);
		vs_strv_free(l->v[i].args);
		vs_strv_free(l->v[i].env);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int parse_hook(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_hook *h)
{
	struct jpath pp = JKEY(p, "path"), pa = JKEY(p, "args");
	struct jpath pe = JKEY(p, "env"), pt = JKEY(p, "timeout");
	if (j_want_object(c, p, v) < 0 ||
	    j_abs_path(c, &pp, j_get(v, "path"), &h->path, true) < 0 ||
	    j_strv(c, &pa, j_get(v, "args"), &h->args) < 0 ||
	    j_strv(c, &pe, j_get(v, "env"), &h->env) < 0)
		return -EINVAL;
	yajl_val t = j_get(v, "timeout");
	if (t && j_opt_i64(c, &pt, t, INT64_MIN, INT64_MAX, &h->timeout) < 0)
		return -EINVAL;
	if (h->timeout.set && h->timeout.v <= 0)
		return j_fail(c, &pt, "must be greater than zero, got %" PRId64, h->timeout.v);
	return 0;
}

int conf_hooks_parse(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_config *cfg)
{
	if (!v)
		return 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	for (int k = 0; k < CONF_HOOK__MAX; k++) {
		const char *name = conf_hook_name(k);
		struct jpath pk = JKEY(p, name);
		struct conf_hook_list *l = &cfg->hooks[k];
		yajl_val list = j_get(v, name);
		if (!list)
			continue;
		if (j_want_array(c, &pk, list) < 0)
			return -EINVAL;
		l->n = j_array_len(list);
		l->v = vs_xcalloc(l->n, sizeof(*l->v));
		for (size_t i = 0; i < l->n; i++) {
			struct jpath pi = JIDX(&pk, i);
			if (parse_hook(c, &pi, j_array_at(list, i), &l->v[i]) < 0)
				return -EINVAL;
		}
	}
	return 0;
}
