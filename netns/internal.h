/* netns internals: shared between the files of netns/ only. */
#ifndef VS_NETNS_INTERNAL_H
#define VS_NETNS_INTERNAL_H

#include "netns.h"

#include <netinet/in.h>

/* ---- ipam.c: pure allocation logic + locked persistence ---- */

#define IPAM_NAME_MAX 64

struct ipam_entry {
	char name[IPAM_NAME_MAX];
	uint32_t off;            /* host offset in the subnet (2 = .2) */
};

struct ipam_port {
	char server[IPAM_NAME_MAX];
	int proto;
	int family;              /* AF_INET, AF_INET6, or 0 = both */
	char host_ip[INET6_ADDRSTRLEN]; /* "" = every local address of the family */
	uint16_t host_port, port;
};

struct ipam_net {
	char name[32];
	char bridge[IFNAMSIZ];
	uint32_t net4;           /* host byte order */
	int prefix4;
	bool has6;
	struct in6_addr net6;
	int prefix6;
	bool isolate;
	struct ipam_entry *ents;
	size_t n_ents;
	struct ipam_port *ports;
	size_t n_ports;
};

void ipam_net_free(struct ipam_net *n);
bool ipam_valid_name(const char *s, size_t max);
int ipam_parse_cidr4(const char *s, uint32_t *net, int *prefix, struct vs_err *err);
int ipam_parse_cidr6(const char *s, struct in6_addr *net, int *prefix, struct vs_err *err);
void ipam_default_ula(const char *netname, char *buf, size_t len);
/* Fills n from the options (no state touched). */
int ipam_net_init(struct ipam_net *n, const struct netns_net_opts *o, struct vs_err *err);
/* Allocates for name: the static ip4 if given, else the lowest free offset.
 * Already allocated -> the same offset (or EEXIST if a different static one
 * was asked). Returns 1 if newly allocated, 0 if it already was. */
int ipam_alloc(struct ipam_net *n, const char *name, const char *ip4, uint32_t *off,
	       struct vs_err *err);
/* Returns 0, or -ENOENT if name had nothing. Drops its ports too. */
int ipam_release(struct ipam_net *n, const char *name);
const struct ipam_entry *ipam_find(const struct ipam_net *n, const char *name);
/* Text form of the state file and back. */
char *ipam_format(const struct ipam_net *n);
int ipam_parse(const char *text, struct ipam_net *n, struct vs_err *err);
/* The addresses of an offset, as text; ip6 "" without IPv6. */
void ipam_fill_info(const struct ipam_net *n, uint32_t off, struct netns_info *info);
void ipam_fmt4(uint32_t a, char buf[INET_ADDRSTRLEN]);
/* A published port's host address: NULL or "" = both families, "0.0.0.0" =
 * every IPv4 one, "::" = every IPv6 one, else one address of either family.
 * Sets p->family and p->host_ip (normalised); -EINVAL if not an address. */
int ipam_port_host(struct ipam_port *p, const char *host_ip);

/* Locked persistence: <dir>/<net>.lock (flock) guards <dir>/<net>.net. */
/* returns the fd; !create: ENOENT "unknown network" without a state file */
int ipam_lock(const char *dir, const char *net, bool create, struct vs_err *err);
int ipam_load(const char *dir, const char *net, struct ipam_net *n, struct vs_err *err);
int ipam_save(const char *dir, const struct ipam_net *n, struct vs_err *err);
int ipam_unlink(const char *dir, const char *net, struct vs_err *err); /* + lock file */

uint64_t netns_hash(const char *salt, const char *s);

/* ---- link.c: libnl-route-3 ---- */
struct nl_sock;
int netns_nlerr(int nle);   /* libnl error -> errno */
int link_sock(struct nl_sock **sk, int netns_fd, struct vs_err *err);
void link_sock_free(struct nl_sock **sk);
int link_index(struct nl_sock *sk, const char *name);   /* 0 = missing */
int link_bridge_add(struct nl_sock *sk, const struct ipam_net *n, struct vs_err *err);
int link_bridge_ensure(struct nl_sock *sk, const struct ipam_net *n, struct vs_err *err);
int link_del(struct nl_sock *sk, const char *name, struct vs_err *err); /* missing = 0 */
int link_veth_add(struct nl_sock *sk, const struct ipam_net *n, const char *server,
		  int netns_fd, const char *peer_name, struct vs_err *err);
/* tap.c: a tap named like a veth's host end, on the bridge, up; its fd */
int link_tap_add(struct nl_sock *sk, const struct ipam_net *n, const char *server,
		 struct vs_err *err);
/* hairpin on; isolated as asked (the module passes false: isolation is
 * nat_isolate_add's, see there) */
int link_port_flags(struct nl_sock *sk, const char *ifname, bool isolate, struct vs_err *err);
/* inside the server: lo up, eth0 addresses, up, default routes */
int link_configure_peer(struct nl_sock *sk, const char *ifname,
			const struct netns_info *info, struct vs_err *err);
/* ip_forward, IPv6 forwarding if v6, route_localnet on the bridge */
int link_set_forwarding(const char *bridge, bool v6, struct vs_err *err);

/* ---- nat.c: libnftables ---- */
int nat_net_add(const struct ipam_net *n, struct vs_err *err);
/* Removes our whole table (when the last network goes). */
int nat_table_del(struct vs_err *err);
int nat_net_del(const char *netname, struct vs_err *err);
/* a server's port on an isolated network: drops what it sends to other
 * ports except published-port traffic the host DNATed; goes with
 * nat_server_del */
int nat_isolate_add(const char *server, const char *host_if, struct vs_err *err);
/* ip6 "" or NULL: the server has no IPv6 (ports are published on IPv4 only) */
int nat_ports_add(const struct ipam_net *n, const char *server, const char *ip4,
		  const char *ip6, const struct ipam_port *ports, size_t n_ports, struct vs_err *err);
int nat_server_del(const char *server, const struct ipam_port *ports, size_t n_ports,
		   struct vs_err *err);

/* ---- tc.c ---- */
int tc_set(struct nl_sock *sk, const char *host_if, const char *ifb,
	   uint64_t rate_in, uint64_t rate_out, struct vs_err *err);
int tc_clear(struct nl_sock *sk, const char *host_if, const char *ifb, struct vs_err *err);
/* ingress qdisc on dev + u32 match-all mirred egress redirect to target */
int tc_redirect_add(struct nl_sock *sk, const char *dev, const char *target, struct vs_err *err);
/* removes dev's ingress qdisc (and its filters); missing is fine */
void tc_ingress_del(struct nl_sock *sk, const char *dev);

#endif
