/* conf/process.c: config.process (and the process.json of `exec -p`). */
#include <string.h>

#include "internal.h"

void conf_process_clear(struct conf_process *p)
{
	if (!p)
		return;
	free(p->user.additional_gids);
	free(p->user.username);
	vs_strv_free(p->args);
	free(p->command_line);
	vs_strv_free(p->env);
	free(p->cwd);
	for (size_t i = 0; p->rlimits && i < p->n_rlimits; i++)
		free(p->rlimits[i].name);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p->exec_cpu_affinity_initial);
	free(p->exec_cpu_affinity_final);
	memset(p, 0, sizeof(*p));
}

void conf_process_free(struct conf_process *p)
{
	conf_process_clear(p);
	free(p);
}

static int parse_console_size(struct jctx *c, const struct jpath *p, yajl_val v,
			      struct conf_process *out)
{
	if (!v)
		return 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	struct jpath ph = JKEY(p, "height"), pw = JKEY(p, "width");
	uint32_t h = 0, w = 0;
	yajl_val vh = j_get(v, "height"), vw = j_get(v, "width");
	if (!vh)
		return j_fail(c, &ph, "is required");
	if (!vw)
		return j_fail(c, &pw, "is required");
	if (j_u32(c, &ph, vh, &h) < 0 || j_u32(c, &pw, vw, &w) < 0)
		return -EINVAL;
	out->has_console_size = true;
	out->console_height = h;
	out->console_width = w;
	return 0;
}

