/* netns/link: bridge, veth, addresses and routes through libnl-route-3.
 * runs in: the host's network namespace; link_sock() can open its socket in
 * the server's namespace, after which every call on that socket acts there. */
#include "internal.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

/* libnl returns its own codes; callers of netns want errno. */
int netns_nlerr(int e)
{
	switch (e < 0 ? -e : e) {
	case NLE_EXIST: return EEXIST;
	case NLE_OBJ_NOTFOUND: return ENOENT;
	case NLE_NODEV: return ENODEV;
	case NLE_PERM: return EPERM;
	case NLE_NOACCESS: return EACCES;
	case NLE_BUSY: return EBUSY;
	case NLE_INVAL: return EINVAL;
	case NLE_RANGE: return ERANGE;
	case NLE_NOMEM: return ENOMEM;
	case NLE_OPNOTSUPP: return EOPNOTSUPP;
	case NLE_AGAIN: return EAGAIN;
	case NLE_INTR: return EINTR;
	case NLE_NOADDR: return EADDRNOTAVAIL;
	case NLE_MSGSIZE: return EMSGSIZE;
	case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
	default: return EIO;
	}
}

int link_sock(struct nl_sock **sk, int netns_fd, struct vs_err *err)
{
	_cleanup_close_ int self = -EBADF;
	*sk = NULL;
	if (netns_fd >= 0) {
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0)
			return vs_fail(err, errno, "netns: open /proc/thread-self/ns/net");
		if (setns(netns_fd, CLONE_NEWNET) < 0)
			return vs_fail(err, errno, "netns: enter the server's network namespace");
	}
	struct nl_sock *s = nl_socket_alloc();
	int r = s ? nl_connect(s, NETLINK_ROUTE) : -NLE_NOMEM;
	if (self >= 0 && setns(self, CLONE_NEWNET) < 0)
		abort();  /* the thread would act on the wrong namespace: never continue */
	if (r < 0) {
		nl_socket_free(s);
		return vs_fail(err, netns_nlerr(r), "netns: netlink socket");
	}
	*sk = s;
	return 0;
}

void link_sock_free(struct nl_sock **sk)
{
	if (*sk)
		nl_socket_free(*sk);
	*sk = NULL;
}

int link_index(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	if (rtnl_link_get_kernel(sk, 0, name, &l) < 0)
		return 0;
	int i = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return i;
}

static struct nl_addr *lladdr(const uint8_t mac[6])
{
	return nl_addr_build(AF_LLC, mac, 6);
}

static int addr_add(struct nl_sock *sk, int ifindex, int family, const char *ip, int prefix,
		    int flags, struct vs_err *err, const char *what)
{
	struct nl_addr *a = NULL;
	struct rtnl_addr *ra = rtnl_addr_alloc();
	int r = nl_addr_parse(ip, family, &a);
	if (r >= 0 && ra) {
		nl_addr_set_prefixlen(a, prefix);
		rtnl_addr_set_ifindex(ra, ifindex);
		rtnl_addr_set_family(ra, family);
		r = rtnl_addr_set_local(ra, a);
		if (family == AF_INET6)
			rtnl_addr_set_flags(ra, IFA_F_NODAD);  /* usable at once */
		if (r >= 0)
			r = rtnl_addr_add(sk, ra, flags);
	}
	nl_addr_put(a);
	rtnl_addr_put(ra);
	if (r < 0)
		return vs_fail(err, netns_nlerr(r), "netns: %s: address %s/%d", what, ip, prefix);
	return 0;
}

static int set_up(struct nl_sock *sk, const char *name, struct vs_err *err)
{
	struct rtnl_link *l = NULL, *ch = rtnl_link_alloc();
	int r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r >= 0) {
		rtnl_link_set_flags(ch, IFF_UP);
		r = rtnl_link_change(sk, l, ch, 0);
	}
	rtnl_link_put(l);
	rtnl_link_put(ch);
	if (r < 0)
		return vs_fail(err, netns_nlerr(r), "netns: link %s: up", name);
	return 0;
}

static int bridge_addrs(struct nl_sock *sk, const struct ipam_net *n, int flags,
			struct vs_err *err)
{
	struct netns_info gw;
	char what[64];
	int idx = link_index(sk, n->bridge);
	ipam_fill_info(n, 1, &gw);  /* offset 1 = the gateway = the bridge */
	snprintf(what, sizeof(what), "bridge %s", n->bridge);
	int r = addr_add(sk, idx, AF_INET, gw.ip4, n->prefix4, flags, err, what);
	if (r >= 0 && n->has6)
		r = addr_add(sk, idx, AF_INET6, gw.ip6, n->prefix6, flags, err, what);
	return r;
}

