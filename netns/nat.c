/* netns/nat: outbound masquerade and published ports in the nftables table
 * `inet vserver`, through libnftables. Each batch given to
 * nft_run_cmd_from_buffer() is one kernel transaction: it applies whole or
 * not at all, which is our rollback. Rules carry a comment naming their owner
 * ("vsnet:<network>" or "vs:<server>"), and removal deletes exactly the rules
 * with that comment, by handle.
 *
 * A set `published` of (proto . port) holds every published port, whatever
 * its host address and family; adding an element that exists fails, so a
 * port is never published twice. IPv4 ports DNAT to the server's IPv4
 * address, IPv6 ones to its ULA address (DNAT66, no NPT).
 * runs in: the host's network namespace. */
#include "internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <nftables/libnftables.h>

#define T "inet " NETNS_NFT_TABLE

static const char base[] =
	"add table " T "\n"
	"add chain " T " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
	"add chain " T " output { type nat hook output priority -100; policy accept; }\n"
	"add chain " T " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	"add chain " T " forward { type filter hook forward priority filter; policy accept; }\n"
	"add chain " T " localnet { type filter hook prerouting priority raw; policy accept; }\n"
	"add set " T " published { type inet_proto . inet_service; }\n";

/* Isolation (see nat_isolate_add). The mark chain runs after dstnat, so a
 * connection's first packet is already DNATed when it looks. */
#define B "bridge " NETNS_NFT_TABLE
#define HAIRPIN_MARK "0x00200000"
static const char base_iso[] =
	"add chain " T " hairpin { type filter hook prerouting priority -90; policy accept; }\n"
	"add table " B "\n"
	"add chain " B " forward { type filter hook forward priority filter; policy accept; }\n";

static void ctx_freep(struct nft_ctx **c)
{
	if (*c)
		nft_ctx_free(*c);
}

static struct nft_ctx *ctx_new(void)
{
	struct nft_ctx *c = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!c)
		return NULL;
	nft_ctx_buffer_output(c);
	nft_ctx_buffer_error(c);
	return c;
}

/* Runs a batch; on failure the first line of nft's error names the cause. */
static int run(struct nft_ctx *c, const char *cmds, struct vs_err *err, const char *what)
{
	if (nft_run_cmd_from_buffer(c, cmds) == 0)
		return 0;
	const char *e = nft_ctx_get_error_buffer(c);
	char line[200] = "";
	if (e) {
		const char *p = strstr(e, "Error: ");
		p = p ? p + 7 : e;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	}
	int code = strstr(line, "exists") ? EEXIST
		 : strstr(line, "No such file") ? ENOENT
		 : strstr(line, "not permitted") ? EPERM : EIO;
	return vs_failx(err, code, "netns: nft: %s: %s", what, line[0] ? line : "failed");
}

/* Appends "delete rule ... handle N" for each rule of chain whose comment is
 * exactly tag. */
static int collect(struct nft_ctx *c, const char *chain, const char *tag, char **batch,
		   size_t *len)
{
	char cmd[128], needle[128];
	snprintf(cmd, sizeof(cmd), "list chain %s", chain);
	snprintf(needle, sizeof(needle), "comment \"%s\"", tag);
	if (nft_run_cmd_from_buffer(c, cmd) != 0)
		return 0;  /* no chain: nothing of ours there */
	_cleanup_free_ char *out = vs_xstrdup(nft_ctx_get_output_buffer(c));
	char *save = NULL;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *cm = strstr(l, needle), *h = strstr(l, "# handle ");
		if (!cm || !h || cm[strlen(needle)] != ' ')
			continue;
		unsigned long handle = strtoul(h + 9, NULL, 10);
		char *add = vs_xasprintf("delete rule %s handle %lu\n", chain, handle);
		*batch = vs_xrealloc(*batch, *len + strlen(add) + 1);
		memcpy(*batch + *len, add, strlen(add) + 1);
		*len += strlen(add);
		free(add);
	}
	return 0;
}

