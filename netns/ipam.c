/* netns/ipam: address allocation. The logic is pure (a struct in, a struct
 * out) so it is unit-tested; persistence is one text file per network,
 * replaced atomically while an flock on a sibling .lock file is held, so
 * concurrent allocations never hand out one address twice. */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define STATE_MAGIC "# vserver netns v1"

uint64_t netns_hash(const char *salt, const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;  /* FNV-1a 64 */
	for (const char *p = salt; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	h = (h ^ 0) * 0x100000001b3ULL;
	for (const char *p = s; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	return h;
}

void ipam_net_free(struct ipam_net *n)
{
	free(n->ents);
	free(n->ports);
	n->ents = NULL;
	n->ports = NULL;
	n->n_ents = n->n_ports = 0;
}

bool ipam_valid_name(const char *s, size_t max)
{
	if (!s || !*s || strlen(s) > max || !isalnum((unsigned char)s[0]))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

void ipam_fmt4(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = { htonl(a) };
	inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

/* A strict dotted quad: inet_pton rejects 300 and leading junk. */
static int parse4(const char *s, uint32_t *a)
{
	struct in_addr in;
	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*a = ntohl(in.s_addr);
	return 0;
}

static int split_prefix(const char *s, char *addr, size_t len, int *prefix, int max)
{
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= len || !slash[1])
		return -EINVAL;
	memcpy(addr, s, slash - s);
	addr[slash - s] = '\0';
	char *end;
	long p = strtol(slash + 1, &end, 10);
	if (*end || p < 0 || p > max || !isdigit((unsigned char)slash[1]))
		return -EINVAL;
	*prefix = (int)p;
	return 0;
}

int ipam_parse_cidr4(const char *s, uint32_t *net, int *prefix, struct vs_err *err)
{
	char a[INET_ADDRSTRLEN];
	uint32_t v;
	if (split_prefix(s, a, sizeof(a), prefix, 32) < 0 || parse4(a, &v) < 0)
		return vs_failx(err, EINVAL, "netns: subnet %s: expected a.b.c.d/prefix", s);
	if (*prefix < 8 || *prefix > 30)
		return vs_failx(err, EINVAL, "netns: subnet %s: prefix must be 8..30", s);
	uint32_t mask = ~0u << (32 - *prefix);
	if (v & ~mask)
		return vs_failx(err, EINVAL, "netns: subnet %s: host bits set", s);
	*net = v;
	return 0;
}

int ipam_parse_cidr6(const char *s, struct in6_addr *net, int *prefix, struct vs_err *err)
{
	char a[INET6_ADDRSTRLEN];
	if (split_prefix(s, a, sizeof(a), prefix, 128) < 0 || inet_pton(AF_INET6, a, net) != 1)
		return vs_failx(err, EINVAL, "netns: subnet %s: expected an IPv6 prefix", s);
	/* the server's IPv6 host part is its IPv4 offset: 32 bits must fit */
	if (*prefix < 16 || *prefix > 96)
		return vs_failx(err, EINVAL, "netns: subnet %s: prefix must be 16..96", s);
	for (int i = 0; i < 128; i++)
		if (i >= *prefix && (net->s6_addr[i / 8] & (0x80 >> (i % 8))))
			return vs_failx(err, EINVAL, "netns: subnet %s: host bits set", s);
	return 0;
}

void ipam_default_ula(const char *netname, char *buf, size_t len)
{
	uint64_t h = netns_hash("vserver-ula", netname);
	/* RFC 4193: fd00::/8 + 40-bit global id, subnet id 0 */
	snprintf(buf, len, "fd%02x:%04x:%04x::/64", (unsigned)(h >> 32) & 0xff,
		 (unsigned)(h >> 16) & 0xffff, (unsigned)h & 0xffff);
}

int ipam_net_init(struct ipam_net *n, const struct netns_net_opts *o, struct vs_err *err)
{
	memset(n, 0, sizeof(*n));
	const char *name = o->name ? o->name : NETNS_DEFAULT_NET;
	const char *br = o->bridge ? o->bridge : NETNS_DEFAULT_BRIDGE;
	if (!ipam_valid_name(name, sizeof(n->name) - 1))
		return vs_failx(err, EINVAL, "netns: network name \"%s\": invalid", name);
	if (!ipam_valid_name(br, IFNAMSIZ - 1))
		return vs_failx(err, EINVAL, "netns: bridge name \"%s\": invalid", br);
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->bridge, sizeof(n->bridge), "%s", br);
	n->isolate = o->isolate;
	int r = ipam_parse_cidr4(o->subnet4 ? o->subnet4 : NETNS_DEFAULT_SUBNET4,
				 &n->net4, &n->prefix4, err);
	if (r < 0)
		return r;
	char ula[64];
	const char *s6 = o->subnet6;
	if (!s6) {
		ipam_default_ula(n->name, ula, sizeof(ula));
		s6 = ula;
	}
	if (strcmp(s6, "none") != 0) {
		r = ipam_parse_cidr6(s6, &n->net6, &n->prefix6, err);
		if (r < 0)
			return r;
		n->has6 = true;
	}
	return 0;
}

const struct ipam_entry *ipam_find(const struct ipam_net *n, const char *name)
{
	for (size_t i = 0; i < n->n_ents; i++)
		if (!strcmp(n->ents[i].name, name))
			return &n->ents[i];
	return NULL;
}

static const struct ipam_entry *find_off(const struct ipam_net *n, uint32_t off)
{
	for (size_t i = 0; i < n->n_ents; i++)
		if (n->ents[i].off == off)
			return &n->ents[i];
	return NULL;
}

int ipam_alloc(struct ipam_net *n, const char *name, const char *ip4, uint32_t *off,
	       struct vs_err *err)
{
	char net[INET_ADDRSTRLEN];
	uint32_t size = 1u << (32 - n->prefix4), want = 0;
	ipam_fmt4(n->net4, net);
	if (!ipam_valid_name(name, IPAM_NAME_MAX - 1))
		return vs_failx(err, EINVAL, "netns: server name \"%s\": invalid", name);
	if (ip4) {
		uint32_t a;
		if (parse4(ip4, &a) < 0 || (a & ~(size - 1)) != n->net4)
			return vs_failx(err, EINVAL, "netns: address %s: not in %s/%d",
					ip4, net, n->prefix4);
		want = a - n->net4;
		if (want == 0 || want == size - 1)
			return vs_failx(err, EINVAL, "netns: address %s: network or broadcast "
					"address of %s/%d", ip4, net, n->prefix4);
		if (want == 1)
			return vs_failx(err, EADDRINUSE, "netns: address %s: is the gateway "
					"of %s/%d", ip4, net, n->prefix4);
	}
	const struct ipam_entry *e = ipam_find(n, name);
	if (e) {
		if (want && want != e->off) {
			char have[INET_ADDRSTRLEN];
			ipam_fmt4(n->net4 + e->off, have);
			return vs_failx(err, EEXIST, "netns: server %s: already has address %s",
					name, have);
		}
		*off = e->off;
		return 0;
	}
	if (want) {
		const struct ipam_entry *o = find_off(n, want);
		if (o)
			return vs_failx(err, EADDRINUSE, "netns: address %s: taken by server %s",
					ip4, o->name);
	} else {
		for (uint32_t i = 2; i < size - 1 && !want; i++)
			if (!find_off(n, i))
				want = i;
		if (!want)
			return vs_failx(err, ENOSPC, "netns: network %s: no free address in %s/%d",
					n->name, net, n->prefix4);
	}
	n->ents = vs_xrealloc(n->ents, (n->n_ents + 1) * sizeof(*n->ents));
	struct ipam_entry *ne = &n->ents[n->n_ents++];
	memset(ne, 0, sizeof(*ne));
	snprintf(ne->name, sizeof(ne->name), "%s", name);
	ne->off = want;
	*off = want;
	return 1;
}

int ipam_release(struct ipam_net *n, const char *name)
{
	size_t j = 0;
	for (size_t i = 0; i < n->n_ports; i++)
		if (strcmp(n->ports[i].server, name) != 0)
			n->ports[j++] = n->ports[i];
	n->n_ports = j;
	for (size_t i = 0; i < n->n_ents; i++) {
		if (!strcmp(n->ents[i].name, name)) {
			memmove(&n->ents[i], &n->ents[i + 1],
				(n->n_ents - i - 1) * sizeof(*n->ents));
			n->n_ents--;
			return 0;
		}
	}
	return -ENOENT;
}

void ipam_fill_info(const struct ipam_net *n, uint32_t off, struct netns_info *info)
{
	snprintf(info->net, sizeof(info->net), "%s", n->name);
	snprintf(info->bridge, sizeof(info->bridge), "%s", n->bridge);
	ipam_fmt4(n->net4 + off, info->ip4);
	ipam_fmt4(n->net4 + 1, info->gw4);
	info->prefix4 = n->prefix4;
	info->ip6[0] = info->gw6[0] = '\0';
	info->prefix6 = 0;
	if (n->has6) {
		struct in6_addr a = n->net6, g = n->net6;
		for (int i = 0; i < 4; i++)
			a.s6_addr[12 + i] |= (uint8_t)(off >> (24 - 8 * i));
		g.s6_addr[15] |= 1;
		inet_ntop(AF_INET6, &a, info->ip6, sizeof(info->ip6));
		inet_ntop(AF_INET6, &g, info->gw6, sizeof(info->gw6));
		info->prefix6 = n->prefix6;
	}
}

/* ---- the state file ----
 * # vserver netns v1
 * network default
 * bridge vsbr0
 * subnet4 172.30.0.0/24
 * subnet6 fd12:3456:789a::/64     (or "none")
 * isolate 0
 * server web1 2                    (name, host offset)
 * port web1 tcp * 8080 80          (server, proto, host ip, host port, port)
 * host ip: "*" = every local address of both families, "0.0.0.0" / "::" =
 * every local one of that family, else the address.
 */
int ipam_port_host(struct ipam_port *p, const char *host_ip)
{
	struct in6_addr a6;
	struct in_addr a4;
	p->host_ip[0] = '\0';
	if (!host_ip || !host_ip[0] || !strcmp(host_ip, "*")) {
		p->family = 0;
		return 0;
	}
	if (inet_pton(AF_INET, host_ip, &a4) == 1) {
		p->family = AF_INET;
		if (a4.s_addr != INADDR_ANY)
			inet_ntop(AF_INET, &a4, p->host_ip, sizeof(p->host_ip));
		return 0;
	}
	if (inet_pton(AF_INET6, host_ip, &a6) == 1) {
		p->family = AF_INET6;
		if (!IN6_IS_ADDR_UNSPECIFIED(&a6))
			inet_ntop(AF_INET6, &a6, p->host_ip, sizeof(p->host_ip));
		return 0;
	}
	return -EINVAL;
}

char *ipam_format(const struct ipam_net *n)
{
	char net[INET_ADDRSTRLEN], net6[INET6_ADDRSTRLEN] = "none";
	ipam_fmt4(n->net4, net);
	if (n->has6)
		inet_ntop(AF_INET6, &n->net6, net6, sizeof(net6));
	size_t cap = 512 + n->n_ents * 96 + n->n_ports * 160;
	char *buf = vs_xmalloc(cap);
	size_t len = (size_t)snprintf(buf, cap, STATE_MAGIC "\nnetwork %s\nbridge %s\n"
				      "subnet4 %s/%d\nsubnet6 %s%s%.0d\nisolate %d\n",
				      n->name, n->bridge, net, n->prefix4, net6,
				      n->has6 ? "/" : "", n->has6 ? n->prefix6 : 0,
				      n->isolate ? 1 : 0);
	/* %.0d prints nothing for 0; with IPv6 the prefix is 16..96 */
	for (size_t i = 0; i < n->n_ents; i++)
		len += (size_t)snprintf(buf + len, cap - len, "server %s %u\n",
					n->ents[i].name, n->ents[i].off);
	for (size_t i = 0; i < n->n_ports; i++) {
		const struct ipam_port *p = &n->ports[i];
		const char *hip = p->host_ip[0] ? p->host_ip
				: p->family == AF_INET ? "0.0.0.0" : p->family == AF_INET6 ? "::" : "*";
		len += (size_t)snprintf(buf + len, cap - len, "port %s %s %s %u %u\n", p->server,
					p->proto == IPPROTO_UDP ? "udp" : "tcp", hip,
					p->host_port, p->port);
	}
	return buf;
}

int ipam_parse(const char *text, struct ipam_net *n, struct vs_err *err)
{
	memset(n, 0, sizeof(*n));
	if (strncmp(text, STATE_MAGIC "\n", strlen(STATE_MAGIC) + 1) != 0)
		return vs_failx(err, EINVAL, "netns: state: not a vserver netns state file");
	_cleanup_free_ char *copy = vs_xstrdup(text);
	char *save = NULL;
	int lineno = 0;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char k[16], a[80], b[80], c[80];
		unsigned u1, u2;
		lineno++;
		if (l[0] == '#')
			continue;
		int f = sscanf(l, "%15s %79s %79s %79s %u %u", k, a, b, c, &u1, &u2);
		int r = 0;
		if (f == 2 && !strcmp(k, "network") && ipam_valid_name(a, sizeof(n->name) - 1))
			snprintf(n->name, sizeof(n->name), "%s", a);
		else if (f == 2 && !strcmp(k, "bridge") && ipam_valid_name(a, IFNAMSIZ - 1))
			snprintf(n->bridge, sizeof(n->bridge), "%s", a);
		else if (f == 2 && !strcmp(k, "subnet4"))
			r = ipam_parse_cidr4(a, &n->net4, &n->prefix4, err);
		else if (f == 2 && !strcmp(k, "subnet6") && !strcmp(a, "none"))
			n->has6 = false;
		else if (f == 2 && !strcmp(k, "subnet6")) {
			r = ipam_parse_cidr6(a, &n->net6, &n->prefix6, err);
			n->has6 = r == 0;
		} else if (f == 2 && !strcmp(k, "isolate"))
			n->isolate = !strcmp(a, "1");
		else if (f == 3 && !strcmp(k, "server") && ipam_valid_name(a, IPAM_NAME_MAX - 1)) {
			n->ents = vs_xrealloc(n->ents, (n->n_ents + 1) * sizeof(*n->ents));
			struct ipam_entry *e = &n->ents[n->n_ents++];
			snprintf(e->name, sizeof(e->name), "%s", a);
			e->off = (uint32_t)strtoul(b, NULL, 10);
		} else if (f == 6 && !strcmp(k, "port") && ipam_valid_name(a, IPAM_NAME_MAX - 1) &&
			   (!strcmp(b, "tcp") || !strcmp(b, "udp")) && u1 < 65536 && u2 < 65536) {
			n->ports = vs_xrealloc(n->ports, (n->n_ports + 1) * sizeof(*n->ports));
			struct ipam_port *p = &n->ports[n->n_ports++];
			memset(p, 0, sizeof(*p));
			snprintf(p->server, sizeof(p->server), "%s", a);
			p->proto = !strcmp(b, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
			r = ipam_port_host(p, c);
			p->host_port = (uint16_t)u1;
			p->port = (uint16_t)u2;
		} else
			r = -EINVAL;
		if (r < 0) {
			ipam_net_free(n);
			return vs_failx(err, EINVAL, "netns: state: line %d: cannot parse \"%s\"",
					lineno + 1, l);
		}
	}
	if (!n->name[0] || !n->bridge[0] || !n->prefix4) {
		ipam_net_free(n);
		return vs_failx(err, EINVAL, "netns: state: network, bridge or subnet4 missing");
	}
	return 0;
}

/* ---- persistence ---- */

int ipam_lock(const char *dir, const char *net, bool create, struct vs_err *err)
{
	char path[PATH_MAX];
	/* no lock file for a network that does not exist (create makes one) */
	snprintf(path, sizeof(path), "%s/%s.net", dir, net);
	if (!create && access(path, F_OK) < 0)
		return vs_failx(err, ENOENT, "netns: network %s: unknown network", net);
	int r = vs_mkdir_p(dir, 0700);
	if (r < 0)
		return vs_fail(err, -r, "netns: state dir %s", dir);
	snprintf(path, sizeof(path), "%s/%s.lock", dir, net);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return vs_fail(err, errno, "netns: open %s", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return vs_fail(err, e, "netns: lock %s", path);
		}
	}
	return fd;
}

int ipam_load(const char *dir, const char *net, struct ipam_net *n, struct vs_err *err)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	memset(n, 0, sizeof(*n));
	snprintf(path, sizeof(path), "%s/%s.net", dir, net);
	int r = vs_read_file(path, &text, NULL);
	if (r == -ENOENT)
		return vs_failx(err, ENOENT, "netns: network %s: unknown network", net);
	if (r < 0)
		return vs_fail(err, -r, "netns: read %s", path);
	r = ipam_parse(text, n, err);
	if (r < 0)
		return vs_wrap(err, "%s", path);
	return 0;
}

int ipam_save(const char *dir, const struct ipam_net *n, struct vs_err *err)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = ipam_format(n);
	snprintf(path, sizeof(path), "%s/%s.net", dir, n->name);
	int r = vs_write_file_atomic(path, text, strlen(text), 0600);
	if (r < 0)
		return vs_fail(err, -r, "netns: write %s", path);
	return 0;
}

/* Removes the state file, then the lock file (a waiter on the old lock
 * then finds no state file: "unknown network"). */
int ipam_unlink(const char *dir, const char *net, struct vs_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.net", dir, net);
	if (unlink(path) < 0 && errno != ENOENT)
		return vs_fail(err, errno, "netns: remove %s", path);
	snprintf(path, sizeof(path), "%s/%s.lock", dir, net);
	unlink(path);
	return 0;
}