int link_bridge_add(struct nl_sock *sk, const struct ipam_net *n, struct vs_err *err)
{
	uint8_t mac[6];
	netns_mac(n->bridge, mac);
	mac[5] ^= 0x5a;  /* a fixed MAC keeps the bridge's from following its ports */
	struct rtnl_link *l = rtnl_link_alloc();
	struct nl_addr *a = lladdr(mac);
	rtnl_link_set_name(l, n->bridge);
	rtnl_link_set_type(l, "bridge");
	rtnl_link_set_addr(l, a);
	int r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	nl_addr_put(a);
	rtnl_link_put(l);
	if (r < 0)
		return vs_fail(err, netns_nlerr(r), "netns: bridge %s: add", n->bridge);
	r = bridge_addrs(sk, n, NLM_F_CREATE | NLM_F_EXCL, err);
	if (r >= 0)
		r = set_up(sk, n->bridge, err);
	if (r < 0)
		link_del(sk, n->bridge, NULL);
	return r;
}

int link_bridge_ensure(struct nl_sock *sk, const struct ipam_net *n, struct vs_err *err)
{
	struct rtnl_link *l = NULL;
	if (rtnl_link_get_kernel(sk, 0, n->bridge, &l) < 0)
		return link_bridge_add(sk, n, err);
	const char *type = rtnl_link_get_type(l);
	bool is_br = type && !strcmp(type, "bridge");
	rtnl_link_put(l);
	if (!is_br)
		return vs_failx(err, EEXIST, "netns: bridge %s: an interface of that name "
				"exists and is not a bridge", n->bridge);
	int r = bridge_addrs(sk, n, NLM_F_CREATE | NLM_F_REPLACE, err);
	return r < 0 ? r : set_up(sk, n->bridge, err);
}

int link_del(struct nl_sock *sk, const char *name, struct vs_err *err)
{
	struct rtnl_link *l = rtnl_link_alloc();
	rtnl_link_set_name(l, name);
	int r = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	if (r < 0 && netns_nlerr(r) != ENODEV && netns_nlerr(r) != ENOENT)
		return vs_fail(err, netns_nlerr(r), "netns: link %s: delete", name);
	return 0;
}

/* The peer is created directly inside the server's namespace (IFLA_NET_NS_FD
 * on the peer), so its final name never clashes with a host interface. */
int link_veth_add(struct nl_sock *sk, const struct ipam_net *n, const char *server,
		  int netns_fd, const char *peer_name, struct vs_err *err)
{
	char host_if[IFNAMSIZ], ifb[IFNAMSIZ];
	uint8_t mac[6], hmac[6];
	netns_names(server, host_if, ifb);
	netns_mac(server, mac);
	memcpy(hmac, mac, 6);
	hmac[0] = 0xfe;  /* host end: locally administered, never equal to the peer */
	int br = link_index(sk, n->bridge);
	if (!br)
		return vs_failx(err, ENODEV, "netns: bridge %s: does not exist", n->bridge);
	if (link_index(sk, host_if))
		return vs_fail(err, EEXIST, "netns: veth %s: add", host_if);
	struct rtnl_link *l = rtnl_link_veth_alloc();
	if (!l)
		return vs_fail(err, ENOMEM, "netns: veth %s: add", host_if);
	struct rtnl_link *peer = rtnl_link_veth_get_peer(l);
	struct nl_addr *a = lladdr(hmac), *pa = lladdr(mac);
	rtnl_link_set_name(l, host_if);
	rtnl_link_set_addr(l, a);
	rtnl_link_set_master(l, br);
	rtnl_link_set_flags(l, IFF_UP);
	rtnl_link_set_name(peer, peer_name);
	rtnl_link_set_addr(peer, pa);
	rtnl_link_set_ns_fd(peer, netns_fd);
	int r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_veth_release(l);
	nl_addr_put(a);
	nl_addr_put(pa);
	if (r < 0)
		return vs_fail(err, netns_nlerr(r), "netns: veth %s: add (peer %s)", host_if, peer_name);
	return 0;
}

/* IFLA_BRPORT_ISOLATED: isolated ports only forward to non-isolated ones
 * (the bridge itself), so servers on one bridge cannot reach each other. */
/* Bridge-port flags of a server's host end, in one raw RTM_SETLINK (libnl
 * 3.7 has no setter for IFLA_BRPORT_ISOLATED):
 * - hairpin, always: with br_netfilter (bridge-nf-call-iptables, on by
 *   default wherever the kernel has it) a server's packet to a published port
 *   is DNATed on the bridge itself and, if it is the server's own port, sent
 *   back out of the port it came in on, which a bridge drops unless the port
 *   is in hairpin mode. (Without br_netfilter the packet is routed and the
 *   flag changes nothing.)
 * - isolated: the port forwards only to non-isolated ones (the bridge). */
