/* conf/mounts.c: config.mounts, the mount option vocabulary of runc and
 * crun decoded into MS_* / MOUNT_ATTR_* bits, and id-mappings. */
#include <string.h>
#include <sys/mount.h>

#include "internal.h"

enum opt_kind {
	OPT_SET,        /* flags |= bits */
	OPT_CLEAR,      /* flags &= ~bits, remembered in clear_flags */
	OPT_PROPAGATION,
	OPT_ATTR_SET,   /* recursive (mount_setattr) */
	OPT_ATTR_CLR,
	OPT_ATIME,      /* recursive atime mode: clears MOUNT_ATTR__ATIME, sets bits */
	OPT_IDMAP,
	OPT_RIDMAP,
	OPT_COPYUP,
	OPT_NOOP,
};

struct mount_opt {
	const char *name;
	enum opt_kind kind;
	unsigned long bits;
};

/* Sorted as in mount(8). The recursive atime "un-setters" (ratime,
 * rnostrictatime, rnorelatime) all return to the kernel's default, relatime:
 * mount_setattr(2) takes exactly one atime mode, not a mask. */
#define MOUNT_OPTS(X) \
	X("defaults", OPT_NOOP, 0) \
	X("ro", OPT_SET, MS_RDONLY) \
	X("rw", OPT_CLEAR, MS_RDONLY) \
	X("nosuid", OPT_SET, MS_NOSUID) \
	X("suid", OPT_CLEAR, MS_NOSUID) \
	X("nodev", OPT_SET, MS_NODEV) \
	X("dev", OPT_CLEAR, MS_NODEV) \
	X("noexec", OPT_SET, MS_NOEXEC) \
	X("exec", OPT_CLEAR, MS_NOEXEC) \
	X("sync", OPT_SET, MS_SYNCHRONOUS) \
	X("async", OPT_CLEAR, MS_SYNCHRONOUS) \
	X("dirsync", OPT_SET, MS_DIRSYNC) \
	X("remount", OPT_SET, MS_REMOUNT) \
	X("mand", OPT_SET, MS_MANDLOCK) \
	X("nomand", OPT_CLEAR, MS_MANDLOCK) \
	X("noatime", OPT_SET, MS_NOATIME) \
	X("atime", OPT_CLEAR, MS_NOATIME) \
	X("nodiratime", OPT_SET, MS_NODIRATIME) \
	X("diratime", OPT_CLEAR, MS_NODIRATIME) \
	X("relatime", OPT_SET, MS_RELATIME) \
	X("norelatime", OPT_CLEAR, MS_RELATIME) \
	X("strictatime", OPT_SET, MS_STRICTATIME) \
	X("nostrictatime", OPT_CLEAR, MS_STRICTATIME) \
	X("lazytime", OPT_SET, MS_LAZYTIME) \
	X("nolazytime", OPT_CLEAR, MS_LAZYTIME) \
	X("nosymfollow", OPT_SET, MS_NOSYMFOLLOW) \
	X("symfollow", OPT_CLEAR, MS_NOSYMFOLLOW) \
	X("bind", OPT_SET, MS_BIND) \
	X("rbind", OPT_SET, MS_BIND | MS_REC) \
	X("private", OPT_PROPAGATION, MS_PRIVATE) \
	X("rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC) \
	X("shared", OPT_PROPAGATION, MS_SHARED) \
	X("rshared", OPT_PROPAGATION, MS_SHARED | MS_REC) \
	X("slave", OPT_PROPAGATION, MS_SLAVE) \
	X("rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC) \
	X("unbindable", OPT_PROPAGATION, MS_UNBINDABLE) \
	X("runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC) \
	X("rro", OPT_ATTR_SET, MOUNT_ATTR_RDONLY) \
	X("rrw", OPT_ATTR_CLR, MOUNT_ATTR_RDONLY) \
	X("rnosuid", OPT_ATTR_SET, MOUNT_ATTR_NOSUID) \
	X("rsuid", OPT_ATTR_CLR, MOUNT_ATTR_NOSUID) \
	X("rnodev", OPT_ATTR_SET, MOUNT_ATTR_NODEV) \
	X("rdev", OPT_ATTR_CLR, MOUNT_ATTR_NODEV) \
	X("rnoexec", OPT_ATTR_SET, MOUNT_ATTR_NOEXEC) \
	X("rexec", OPT_ATTR_CLR, MOUNT_ATTR_NOEXEC) \
	X("rnodiratime", OPT_ATTR_SET, MOUNT_ATTR_NODIRATIME) \
	X("rdiratime", OPT_ATTR_CLR, MOUNT_ATTR_NODIRATIME) \
	X("rnosymfollow", OPT_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW) \
	X("rsymfollow", OPT_ATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW) \
	X("rrelatime", OPT_ATIME, MOUNT_ATTR_RELATIME) \
	X("rnorelatime", OPT_ATIME, MOUNT_ATTR_RELATIME) \
	X("rnoatime", OPT_ATIME, MOUNT_ATTR_NOATIME) \
	X("ratime", OPT_ATIME, MOUNT_ATTR_RELATIME) \
	X("rstrictatime", OPT_ATIME, MOUNT_ATTR_STRICTATIME) \
	X("rnostrictatime", OPT_ATIME, MOUNT_ATTR_RELATIME) \
	X("idmap", OPT_IDMAP, 0) \
	X("ridmap", OPT_RIDMAP, 0) \
	X("tmpcopyup", OPT_COPYUP, 0)

#define AS_ENTRY(n, k, b) { n, k, b },
#define AS_NAME(n, k, b) n,
static const struct mount_opt mount_opts[] = { MOUNT_OPTS(AS_ENTRY) };
static const char *const mount_opt_names[] = { MOUNT_OPTS(AS_NAME) NULL };

const char *const *conf_known_mount_options(void)
{
	return mount_opt_names;
}

static const struct mount_opt *find_opt(const char *name)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(mount_opts); i++)
		if (!strcmp(mount_opts[i].name, name))
			return &mount_opts[i];
	return NULL;
}

