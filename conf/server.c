/* vserver server records (server.json) and the OCI config generated from
 * them. Pure: no syscalls. */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

const char *conf_restart_name(enum conf_restart r)
{
	switch (r) {
	case CONF_RESTART_ON_FAILURE: return "on-failure";
	case CONF_RESTART_ALWAYS: return "always";
	default: return "no";
	}
}

int conf_restart_from_name(const char *s)
{
	if (!strcmp(s, "no"))
		return CONF_RESTART_NO;
	if (!strcmp(s, "on-failure"))
		return CONF_RESTART_ON_FAILURE;
	if (!strcmp(s, "always"))
		return CONF_RESTART_ALWAYS;
	return -EINVAL;
}

void conf_server_free(struct conf_server *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->image);
	free(s->hostname);
	vs_strv_free(s->cmd);
	vs_strv_free(s->env);
	vs_strv_free(s->io_max);
	free(s->net);
	free(s->ip);
	vs_strv_free(s->publish);
	vs_strv_free(s->alerts);
	free(s->created);
	free(s->vm_kernel);
	free(s->vm_disk_image);
	free(s);
}

static int parse_fields(struct jctx *c, yajl_val root, struct conf_server *s)
{
	const struct jpath r = JROOT;
	struct jpath p;
	int q;
#define STR(key, field, req)                                                      \
	p = JKEY(&r, key);                                                        \
	if ((q = (req) ? j_string_req(c, &p, j_get(root, key), &s->field)         \
		       : j_string(c, &p, j_get(root, key), &s->field)) < 0)      \
		return q;
#define STRV(key, field)                                                          \
	p = JKEY(&r, key);                                                        \
	if ((q = j_strv(c, &p, j_get(root, key), &s->field)) < 0)                 \
		return q;
#define U64(key, field)                                                           \
	p = JKEY(&r, key);                                                        \
	if ((q = j_u64(c, &p, j_get(root, key), UINT64_MAX, &s->field)) < 0)      \
		return q;
	STR("name", name, true);
	STR("image", image, true);
	STR("hostname", hostname, false);
	STR("net", net, false);
	STR("ip", ip, false);
	STR("created", created, false);
	STR("vmKernel", vm_kernel, false);
	STR("vmDiskImage", vm_disk_image, false);
	U64("vmVcpus", vm_vcpus);
	p = JKEY(&r, "vm");
	if ((q = j_bool(c, &p, j_get(root, "vm"), &s->vm)) < 0)
		return q;
	STRV("cmd", cmd);
	STRV("env", env);
	STRV("ioMax", io_max);
	STRV("publish", publish);
	STRV("alerts", alerts);
	U64("cpuMilli", cpu_milli);
	U64("memory", memory);
	U64("swap", swap);
	U64("disk", disk);
	U64("pids", pids);
	U64("ioWeight", io_weight);
	U64("bandwidthIn", bw_in);
	U64("bandwidthOut", bw_out);
	p = JKEY(&r, "init");
	if ((q = j_bool(c, &p, j_get(root, "init"), &s->init)) < 0)
		return q;
	p = JKEY(&r, "autostart");
	if ((q = j_bool(c, &p, j_get(root, "autostart"), &s->autostart)) < 0)
		return q;
	char *restart = NULL;
	p = JKEY(&r, "restart");
	if ((q = j_string(c, &p, j_get(root, "restart"), &restart)) < 0)
		return q;
	if (restart) {
		int rv = conf_restart_from_name(restart);
		free(restart);
		if (rv < 0)
			return j_fail(c, &p, "expected no, on-failure or always");
		s->restart = (enum conf_restart)rv;
	}
#undef STR
#undef STRV
#undef U64
	return 0;
}

int conf_server_parse(const char *json, size_t len, const char *what,
		      struct conf_server **out, struct vs_err *err)
{
	struct jctx c = { .what = what, .err = err };
	yajl_val root = NULL;
	int r = j_parse_tree(&c, json, len, &root);
	if (r < 0)
		return r;
	const struct jpath rp = JROOT;
	struct conf_server *s = vs_xcalloc(1, sizeof(*s));
	r = j_want_object(&c, &rp, root);
	if (r >= 0)
		r = parse_fields(&c, root, s);
	yajl_tree_free(root);
	if (r < 0) {
		conf_server_free(s);
		return r;
	}
	*out = s;
	return 0;
}