int link_port_flags(struct nl_sock *sk, const char *ifname, bool isolate, struct vs_err *err)
{
	int idx = link_index(sk, ifname);
	if (!idx)
		return vs_fail(err, ENODEV, "netns: link %s: bridge port flags", ifname);
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = idx };
	struct nl_msg *m = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
	int r = m ? nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) : -NLE_NOMEM;
	if (r >= 0) {
		struct nlattr *nest = nla_nest_start(m, IFLA_PROTINFO | NLA_F_NESTED);
		r = nest ? nla_put_u8(m, IFLA_BRPORT_MODE, 1) : -NLE_NOMEM;
		if (r >= 0)
			r = nla_put_u8(m, IFLA_BRPORT_ISOLATED, isolate);
		if (r >= 0)
			r = nla_nest_end(m, nest);
	}
	if (r >= 0)
		r = nl_send_auto(sk, m);
	if (r >= 0)
		r = nl_wait_for_ack(sk);
	nlmsg_free(m);
	if (r < 0)
		return vs_fail(err, netns_nlerr(r), "netns: link %s: bridge port flags", ifname);
	return 0;
}

static int route_default(struct nl_sock *sk, int ifindex, int family, const char *gw,
			 struct vs_err *err)
{
	static const uint8_t zero[16];
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = nl_addr_build(family, zero, family == AF_INET ? 4 : 16);
	struct nl_addr *via = NULL;
	int r = nl_addr_parse(gw, family, &via);
	if (r >= 0 && rt && nh && dst) {
		nl_addr_set_prefixlen(dst, 0);
		rtnl_route_set_family(rt, family);
		rtnl_route_set_table(rt, RT_TABLE_MAIN);
		rtnl_route_set_protocol(rt, RTPROT_STATIC);
		rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
		rtnl_route_set_dst(rt, dst);
		rtnl_route_nh_set_ifindex(nh, ifindex);
		rtnl_route_nh_set_gateway(nh, via);
		rtnl_route_add_nexthop(rt, nh);
		nh = NULL;  /* owned by rt now */
		r = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_EXCL);
	}
	if (nh)
		rtnl_route_nh_free(nh);
	rtnl_route_put(rt);
	nl_addr_put(dst);
	nl_addr_put(via);
	if (r < 0)
		return vs_fail(err, netns_nlerr(r), "netns: default route via %s", gw);
	return 0;
}

/* runs in: the host, with sk opened in the server's namespace */
int link_configure_peer(struct nl_sock *sk, const char *ifname,
			const struct netns_info *info, struct vs_err *err)
{
	int idx = link_index(sk, ifname);
	if (!idx)
		return vs_fail(err, ENODEV, "netns: server link %s", ifname);
	char what[64];
	snprintf(what, sizeof(what), "server link %s", ifname);
	int r = set_up(sk, "lo", err);
	if (r >= 0)
		r = addr_add(sk, idx, AF_INET, info->ip4, info->prefix4,
			     NLM_F_CREATE | NLM_F_EXCL, err, what);
	if (r >= 0 && info->ip6[0])
		r = addr_add(sk, idx, AF_INET6, info->ip6, info->prefix6,
			     NLM_F_CREATE | NLM_F_EXCL, err, what);
	if (r >= 0)
		r = set_up(sk, ifname, err);
	if (r >= 0)
		r = route_default(sk, idx, AF_INET, info->gw4, err);
	if (r >= 0 && info->ip6[0])
		r = route_default(sk, idx, AF_INET6, info->gw6, err);
	return r;
}

/* ip_forward (and IPv6 forwarding) for the namespace, and route_localnet on
 * the bridge alone: a connection from the host to 127.0.0.1:<published port>
 * is DNATed to a server and leaves through the bridge with source 127.0.0.1,
 * which the kernel refuses to route out of an interface without it (the
 * masquerade in nat_net_add then gives it the gateway's address). Scoped to
 * the bridge, it goes away with the bridge: nothing to restore. */
int link_set_forwarding(const char *bridge, bool v6, struct vs_err *err)
{
	int r = vs_write_file("/proc/sys/net/ipv4/ip_forward", "1");
	if (r < 0)
		return vs_fail(err, -r, "netns: sysctl net.ipv4.ip_forward=1");
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
	r = vs_write_file(path, "1");
	if (r < 0)
		return vs_fail(err, -r, "netns: sysctl net.ipv4.conf.%s.route_localnet=1", bridge);
	if (v6) {
		r = vs_write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1");
		if (r < 0)
			return vs_fail(err, -r, "netns: sysctl net.ipv6.conf.all.forwarding=1");
	}
	return 0;
}
