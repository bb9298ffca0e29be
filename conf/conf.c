/* conf/conf.c: the whole config.json: top-level fields, the checks that
 * span sections, loading and freeing. */
#include <string.h>

#include "internal.h"

void conf_free(struct conf_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->oci_version);
	free(cfg->root.path);
	for (size_t i = 0; cfg->mounts && i < cfg->n_mounts; i++)
		conf_mount_clear(&cfg->mounts[i]);
	free(cfg->mounts);
	conf_process_free(cfg->process);
	free(cfg->hostname);
	free(cfg->domainname);
	for (int k = 0; k < CONF_HOOK__MAX; k++)
		conf_hook_list_clear(&cfg->hooks[k]);
	conf_kv_free(cfg->annotations, cfg->n_annotations);
	conf_linux_clear(&cfg->linux_);
	free(cfg);
}

const char *conf_annotation(const struct conf_config *cfg, const char *key)
{
	const char *found = NULL;
	for (size_t i = 0; cfg && i < cfg->n_annotations; i++)
		if (!strcmp(cfg->annotations[i].key, key))
			found = cfg->annotations[i].value;   /* the last one wins */
	return found;
}

/* Only major version 1 is understood; 1.x.y of any minor is accepted, as
 * the spec keeps minor versions backwards compatible. */
static int check_version(struct jctx *c, const struct jpath *p, const char *v)
{
	if (strncmp(v, "1.", 2) || !v[2] || !strchr("0123456789", v[2]))
		return j_fail(c, p, "unsupported version \"%.40s\" (want 1.x.y)", v);
	return 0;
}

static int parse_root(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_config *cfg)
{
	if (!v)
		return 0;
	struct jpath pp = JKEY(p, "path"), pr = JKEY(p, "readonly");
	if (j_want_object(c, p, v) < 0 ||
	    j_string(c, &pp, j_get(v, "path"), &cfg->root.path) < 0 ||
	    j_bool(c, &pr, j_get(v, "readonly"), &cfg->root.readonly) < 0)
		return -EINVAL;
	if (cfg->root.path && !cfg->root.path[0])
		return j_fail(c, &pp, "must not be empty");
	return 0;
}

static int parse_process(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_config *cfg)
{
	if (!v)
		return 0;
	cfg->process = vs_xcalloc(1, sizeof(*cfg->process));
	return conf_process_parse(c, p, v, cfg->process);
}

/* Checks between sections, as runc's validator does them. */
static int cross_check(struct jctx *c, struct conf_config *cfg)
{
	struct jpath root = JROOT;
	struct jpath prp = JKEY(&root, "root"), prpp = JKEY(&prp, "path");
	struct jpath ph = JKEY(&root, "hostname"), pd = JKEY(&root, "domainname");
	if (cfg->has_linux && !cfg->root.path)
		return j_fail(c, &prpp, "is required");
	if (!cfg->has_linux)
		return 0;
	/* Setting a hostname in the host's UTS namespace would rename the host. */
	bool uts = cfg->linux_.ns[CONF_NS_UTS].present;
	if (cfg->hostname && cfg->hostname[0] && !uts)
		return j_fail(c, &ph, "needs a uts namespace in linux.namespaces");
	if (cfg->domainname && cfg->domainname[0] && !uts)
		return j_fail(c, &pd, "needs a uts namespace in linux.namespaces");
	return 0;
}

static int parse_config(struct jctx *c, yajl_val v, struct conf_config *cfg)
{
	struct jpath root = JROOT;
	struct jpath pv = JKEY(&root, "ociVersion"), pr = JKEY(&root, "root");
	struct jpath pm = JKEY(&root, "mounts"), pp = JKEY(&root, "process");
	struct jpath ph = JKEY(&root, "hostname"), pd = JKEY(&root, "domainname");
	struct jpath phk = JKEY(&root, "hooks"), pa = JKEY(&root, "annotations");
	struct jpath pl = JKEY(&root, "linux");
	if (!YAJL_IS_OBJECT(v))
		return j_fail_type(c, &root, v, "an object");
	if (j_string_req(c, &pv, j_get(v, "ociVersion"), &cfg->oci_version) < 0 ||
	    check_version(c, &pv, cfg->oci_version) < 0 ||
	    parse_root(c, &pr, j_get(v, "root"), cfg) < 0 ||
	    conf_mounts_parse(c, &pm, j_get(v, "mounts"), cfg) < 0 ||
	    parse_process(c, &pp, j_get(v, "process"), cfg) < 0 ||
	    j_string(c, &ph, j_get(v, "hostname"), &cfg->hostname) < 0 ||
	    j_string(c, &pd, j_get(v, "domainname"), &cfg->domainname) < 0 ||
	    conf_hooks_parse(c, &phk, j_get(v, "hooks"), cfg) < 0 ||
	    j_string_map(c, &pa, j_get(v, "annotations"), &cfg->annotations,
			 &cfg->n_annotations) < 0)
		return -EINVAL;
	yajl_val lx = j_get(v, "linux");
	if (lx) {
		cfg->has_linux = true;
		if (conf_linux_parse(c, &pl, lx, &cfg->linux_) < 0)
			return -EINVAL;
	}
	return cross_check(c, cfg);
}

int conf_parse(const char *json, size_t len, const char *what,
	       struct conf_config **out, struct vs_err *err)
{
	struct jctx c = { .what = what ? what : "config.json", .err = err };
	yajl_val tree = NULL;
	int r = j_parse_tree(&c, json, len, &tree);
	if (r < 0)
		return r;
	struct conf_config *cfg = vs_xcalloc(1, sizeof(*cfg));
	r = parse_config(&c, tree, cfg);
	yajl_tree_free(tree);
	if (r < 0) {
		conf_free(cfg);
		return r;
	}
	*out = cfg;
	return 0;
}

int conf_load(const char *path, struct conf_config **out, struct vs_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = vs_read_file(path, &buf, &len);
	if (r < 0)
		return vs_fail(err, -r, "conf: read %s", path);
	return conf_parse(buf, len, path, out, err);
}