static int del_tagged(const char *tag, const char *extra, struct vs_err *err)
{
	static const char *chains[] = { T " prerouting", T " output", T " postrouting",
					T " forward", T " hairpin", T " localnet", B " forward" };
	__attribute__((cleanup(ctx_freep))) struct nft_ctx *c = ctx_new();
	if (!c)
		return vs_fail(err, ENOMEM, "netns: nft context");
	nft_ctx_output_set_flags(c, NFT_CTX_OUTPUT_HANDLE);
	_cleanup_free_ char *batch = vs_xstrdup(extra ? extra : "");
	size_t len = strlen(batch);
	for (size_t i = 0; i < VS_ARRAY_SIZE(chains); i++)
		collect(c, chains[i], tag, &batch, &len);
	if (!len)
		return 0;
	return run(c, batch, err, "remove rules");
}

/* Per network: masquerade of what leaves through another interface, and the
 * hairpin: a server that reaches a published port through a host address
 * (its own port, or another server's) is DNATed back onto the bridge. Without
 * a source rewrite the server answering would reply straight to the client's
 * bridge address, around the host's conntrack, and the client would drop the
 * reply; "oifname bridge ct status dnat masquerade" makes the reply come back
 * through the host. Outside clients keep their address (not from the subnet).
 * The host itself reaching a published port through 127.0.0.1 (DNAT in the
 * output chain) sends from 127.0.0.1, which a server cannot answer: that is
 * masqueraded to the gateway's address too (route_localnet on the bridge lets
 * it leave at all, see link_set_forwarding). route_localnet also lets packets
 * FROM the bridge to 127.0.0.0/8 be routed to the host's loopback services:
 * the localnet chain drops them before anything else sees them (replies to the
 * host's own 127.0.0.1 connections are addressed to the gateway, not 127/8). */
int nat_net_add(const struct ipam_net *n, struct vs_err *err)
{
	char net4[INET_ADDRSTRLEN], net6[INET6_ADDRSTRLEN], tag[64];
	ipam_fmt4(n->net4, net4);
	snprintf(tag, sizeof(tag), "vsnet:%s", n->name);
	int r = del_tagged(tag, NULL, err);  /* idempotent: re-adding after a reboot */
	if (r < 0)
		return r;
	__attribute__((cleanup(ctx_freep))) struct nft_ctx *c = ctx_new();
	if (!c)
		return vs_fail(err, ENOMEM, "netns: nft context");
	_cleanup_free_ char *v6 = NULL;
	if (n->has6) {
		inet_ntop(AF_INET6, &n->net6, net6, sizeof(net6));
		v6 = vs_xasprintf("add rule " T " postrouting ip6 saddr %s/%d oifname != \"%s\" "
				  "masquerade comment \"%s\"\n"
				  "add rule " T " postrouting ip6 saddr %s/%d oifname \"%s\" "
				  "ct status dnat masquerade comment \"%s\"\n",
				  net6, n->prefix6, n->bridge, tag, net6, n->prefix6, n->bridge, tag);
	}
	_cleanup_free_ char *cmds = vs_xasprintf(
		"%s"
		"add rule " T " postrouting ip saddr %s/%d oifname != \"%s\" masquerade comment \"%s\"\n"
		"add rule " T " postrouting ip saddr %s/%d oifname \"%s\" ct status dnat masquerade "
		"comment \"%s\"\n"
		"add rule " T " postrouting ip saddr 127.0.0.0/8 oifname \"%s\" masquerade "
		"comment \"%s\"\n"
		"%s"
		"add rule " T " forward iifname \"%s\" accept comment \"%s\"\n"
		"add rule " T " forward oifname \"%s\" ct state established,related accept comment \"%s\"\n"
		"add rule " T " localnet iifname \"%s\" ip daddr 127.0.0.0/8 drop comment \"%s\"\n",
		base, net4, n->prefix4, n->bridge, tag, net4, n->prefix4, n->bridge, tag,
		n->bridge, tag, v6 ? v6 : "", n->bridge, tag, n->bridge, tag, n->bridge, tag);
	/* isolated: mark the hairpin, i.e. DNATed traffic from the bridge that goes
	 * back to the subnet (daddr is already translated at -90, both ways);
	 * a server's replies to outside clients stay unmarked */
	_cleanup_free_ char *iso = NULL, *iso6 = NULL;
	if (n->isolate && n->has6)
		iso6 = vs_xasprintf("add rule " T " hairpin iifname \"%s\" ip6 daddr %s/%d ct status "
				    "dnat meta mark set meta mark | " HAIRPIN_MARK " comment \"%s\"\n",
				    n->bridge, net6, n->prefix6, tag);
	if (n->isolate)
		iso = vs_xasprintf("%sadd rule " T " hairpin iifname \"%s\" ip daddr %s/%d ct status "
				   "dnat meta mark set meta mark | " HAIRPIN_MARK " comment \"%s\"\n%s",
				   base_iso, n->bridge, net4, n->prefix4, tag, iso6 ? iso6 : "");
	_cleanup_free_ char *all = vs_xasprintf("%s%s", cmds, iso ? iso : "");
	return run(c, all, err, "add nat for network");
}