#define GS(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

static void gen_kv_str(yajl_gen g, const char *k, const char *v)
{
	if (!v)
		return;
	GS(g, k);
	GS(g, v);
}

static void gen_kv_u64(yajl_gen g, const char *k, uint64_t v)
{
	if (!v)
		return;
	GS(g, k);
	yajl_gen_integer(g, (long long)v);
}

static void gen_strv(yajl_gen g, const char *k, char *const *v)
{
	if (!v)
		return;
	GS(g, k);
	yajl_gen_array_open(g);
	for (size_t i = 0; v[i]; i++)
		GS(g, v[i]);
	yajl_gen_array_close(g);
}

char *conf_gen_take(struct yajl_gen_t *g, bool newline)
{
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	char *out = vs_xmalloc(len + 2);
	memcpy(out, buf, len);
	if (newline)
		out[len++] = '\n';
	out[len] = '\0';
	yajl_gen_free(g);
	return out;
}

static yajl_gen gen_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "\t");
	return g;
}

char *conf_server_json(const struct conf_server *s)
{
	yajl_gen g = gen_new();
	yajl_gen_map_open(g);
	gen_kv_str(g, "name", s->name);
	gen_kv_str(g, "image", s->image);
	gen_kv_str(g, "hostname", s->hostname);
	gen_kv_str(g, "created", s->created);
	gen_strv(g, "cmd", s->cmd);
	GS(g, "init");
	yajl_gen_bool(g, s->init);
	gen_strv(g, "env", s->env);
	gen_kv_u64(g, "cpuMilli", s->cpu_milli);
	gen_kv_u64(g, "memory", s->memory);
	gen_kv_u64(g, "swap", s->swap);
	gen_kv_u64(g, "disk", s->disk);
	gen_kv_u64(g, "pids", s->pids);
	gen_strv(g, "ioMax", s->io_max);
	gen_kv_u64(g, "ioWeight", s->io_weight);
	gen_kv_str(g, "net", s->net);
	gen_kv_str(g, "ip", s->ip);
	gen_strv(g, "publish", s->publish);
	gen_kv_u64(g, "bandwidthIn", s->bw_in);
	gen_kv_u64(g, "bandwidthOut", s->bw_out);
	GS(g, "autostart");
	yajl_gen_bool(g, s->autostart);
	gen_kv_str(g, "restart", conf_restart_name(s->restart));
	gen_strv(g, "alerts", s->alerts);
	if (s->vm) {
		GS(g, "vm");
		yajl_gen_bool(g, true);
		gen_kv_str(g, "vmKernel", s->vm_kernel);
		gen_kv_str(g, "vmDiskImage", s->vm_disk_image);
		gen_kv_u64(g, "vmVcpus", s->vm_vcpus);
	}
	yajl_gen_map_close(g);
	return conf_gen_take(g, true);
}

/* "[hostip:]hostport:port[/tcp|/udp]", where hostip is an IPv4 address or
 * an IPv6 one in brackets ("[2001:db8::1]:8080:80"). host_ip gets the address
 * without brackets, or "" for every local address of both families. */
int conf_parse_publish(const char *s, char host_ip[64], unsigned *host_port,
		       unsigned *port, bool *udp)
{
	char buf[128];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	*udp = false;
	host_ip[0] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash) {
		if (!strcmp(slash + 1, "udp"))
			*udp = true;
		else if (strcmp(slash + 1, "tcp"))
			return -EINVAL;
		*slash = '\0';
	}
	char *ports = buf;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		struct in6_addr a6;
		if (!close || close[1] != ':')
			return -EINVAL;
		*close = '\0';
		if (inet_pton(AF_INET6, buf + 1, &a6) != 1)
			return -EINVAL;
		snprintf(host_ip, 64, "%s", buf + 1);
		ports = close + 2;
	} else if (strchr(buf, ':') != strrchr(buf, ':')) {
		/* a.b.c.d:hostport:port */
		char *colon = strchr(buf, ':');
		struct in_addr a4;
		*colon = '\0';
		if (inet_pton(AF_INET, buf, &a4) != 1)
			return -EINVAL;
		snprintf(host_ip, 64, "%s", buf);
		ports = colon + 1;
	}
	char *colon = strchr(ports, ':');
	if (!colon || strchr(colon + 1, ':'))
		return -EINVAL;
	*colon = '\0';
	const char *parts[2] = { ports, colon + 1 };
	unsigned v[2];
	for (int i = 0; i < 2; i++) {
		char *end;
		if (!isdigit((unsigned char)parts[i][0]))
			return -EINVAL;
		unsigned long x = strtoul(parts[i], &end, 10);
		if (*end || x == 0 || x > 65535)
			return -EINVAL;
		v[i] = (unsigned)x;
	}
	*host_port = v[0];
	*port = v[1];
	return 0;
}

