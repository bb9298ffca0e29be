/* conf/linux.c: config.linux, except resources (resources.c) and seccomp
 * (seccomp.c). */
#include <string.h>

#include "internal.h"

void conf_linux_clear(struct conf_linux *l)
{
	for (int i = 0; i < CONF_NS__MAX; i++)
		free(l->ns[i].path);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; l->devices && i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	conf_resources_free(&l->resources);
	conf_kv_free(l->sysctl, l->n_sysctl);
	conf_seccomp_free(l->seccomp);
	vs_strv_free(l->masked_paths);
	vs_strv_free(l->readonly_paths);
	free(l->mount_label);
	free(l->personality.domain);
	vs_strv_free(l->personality.flags);
	free(l->intel_rdt.clos_id);
	free(l->intel_rdt.l3_cache_schema);
	free(l->intel_rdt.mem_bw_schema);
	memset(l, 0, sizeof(*l));
}

static int parse_namespaces(struct jctx *c, const struct jpath *p, yajl_val v,
			    struct conf_linux *l)
{
	if (!v)
		return 0;
	if (j_want_array(c, p, v) < 0)
		return -EINVAL;
	for (size_t i = 0; i < j_array_len(v); i++) {
		struct jpath pi = JIDX(p, i);
		struct jpath pt = JKEY(&pi, "type"), pp = JKEY(&pi, "path");
		yajl_val e = j_array_at(v, i);
		if (j_want_object(c, &pi, e) < 0)
			return -EINVAL;
		yajl_val t = j_get(e, "type");
		if (!t)
			return j_fail(c, &pt, "is required");
		if (!YAJL_IS_STRING(t))
			return j_fail_type(c, &pt, t, "a string");
		int ns = conf_name_lookup(conf_ns_names, t->u.string);
		if (ns < 0)
			return j_fail(c, &pt, "unknown namespace type \"%.40s\"", t->u.string);
		if (l->ns[ns].present)
			return j_fail(c, &pt, "duplicate namespace type \"%s\"", t->u.string);
		l->ns[ns].present = true;
		if (j_abs_path(c, &pp, j_get(e, "path"), &l->ns[ns].path, false) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_time_offsets(struct jctx *c, const struct jpath *p, yajl_val v,
			      struct conf_linux *l)
{
	static const char *const clocks[] = { "monotonic", "boottime" };
	if (!v)
		return 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *k = v->u.object.keys[i];
		struct jpath pk = JKEY(p, k);
		if (strcmp(k, clocks[0]) && strcmp(k, clocks[1]))
			return j_fail(c, &pk, "unknown clock (monotonic or boottime)");
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(clocks); i++) {
		struct jpath pk = JKEY(p, clocks[i]);
		struct jpath ps = JKEY(&pk, "secs"), pn = JKEY(&pk, "nanosecs");
		yajl_val e = j_get(v, clocks[i]);
		if (!e)
			continue;
		if (j_want_object(c, &pk, e) < 0 ||
		    j_opt_i64(c, &ps, j_get(e, "secs"), INT64_MIN, INT64_MAX,
			      &l->time_offsets[i].secs) < 0 ||
		    j_opt_u64(c, &pn, j_get(e, "nanosecs"), 999999999,
			      &l->time_offsets[i].nanosecs) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_device(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_device *d)
{
	struct jpath pp = JKEY(p, "path"), pt = JKEY(p, "type"), pmaj = JKEY(p, "major");
	struct jpath pmin = JKEY(p, "minor"), pm = JKEY(p, "fileMode");
	struct jpath pu = JKEY(p, "uid"), pg = JKEY(p, "gid");
	_cleanup_free_ char *type = NULL;
	if (j_want_object(c, p, v) < 0 ||
	    j_abs_path(c, &pp, j_get(v, "path"), &d->path, true) < 0 ||
	    j_string_req(c, &pt, j_get(v, "type"), &type) < 0)
		return -EINVAL;
	if (strlen(type) != 1 || !strchr("cbup", type[0]))
		return j_fail(c, &pt, "must be one of \"c\", \"b\", \"u\", \"p\", got \"%.20s\"", type);
	d->type = type[0];
	if (d->type != 'p') {
		if (!j_get(v, "major"))
			return j_fail(c, &pmaj, "is required for a \"%c\" device", d->type);
		if (!j_get(v, "minor"))
			return j_fail(c, &pmin, "is required for a \"%c\" device", d->type);
	}
	/* dev_t holds 12 bits of major and 20 of minor */
	if (j_i64(c, &pmaj, j_get(v, "major"), 0, 0xfff, &d->major) < 0 ||
	    j_i64(c, &pmin, j_get(v, "minor"), 0, 0xfffff, &d->minor) < 0 ||
	    j_opt_u64(c, &pm, j_get(v, "fileMode"), 0177777, &d->file_mode) < 0 ||
	    j_opt_u64(c, &pu, j_get(v, "uid"), UINT32_MAX, &d->uid) < 0 ||
	    j_opt_u64(c, &pg, j_get(v, "gid"), UINT32_MAX, &d->gid) < 0)
		return -EINVAL;
	return 0;
}

static int parse_devices(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_linux *l)
{
	if (!v)
		return 0;
	if (j_want_array(c, p, v) < 0)
		return -EINVAL;
	l->n_devices = j_array_len(v);
	l->devices = vs_xcalloc(l->n_devices, sizeof(*l->devices));
	for (size_t i = 0; i < l->n_devices; i++) {
		struct jpath pi = JIDX(p, i);
		if (parse_device(c, &pi, j_array_at(v, i), &l->devices[i]) < 0)
			return -EINVAL;
	}
	return 0;
}

/* A sysctl key becomes a path under /proc/sys ("net.ipv4.ip_forward" or
 * "net/ipv4/conf/eth0.100/forwarding"): no way out of it. And only a key of
 * a namespace the container has: the others are the host's (conf/sysctl.c).
 * Runs after parse_namespaces. */
static int parse_sysctl(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_linux *l)
{
	if (j_string_map(c, p, v, &l->sysctl, &l->n_sysctl) < 0)
		return -EINVAL;
	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *k = l->sysctl[i].key;
		struct jpath pk = JKEY(p, k);
		int ns = conf_sysctl_ns(k);
		if (ns == -EPERM)
			return j_fail(c, &pk, "is not in a separate kernel namespace: it would "
				      "change the host's (only net.*, the ipc and the uts sysctls "
				      "can be set)");
		if (ns < 0)
			return j_fail(c, &pk, "is not a sysctl name");
		if (!l->ns[ns].present)
			return j_fail(c, &pk, "needs a \"%s\" namespace in linux.namespaces: it "
				      "would change the host's", conf_ns_name(ns));
	}
	return 0;
}

static int parse_abs_list(struct jctx *c, const struct jpath *p, yajl_val v, char ***out)
{
	if (j_strv(c, p, v, out) < 0)
		return -EINVAL;
	for (size_t i = 0; *out && (*out)[i]; i++) {
		struct jpath pi = JIDX(p, i);
		if ((*out)[i][0] != '/')
			return j_fail(c, &pi, "must be an absolute path");
	}
	return 0;
}

static int parse_personality(struct jctx *c, const struct jpath *p, yajl_val v,
			     struct conf_linux *l)
{
	if (!v)
		return 0;
	struct jpath pd = JKEY(p, "domain"), pf = JKEY(p, "flags");
	if (j_want_object(c, p, v) < 0 ||
	    j_string_req(c, &pd, j_get(v, "domain"), &l->personality.domain) < 0 ||
	    j_strv(c, &pf, j_get(v, "flags"), &l->personality.flags) < 0)
		return -EINVAL;
	if (strcmp(l->personality.domain, "LINUX") && strcmp(l->personality.domain, "LINUX32"))
		return j_fail(c, &pd, "must be \"LINUX\" or \"LINUX32\"");
	l->personality.set = true;
	return 0;
}

static int parse_intel_rdt(struct jctx *c, const struct jpath *p, yajl_val v,
			   struct conf_linux *l)
{
	if (!v)
		return 0;
	struct jpath pc = JKEY(p, "closID"), pl3 = JKEY(p, "l3CacheSchema");
	struct jpath pmb = JKEY(p, "memBwSchema"), pcmt = JKEY(p, "enableCMT");
	struct jpath pmbm = JKEY(p, "enableMBM");
	if (j_want_object(c, p, v) < 0 ||
	    j_string(c, &pc, j_get(v, "closID"), &l->intel_rdt.clos_id) < 0 ||
	    j_string(c, &pl3, j_get(v, "l3CacheSchema"), &l->intel_rdt.l3_cache_schema) < 0 ||
	    j_string(c, &pmb, j_get(v, "memBwSchema"), &l->intel_rdt.mem_bw_schema) < 0 ||
	    j_bool(c, &pcmt, j_get(v, "enableCMT"), &l->intel_rdt.enable_cmt) < 0 ||
	    j_bool(c, &pmbm, j_get(v, "enableMBM"), &l->intel_rdt.enable_mbm) < 0)
		return -EINVAL;
	/* closID names a directory under /sys/fs/resctrl */
	const char *id = l->intel_rdt.clos_id;
	if (id && (!*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, "..")))
		return j_fail(c, &pc, "must be a plain directory name");
	l->intel_rdt.set = true;
	return 0;
}

static int parse_propagation(struct jctx *c, const struct jpath *p, yajl_val v,
			     struct conf_linux *l)
{
	if (!v)
		return 0;
	if (!YAJL_IS_STRING(v))
		return j_fail_type(c, p, v, "a string");
	int f = conf_name_lookup(conf_propagations, v->u.string);
	if (f < 0)
		return j_fail(c, p, "unknown propagation \"%.40s\"", v->u.string);
	l->rootfs_propagation = (unsigned long)f;
	return 0;
}

static int parse_seccomp(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_linux *l)
{
	if (!v)
		return 0;
	l->seccomp = vs_xcalloc(1, sizeof(*l->seccomp));
	return conf_seccomp_parse(c, p, v, l->seccomp);
}

int conf_linux_parse(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_linux *l)
{
	struct jpath pns = JKEY(p, "namespaces"), pum = JKEY(p, "uidMappings");
	struct jpath pgm = JKEY(p, "gidMappings"), pto = JKEY(p, "timeOffsets");
	struct jpath pdev = JKEY(p, "devices"), pcg = JKEY(p, "cgroupsPath");
	struct jpath pres = JKEY(p, "resources"), psys = JKEY(p, "sysctl");
	struct jpath psec = JKEY(p, "seccomp"), prp = JKEY(p, "rootfsPropagation");
	struct jpath pmask = JKEY(p, "maskedPaths"), pro = JKEY(p, "readonlyPaths");
	struct jpath pml = JKEY(p, "mountLabel"), ppers = JKEY(p, "personality");
	struct jpath prdt = JKEY(p, "intelRdt");
	if (j_want_object(c, p, v) < 0 ||
	    parse_namespaces(c, &pns, j_get(v, "namespaces"), l) < 0 ||
	    conf_idmaps_parse(c, &pum, j_get(v, "uidMappings"), &l->uid_mappings,
			      &l->n_uid_mappings) < 0 ||
	    conf_idmaps_parse(c, &pgm, j_get(v, "gidMappings"), &l->gid_mappings,
			      &l->n_gid_mappings) < 0 ||
	    parse_time_offsets(c, &pto, j_get(v, "timeOffsets"), l) < 0 ||
	    parse_devices(c, &pdev, j_get(v, "devices"), l) < 0 ||
	    j_string(c, &pcg, j_get(v, "cgroupsPath"), &l->cgroups_path) < 0 ||
	    parse_sysctl(c, &psys, j_get(v, "sysctl"), l) < 0 ||
	    parse_seccomp(c, &psec, j_get(v, "seccomp"), l) < 0 ||
	    parse_propagation(c, &prp, j_get(v, "rootfsPropagation"), l) < 0 ||
	    parse_abs_list(c, &pmask, j_get(v, "maskedPaths"), &l->masked_paths) < 0 ||
	    parse_abs_list(c, &pro, j_get(v, "readonlyPaths"), &l->readonly_paths) < 0 ||
	    j_string(c, &pml, j_get(v, "mountLabel"), &l->mount_label) < 0 ||
	    parse_personality(c, &ppers, j_get(v, "personality"), l) < 0 ||
	    parse_intel_rdt(c, &prdt, j_get(v, "intelRdt"), l) < 0)
		return -EINVAL;

	yajl_val res = j_get(v, "resources");
	if (res) {
		l->has_resources = true;
		if (conf_resources_parse(c, &pres, res, &l->resources) < 0)
			return -EINVAL;
	}

	/* Mappings only mean something to a new user namespace. */
	if ((l->n_uid_mappings || l->n_gid_mappings) && !l->ns[CONF_NS_USER].present)
		return j_fail(c, &pum, "id mappings need a user namespace in linux.namespaces");
	if (!l->n_uid_mappings != !l->n_gid_mappings)
		return j_fail(c, l->n_uid_mappings ? &pgm : &pum,
			      "uidMappings and gidMappings must be given together");
	return 0;
}