/* Isolation of one server's bridge port, on an isolated network. Not the
 * bridge's own port isolation (IFLA_BRPORT_ISOLATED): with br_netfilter the
 * bridge DNATs a server's packet to a published port itself and forwards it
 * from port to port, which port isolation drops before any hook could tell
 * it from direct traffic. Instead, in the bridge family's forward hook (only
 * frames from one port to another pass there; what goes to or comes from the
 * host does not), everything from this port is dropped unless the hairpin
 * chain marked it: a packet of a connection the host DNATed (a published
 * port, both directions). Without br_netfilter such a packet is routed by the
 * host, not forwarded by the bridge, and never meets the rule. The rules go
 * in before the port exists, so it is never on the bridge unisolated. */
int nat_isolate_add(const char *server, const char *host_if, struct vs_err *err)
{
	char tag[IPAM_NAME_MAX + 8];
	snprintf(tag, sizeof(tag), "vs:%s", server);
	__attribute__((cleanup(ctx_freep))) struct nft_ctx *c = ctx_new();
	if (!c)
		return vs_fail(err, ENOMEM, "netns: nft context");
	_cleanup_free_ char *cmds = vs_xasprintf(
		"%s%s"
		"add rule " B " forward iifname \"%s\" meta mark & " HAIRPIN_MARK " == "
		HAIRPIN_MARK " accept comment \"%s\"\n"
		"add rule " B " forward iifname \"%s\" drop comment \"%s\"\n",
		base, base_iso, host_if, tag, host_if, tag);
	return run(c, cmds, err, "isolate server");
}

int nat_table_del(struct vs_err *err)
{
	__attribute__((cleanup(ctx_freep))) struct nft_ctx *c = ctx_new();
	if (!c)
		return vs_failx(err, ENOMEM, "netns: nftables: no context");
	int r = run(c, "delete table " T "\n", err, "delete table");
	/* the bridge table exists only where a network was isolated */
	if (nft_run_cmd_from_buffer(c, "list table " B) == 0) {
		int r2 = run(c, "delete table " B "\n", r < 0 ? NULL : err, "delete table");
		r = r < 0 ? r : r2;
	}
	return r;
}

int nat_net_del(const char *netname, struct vs_err *err)
{
	char tag[64];
	snprintf(tag, sizeof(tag), "vsnet:%s", netname);
	return del_tagged(tag, NULL, err);
}

static const char *proto_name(int p)
{
	return p == IPPROTO_UDP ? "udp" : "tcp";
}

/* Rules for one port in one family. "Every local address" is fib daddr
 * type local, so only traffic to this host's own addresses is redirected
 * (the bridge's address included: a server reaching a published port through
 * the host, see nat_net_add). */
static char *port_rules_af(const struct ipam_port *p, int af, const char *srv,
			   const char *tag)
{
	const char *pr = proto_name(p->proto);
	const char *ipk = af == AF_INET6 ? "ip6" : "ip";
	char match[96], to[INET6_ADDRSTRLEN + 16];
	if (p->host_ip[0])
		snprintf(match, sizeof(match), "%s daddr %s", ipk, p->host_ip);
	else if (af == AF_INET6)
		snprintf(match, sizeof(match), "meta nfproto ipv6 fib daddr type local");
	else
		snprintf(match, sizeof(match), "meta nfproto ipv4 fib daddr type local");
	/* ::1 cannot be routed out of another interface (IPv6 has no
	 * route_localnet): left alone, the host's [::1]:port is refused at once
	 * rather than DNATed into a packet the kernel drops */
	const char *out_extra = af == AF_INET6 && !p->host_ip[0] ? " ip6 daddr != ::1" : "";
	if (af == AF_INET6)
		snprintf(to, sizeof(to), "[%s]:%u", srv, p->port);
	else
		snprintf(to, sizeof(to), "%s:%u", srv, p->port);
	return vs_xasprintf(
		"add rule " T " prerouting %s %s dport %u dnat %s to %s comment \"%s\"\n"
		"add rule " T " output %s%s %s dport %u dnat %s to %s comment \"%s\"\n"
		"add rule " T " forward %s daddr %s %s dport %u ct status dnat accept comment \"%s\"\n",
		match, pr, p->host_port, ipk, to, tag,
		match, out_extra, pr, p->host_port, ipk, to, tag,
		ipk, srv, pr, p->port, tag);
}