static int parse_user(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_user *u)
{
	if (!v)
		return 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	struct jpath puid = JKEY(p, "uid"), pgid = JKEY(p, "gid"), pum = JKEY(p, "umask");
	struct jpath pag = JKEY(p, "additionalGids"), pun = JKEY(p, "username");
	if (j_u32(c, &puid, j_get(v, "uid"), &u->uid) < 0 ||
	    j_u32(c, &pgid, j_get(v, "gid"), &u->gid) < 0 ||
	    j_opt_u64(c, &pum, j_get(v, "umask"), 07777, &u->umask) < 0 ||
	    j_string(c, &pun, j_get(v, "username"), &u->username) < 0)
		return -EINVAL;

	yajl_val ag = j_get(v, "additionalGids");
	if (!ag)
		return 0;
	if (j_want_array(c, &pag, ag) < 0)
		return -EINVAL;
	u->n_additional_gids = j_array_len(ag);
	u->additional_gids = vs_xcalloc(u->n_additional_gids, sizeof(uint32_t));
	for (size_t i = 0; i < u->n_additional_gids; i++) {
		struct jpath pi = JIDX(&pag, i);
		if (j_u32(c, &pi, j_array_at(ag, i), &u->additional_gids[i]) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_caps(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_caps *caps)
{
	static const struct { const char *key; size_t off; } sets[] = {
		{ "bounding", offsetof(struct conf_caps, bounding) },
		{ "effective", offsetof(struct conf_caps, effective) },
		{ "inheritable", offsetof(struct conf_caps, inheritable) },
		{ "permitted", offsetof(struct conf_caps, permitted) },
		{ "ambient", offsetof(struct conf_caps, ambient) },
	};
	if (!v)
		return 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	caps->set = true;
	for (size_t s = 0; s < VS_ARRAY_SIZE(sets); s++) {
		struct jpath ps = JKEY(p, sets[s].key);
		yajl_val list = j_get(v, sets[s].key);
		uint64_t *mask = (uint64_t *)((char *)caps + sets[s].off);
		if (!list)
			continue;
		if (!YAJL_IS_ARRAY(list))
			return j_fail_type(c, &ps, list, "an array of capability names");
		for (size_t i = 0; i < j_array_len(list); i++) {
			struct jpath pi = JIDX(&ps, i);
			yajl_val e = j_array_at(list, i);
			if (!YAJL_IS_STRING(e))
				return j_fail_type(c, &pi, e, "a capability name");
			int cap = conf_cap_from_name(e->u.string);
			if (cap < 0)
				return j_fail(c, &pi, "unknown capability \"%.60s\"", e->u.string);
			*mask |= 1ULL << cap;
		}
	}
	return 0;
}

static int parse_rlimits(struct jctx *c, const struct jpath *p, yajl_val v,
			 struct conf_process *out)
{
	if (!v)
		return 0;
	if (j_want_array(c, p, v) < 0)
		return -EINVAL;
	out->n_rlimits = j_array_len(v);
	out->rlimits = vs_xcalloc(out->n_rlimits, sizeof(*out->rlimits));
	for (size_t i = 0; i < out->n_rlimits; i++) {
		struct conf_rlimit *rl = &out->rlimits[i];
		struct jpath pi = JIDX(p, i);
		struct jpath pt = JKEY(&pi, "type"), ps = JKEY(&pi, "soft"), ph = JKEY(&pi, "hard");
		yajl_val e = j_array_at(v, i);
		if (j_want_object(c, &pi, e) < 0 || j_string_req(c, &pt, j_get(e, "type"), &rl->name) < 0)
			return -EINVAL;
		rl->type = conf_rlimit_from_name(rl->name);
		if (rl->type < 0)
			return j_fail(c, &pt, "unknown rlimit \"%.60s\"", rl->name);
		for (size_t k = 0; k < i; k++)
			if (out->rlimits[k].type == rl->type)
				return j_fail(c, &pt, "duplicate rlimit \"%.60s\"", rl->name);
		if (!j_get(e, "soft"))
			return j_fail(c, &ps, "is required");
		if (!j_get(e, "hard"))
			return j_fail(c, &ph, "is required");
		if (j_u64(c, &ps, j_get(e, "soft"), UINT64_MAX, &rl->soft) < 0 ||
		    j_u64(c, &ph, j_get(e, "hard"), UINT64_MAX, &rl->hard) < 0)
			return -EINVAL;
		if (rl->soft > rl->hard)
			return j_fail(c, &ps, "must not be above the hard limit");
	}
	return 0;
}

static int parse_scheduler(struct jctx *c, const struct jpath *p, yajl_val v,
			   struct conf_scheduler *s)
{
	if (!v)
		return 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	struct jpath ppol = JKEY(p, "policy"), pnice = JKEY(p, "nice"), pprio = JKEY(p, "priority");
	struct jpath pfl = JKEY(p, "flags"), prt = JKEY(p, "runtime");
	struct jpath pdl = JKEY(p, "deadline"), pper = JKEY(p, "period");
	yajl_val pol = j_get(v, "policy");
	if (!pol)
		return j_fail(c, &ppol, "is required");
	if (!YAJL_IS_STRING(pol))
		return j_fail_type(c, &ppol, pol, "a string");
	s->policy = conf_name_lookup(conf_sched_policies, pol->u.string);
	if (s->policy < 0)
		return j_fail(c, &ppol, "unknown policy \"%.60s\"", pol->u.string);

	int64_t nice = 0, prio = 0;
	if (j_i64(c, &pnice, j_get(v, "nice"), -20, 19, &nice) < 0 ||
	    j_i64(c, &pprio, j_get(v, "priority"), 0, 99, &prio) < 0 ||
	    j_u64(c, &prt, j_get(v, "runtime"), UINT64_MAX, &s->runtime) < 0 ||
	    j_u64(c, &pdl, j_get(v, "deadline"), UINT64_MAX, &s->deadline) < 0 ||
	    j_u64(c, &pper, j_get(v, "period"), UINT64_MAX, &s->period) < 0)
		return -EINVAL;
	s->nice = (int)nice;
	s->priority = (int)prio;

	yajl_val fl = j_get(v, "flags");
	if (fl) {
		if (j_want_array(c, &pfl, fl) < 0)
			return -EINVAL;
		for (size_t i = 0; i < j_array_len(fl); i++) {
			struct jpath pi = JIDX(&pfl, i);
			yajl_val e = j_array_at(fl, i);
			if (!YAJL_IS_STRING(e))
				return j_fail_type(c, &pi, e, "a string");
			int f = conf_name_lookup(conf_sched_flags, e->u.string);
			if (f < 0)
				return j_fail(c, &pi, "unknown flag \"%.60s\"", e->u.string);
			s->flags |= (uint64_t)f;
		}
	}
	s->set = true;
	return 0;
}

static int parse_io_priority(struct jctx *c, const struct jpath *p, yajl_val v,
			     struct conf_io_priority *io)
{
	if (!v)
		return 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	struct jpath pc = JKEY(p, "class"), pp = JKEY(p, "priority");
	yajl_val cl = j_get(v, "class");
	if (!cl)
		return j_fail(c, &pc, "is required");
	if (!YAJL_IS_STRING(cl))
		return j_fail_type(c, &pc, cl, "a string");
	io->class = conf_name_lookup(conf_ioprio_classes, cl->u.string);
	if (io->class < 0)
		return j_fail(c, &pc, "unknown class \"%.60s\"", cl->u.string);
	int64_t prio = 0;
	if (j_i64(c, &pp, j_get(v, "priority"), 0, 7, &prio) < 0)
		return -EINVAL;
	io->priority = (int)prio;
	io->set = true;
	return 0;
}

/* A cpu list as taskset -c takes it: "0-3,7". */
static bool cpu_list_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789,-", *s))
			return false;
	return true;
}

static int parse_affinity(struct jctx *c, const struct jpath *p, yajl_val v,
			  struct conf_process *out)
{
	if (!v)
		return 0;
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	struct jpath pi = JKEY(p, "initial"), pf = JKEY(p, "final");
	if (j_string(c, &pi, j_get(v, "initial"), &out->exec_cpu_affinity_initial) < 0 ||
	    j_string(c, &pf, j_get(v, "final"), &out->exec_cpu_affinity_final) < 0)
		return -EINVAL;
	if (out->exec_cpu_affinity_initial && !cpu_list_ok(out->exec_cpu_affinity_initial))
		return j_fail(c, &pi, "must be a cpu list such as \"0-3,7\"");
	if (out->exec_cpu_affinity_final && !cpu_list_ok(out->exec_cpu_affinity_final))
		return j_fail(c, &pf, "must be a cpu list such as \"0-3,7\"");
	return 0;
}

static int parse_args_cwd(struct jctx *c, const struct jpath *p, yajl_val v,
			  struct conf_process *out)
{
	struct jpath pa = JKEY(p, "args"), pcl = JKEY(p, "commandLine"), pe = JKEY(p, "env");
	struct jpath pcwd = JKEY(p, "cwd");
	yajl_val args = j_get(v, "args");
	if (!YAJL_IS_ARRAY(args) || j_array_len(args) == 0)
		return j_fail(c, &pa, "must be a non-empty array of strings");
	if (j_strv(c, &pa, args, &out->args) < 0 ||
	    j_string(c, &pcl, j_get(v, "commandLine"), &out->command_line) < 0 ||
	    j_strv(c, &pe, j_get(v, "env"), &out->env) < 0 ||
	    j_abs_path(c, &pcwd, j_get(v, "cwd"), &out->cwd, true) < 0)
		return -EINVAL;
	return 0;
}

int conf_process_parse(struct jctx *c, const struct jpath *p, yajl_val v, struct conf_process *out)
{
	if (j_want_object(c, p, v) < 0)
		return -EINVAL;
	struct jpath pt = JKEY(p, "terminal"), pcs = JKEY(p, "consoleSize");
	struct jpath pu = JKEY(p, "user"), pcap = JKEY(p, "capabilities");
	struct jpath prl = JKEY(p, "rlimits"), pnnp = JKEY(p, "noNewPrivileges");
	struct jpath paa = JKEY(p, "apparmorProfile"), pse = JKEY(p, "selinuxLabel");
	struct jpath poom = JKEY(p, "oomScoreAdj"), psch = JKEY(p, "scheduler");
	struct jpath pio = JKEY(p, "ioPriority"), paff = JKEY(p, "execCPUAffinity");

	if (j_bool(c, &pt, j_get(v, "terminal"), &out->terminal) < 0 ||
	    parse_console_size(c, &pcs, j_get(v, "consoleSize"), out) < 0 ||
	    parse_user(c, &pu, j_get(v, "user"), &out->user) < 0 ||
	    parse_args_cwd(c, p, v, out) < 0 ||
	    parse_caps(c, &pcap, j_get(v, "capabilities"), &out->caps) < 0 ||
	    parse_rlimits(c, &prl, j_get(v, "rlimits"), out) < 0 ||
	    j_bool(c, &pnnp, j_get(v, "noNewPrivileges"), &out->no_new_privileges) < 0 ||
	    j_string(c, &paa, j_get(v, "apparmorProfile"), &out->apparmor_profile) < 0 ||
	    j_string(c, &pse, j_get(v, "selinuxLabel"), &out->selinux_label) < 0 ||
	    j_opt_i64(c, &poom, j_get(v, "oomScoreAdj"), -1000, 1000, &out->oom_score_adj) < 0 ||
	    parse_scheduler(c, &psch, j_get(v, "scheduler"), &out->scheduler) < 0 ||
	    parse_io_priority(c, &pio, j_get(v, "ioPriority"), &out->io_priority) < 0 ||
	    parse_affinity(c, &paff, j_get(v, "execCPUAffinity"), out) < 0)
		return -EINVAL;
	return 0;
}

int conf_parse_process(const char *json, size_t len, const char *what,
		       struct conf_process **out, struct vs_err *err)
{
	struct jctx c = { .what = what ? what : "process.json", .err = err };
	struct jpath root = JROOT;
	yajl_val tree = NULL;
	int r = j_parse_tree(&c, json, len, &tree);
	if (r < 0)
		return r;
	struct conf_process *p = vs_xcalloc(1, sizeof(*p));
	r = conf_process_parse(&c, &root, tree, p);
	yajl_tree_free(tree);
	if (r < 0) {
		conf_process_free(p);
		return r;
	}
	*out = p;
	return 0;
}