int conf_parse_rate(const char *s, uint64_t *bits)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v <= 0)
		return -EINVAL;
	double mult = 1;
	if (!strcasecmp(end, "kbit"))
		mult = 1e3;
	else if (!strcasecmp(end, "mbit"))
		mult = 1e6;
	else if (!strcasecmp(end, "gbit"))
		mult = 1e9;
	else if (*end && strcasecmp(end, "bit"))
		return -EINVAL;
	*bits = (uint64_t)(v * mult);
	return *bits ? 0 : -EINVAL;
}

/* "8:0 rbps=1048576 wbps=..." into the throttle arrays */
static int parse_io_max(const char *spec, struct conf_resources *res, struct vs_err *err)
{
	unsigned maj, min;
	int off = 0;
	if (sscanf(spec, "%u:%u%n", &maj, &min, &off) != 2)
		return vs_failx(err, EINVAL, "conf: io-max \"%s\": expected MAJ:MIN key=value...", spec);
	const char *p = spec + off;
	bool any = false;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		char key[8];
		unsigned long long val;
		int n = 0;
		if (sscanf(p, "%7[a-z]=%llu%n", key, &val, &n) != 2)
			return vs_failx(err, EINVAL, "conf: io-max \"%s\": expected rbps=, wbps=, riops= or wiops=", spec);
		struct conf_blkio_dev **arr;
		size_t *cnt;
		if (!strcmp(key, "rbps"))
			arr = &res->block_io.throttle_read_bps, cnt = &res->block_io.n_throttle_read_bps;
		else if (!strcmp(key, "wbps"))
			arr = &res->block_io.throttle_write_bps, cnt = &res->block_io.n_throttle_write_bps;
		else if (!strcmp(key, "riops"))
			arr = &res->block_io.throttle_read_iops, cnt = &res->block_io.n_throttle_read_iops;
		else if (!strcmp(key, "wiops"))
			arr = &res->block_io.throttle_write_iops, cnt = &res->block_io.n_throttle_write_iops;
		else
			return vs_failx(err, EINVAL, "conf: io-max \"%s\": unknown key %s", spec, key);
		*arr = vs_xrealloc(*arr, (*cnt + 1) * sizeof(**arr));
		memset(&(*arr)[*cnt], 0, sizeof(**arr));
		(*arr)[*cnt].major = maj;
		(*arr)[*cnt].minor = min;
		(*arr)[(*cnt)++].rate = val;
		any = true;
		p += n;
	}
	if (!any)
		return vs_failx(err, EINVAL, "conf: io-max \"%s\": no limit given", spec);
	return 0;
}

int conf_server_resources(const struct conf_server *s, struct conf_resources *res,
			  struct vs_err *err)
{
	memset(res, 0, sizeof(*res));
	if (s->cpu_milli) {
		res->cpu.period = (struct opt_u64){ true, 100000 };
		res->cpu.quota = (struct opt_i64){ true, (int64_t)(s->cpu_milli * 100) };
	}
	if (s->memory)
		res->memory.limit = (struct opt_i64){ true, (int64_t)s->memory };
	if (s->memory && s->swap)
		res->memory.swap = (struct opt_i64){ true, (int64_t)(s->memory + s->swap) };
	if (s->pids)
		res->pids.limit = (struct opt_i64){ true, (int64_t)s->pids };
	if (s->io_weight)
		res->block_io.weight = (struct opt_u64){ true, s->io_weight };
	for (size_t i = 0; s->io_max && s->io_max[i]; i++) {
		int r = parse_io_max(s->io_max[i], res, err);
		if (r < 0) {
			conf_resources_free(res);
			return r;
		}
	}
	return 0;
}