/* The set element and the rules of each family the port is published in:
 * family 0 (no host address) means IPv4, and IPv6 when the server has it. */
static char *port_rules(const struct ipam_port *p, bool element, const char *ip4,
			const char *ip6, const char *tag)
{
	/* "create element" fails on an existing element; "add" would not */
	_cleanup_free_ char *el = NULL, *r4 = NULL, *r6 = NULL;
	if (element)
		el = vs_xasprintf("create element " T " published { %s . %u }\n",
				  proto_name(p->proto), p->host_port);
	if (p->family != AF_INET6)
		r4 = port_rules_af(p, AF_INET, ip4, tag);
	if (p->family != AF_INET && ip6 && ip6[0])
		r6 = port_rules_af(p, AF_INET6, ip6, tag);
	return vs_xasprintf("%s%s%s", el ? el : "", r4 ? r4 : "", r6 ? r6 : "");
}

/* Whether ports[i] is the first of the list with its (proto . port): one
 * server may publish one port on several host addresses, with one element. */
static bool first_of(const struct ipam_port *ports, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (ports[j].proto == ports[i].proto && ports[j].host_port == ports[i].host_port)
			return false;
	return true;
}

int nat_ports_add(const struct ipam_net *n, const char *server, const char *ip4,
		  const char *ip6, const struct ipam_port *ports, size_t n_ports, struct vs_err *err)
{
	if (!n_ports)
		return 0;
	char tag[IPAM_NAME_MAX + 8];
	snprintf(tag, sizeof(tag), "vs:%s", server);
	__attribute__((cleanup(ctx_freep))) struct nft_ctx *c = ctx_new();
	if (!c)
		return vs_fail(err, ENOMEM, "netns: nft context");
	int r = run(c, base, err, "add table");
	if (r < 0)
		return r;
	/* a clear error for the usual case; the batch below closes the race */
	for (size_t i = 0; i < n_ports; i++) {
		char q[128];
		snprintf(q, sizeof(q), "get element " T " published { %s . %u }",
			 proto_name(ports[i].proto), ports[i].host_port);
		if (nft_run_cmd_from_buffer(c, q) == 0)
			return vs_failx(err, EADDRINUSE, "netns: port %s/%u: already published",
					proto_name(ports[i].proto), ports[i].host_port);
	}
	_cleanup_free_ char *batch = vs_xstrdup("");
	size_t len = 0;
	for (size_t i = 0; i < n_ports; i++) {
		_cleanup_free_ char *one = port_rules(&ports[i], first_of(ports, i), ip4, ip6, tag);
		batch = vs_xrealloc(batch, len + strlen(one) + 1);
		memcpy(batch + len, one, strlen(one) + 1);
		len += strlen(one);
	}
	r = run(c, batch, err, "publish ports");
	if (r == -EEXIST)
		return vs_failx(err, EADDRINUSE, "netns: ports of %s: one is already published",
				server);
	return r;
}

int nat_server_del(const char *server, const struct ipam_port *ports, size_t n_ports,
		   struct vs_err *err)
{
	char tag[IPAM_NAME_MAX + 8];
	snprintf(tag, sizeof(tag), "vs:%s", server);
	_cleanup_free_ char *extra = vs_xstrdup("");
	size_t len = 0;
	for (size_t i = 0; i < n_ports; i++) {
		if (!first_of(ports, i))
			continue;
		_cleanup_free_ char *one = vs_xasprintf("delete element " T " published { %s . %u }\n",
							proto_name(ports[i].proto),
							ports[i].host_port);
		extra = vs_xrealloc(extra, len + strlen(one) + 1);
		memcpy(extra + len, one, strlen(one) + 1);
		len += strlen(one);
	}
	int r = del_tagged(tag, extra, err);
	if (r == -ENOENT && n_ports)  /* an element already gone: remove the rules alone */
		r = del_tagged(tag, NULL, err);
	return r;
}
