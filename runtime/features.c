/* vsrun features: the runtime-spec features document. */
#include "internal.h"
#include "../namespaces/namespaces.h"

#include <string.h>
#include <yajl/yajl_gen.h>

#define GSTR(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

static void gen_list(yajl_gen g, const char *key, const char *const *v)
{
	GSTR(g, key);
	yajl_gen_array_open(g);
	for (size_t i = 0; v && v[i]; i++)
		GSTR(g, v[i]);
	yajl_gen_array_close(g);
}

static void gen_enabled(yajl_gen g, const char *key, bool on)
{
	GSTR(g, key);
	yajl_gen_map_open(g);
	GSTR(g, "enabled");
	yajl_gen_bool(g, on);
	yajl_gen_map_close(g);
}

char *rt_features_json(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "    ");
	yajl_gen_map_open(g);
	GSTR(g, "ociVersionMin");
	GSTR(g, "1.0.0");
	GSTR(g, "ociVersionMax");
	GSTR(g, "1.2.0");
	static const char *const hooks[] = { "prestart", "createRuntime", "createContainer",
					     "startContainer", "poststart", "poststop", NULL };
	gen_list(g, "hooks", hooks);
	gen_list(g, "mountOptions", conf_known_mount_options());

	GSTR(g, "linux");
	yajl_gen_map_open(g);
	const char *ns[CONF_NS__MAX + 1] = { 0 };
	for (int t = 0; t < CONF_NS__MAX; t++)
		ns[t] = conf_ns_name(t);
	gen_list(g, "namespaces", ns);
	const char *caps[64] = { 0 };
	int last = conf_cap_last();
	for (int c = 0, n = 0; c <= last && n < 63; c++)
		if (conf_cap_name(c))
			caps[n++] = conf_cap_name(c);
	gen_list(g, "capabilities", caps);
	GSTR(g, "cgroup");
	yajl_gen_map_open(g);
	GSTR(g, "v1");
	yajl_gen_bool(g, 1);
	GSTR(g, "v2");
	yajl_gen_bool(g, 1);
	GSTR(g, "systemd");
	yajl_gen_bool(g, 0);
	GSTR(g, "systemdUser");
	yajl_gen_bool(g, 0);
	GSTR(g, "rdma");
	yajl_gen_bool(g, 1);
	yajl_gen_map_close(g);
	GSTR(g, "seccomp");
	yajl_gen_map_open(g);
	GSTR(g, "enabled");
	yajl_gen_bool(g, 1);
	gen_list(g, "actions", conf_known_seccomp_actions());
	static const char *const ops[] = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
		"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL };
	gen_list(g, "operators", ops);
	gen_list(g, "archs", conf_known_seccomp_archs());
	gen_list(g, "knownFlags", conf_known_seccomp_flags());
	gen_list(g, "supportedFlags", conf_known_seccomp_flags());
	yajl_gen_map_close(g);
	gen_enabled(g, "apparmor", true);
	gen_enabled(g, "selinux", true);
	gen_enabled(g, "intelRdt", false);
	GSTR(g, "mountExtensions");
	yajl_gen_map_open(g);
	gen_enabled(g, "idmap", true);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);

	GSTR(g, "annotations");
	yajl_gen_map_open(g);
	GSTR(g, "org.opencontainers.runc.checkpoint.enabled");
	GSTR(g, "false");
	GSTR(g, "run.oci.vserver.version");
	GSTR(g, VS_VERSION);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);

	return conf_gen_take(g, true);
}