/* Later options win over earlier ones, as with mount(8). */
static void apply_opt(struct conf_mount *m, const struct mount_opt *o)
{
	switch (o->kind) {
	case OPT_SET:
		m->flags |= o->bits;
		m->clear_flags &= ~o->bits;
		break;
	case OPT_CLEAR:
		m->flags &= ~o->bits;
		m->clear_flags |= o->bits;
		break;
	case OPT_PROPAGATION:
		m->propagation = o->bits;
		break;
	case OPT_ATTR_SET:
		m->attr_set |= o->bits;
		m->attr_clr &= ~o->bits;
		break;
	case OPT_ATTR_CLR:
		m->attr_clr |= o->bits;
		m->attr_set &= ~o->bits;
		break;
	case OPT_ATIME:
		m->attr_clr |= MOUNT_ATTR__ATIME;
		m->attr_set = (m->attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | o->bits;
		break;
	case OPT_IDMAP:
		m->idmap = true;
		break;
	case OPT_RIDMAP:
		m->ridmap = true;
		break;
	case OPT_COPYUP:
		m->copy_up = true;
		break;
	case OPT_NOOP:
		break;
	}
}

static void decode_options(struct conf_mount *m)
{
	size_t datalen = 0;
	for (size_t i = 0; m->options && m->options[i]; i++) {
		const char *s = m->options[i];
		const struct mount_opt *o = find_opt(s);
		if (o) {
			apply_opt(m, o);
			continue;
		}
		if (!*s)
			continue;
		/* filesystem data such as "mode=755" or "size=64k" */
		size_t n = strlen(s);
		m->data = vs_xrealloc(m->data, datalen + n + 2);
		if (datalen)
			m->data[datalen++] = ',';
		memcpy(m->data + datalen, s, n + 1);
		datalen += n;
	}
}

void conf_mount_clear(struct conf_mount *m)
{
	free(m->destination);
	free(m->type);
	free(m->source);
	vs_strv_free(m->options);
	free(m->data);
	free(m->uid_mappings);
	free(m->gid_mappings);
	memset(m, 0, sizeof(*m));
}

/* uidMappings / gidMappings: [{containerID, hostID, size}], size >= 1 and
 * neither range wrapping past 2^32. */
int conf_idmaps_parse(struct jctx *c, const struct jpath *p, yajl_val v,
		      struct conf_idmap **out, size_t *n)
{
	if (!v)
		return 0;
	if (j_want_array(c, p, v) < 0)
		return -EINVAL;
	*n = j_array_len(v);
	*out = vs_xcalloc(*n, sizeof(**out));
	for (size_t i = 0; i < *n; i++) {
		struct conf_idmap *m = &(*out)[i];
		struct jpath pi = JIDX(p, i);
		struct jpath pc = JKEY(&pi, "containerID"), ph = JKEY(&pi, "hostID");
		struct jpath ps = JKEY(&pi, "size");
		yajl_val e = j_array_at(v, i);
		if (j_want_object(c, &pi, e) < 0)
			return -EINVAL;
		if (!j_get(e, "containerID"))
			return j_fail(c, &pc, "is required");
		if (!j_get(e, "hostID"))
			return j_fail(c, &ph, "is required");
		if (!j_get(e, "size"))
			return j_fail(c, &ps, "is required");
		if (j_u32(c, &pc, j_get(e, "containerID"), &m->container_id) < 0 ||
		    j_u32(c, &ph, j_get(e, "hostID"), &m->host_id) < 0 ||
		    j_u32(c, &ps, j_get(e, "size"), &m->size) < 0)
			return -EINVAL;
		if (m->size == 0)
			return j_fail(c, &ps, "must be at least 1");
		if ((uint64_t)m->container_id + m->size > (1ULL << 32) ||
		    (uint64_t)m->host_id + m->size > (1ULL << 32))
			return j_fail(c, &ps, "the range passes 4294967295");
	}
	return 0;
}

static int parse_mount(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_mount *m)
{
	struct jpath pd = JKEY(p, "destination"), pt = JKEY(p, "type");
	struct jpath ps = JKEY(p, "source"), po = JKEY(p, "options");
	struct jpath pu = JKEY(p, "uidMappings"), pg = JKEY(p, "gidMappings");
	if (j_want_object(c, p, v) < 0 ||
	    j_abs_path(c, &pd, j_get(v, "destination"), &m->destination, true) < 0 ||
	    j_string(c, &pt, j_get(v, "type"), &m->type) < 0 ||
	    j_string(c, &ps, j_get(v, "source"), &m->source) < 0 ||
	    j_strv(c, &po, j_get(v, "options"), &m->options) < 0 ||
	    conf_idmaps_parse(c, &pu, j_get(v, "uidMappings"), &m->uid_mappings,
			      &m->n_uid_mappings) < 0 ||
	    conf_idmaps_parse(c, &pg, j_get(v, "gidMappings"), &m->gid_mappings,
			      &m->n_gid_mappings) < 0)
		return -EINVAL;
	if (!m->n_uid_mappings != !m->n_gid_mappings)
		return j_fail(c, m->n_uid_mappings ? &pg : &pu,
			      "uidMappings and gidMappings must be given together");
	decode_options(m);
	return 0;
}

int conf_mounts_parse(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_config *cfg)
{
	if (!v)
		return 0;
	if (j_want_array(c, p, v) < 0)
		return -EINVAL;
	cfg->n_mounts = j_array_len(v);
	cfg->mounts = vs_xcalloc(cfg->n_mounts, sizeof(*cfg->mounts));
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		struct jpath pi = JIDX(p, i);
		if (parse_mount(c, &pi, j_array_at(v, i), &cfg->mounts[i]) < 0)
			return -EINVAL;
	}
	return 0;
}
