/* netns: a VM's network inside a network namespace someone else made (a
 * vsrun bundle's linux.namespaces network path, as podman or CNI set it up
 * with a veth "eth0" and an address). As kata-containers does: a tap is
 * made in that namespace, and tc redirects every frame between eth0 and the
 * tap both ways (ingress qdisc + u32 match-all + mirred egress redirect), so
 * the guest owns eth0's address and MAC and the namespace's own stack sees
 * nothing. The guest is told the address, prefix and gateway.
 * runs in: the caller's thread, which enters the namespace for the tap and
 * the ioctls and comes back (single-threaded callers: vsrun). */
#include "internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#define GUEST_TAP "vstap0"

static int if_ioctl(int s, unsigned long req, const char *ifname, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
	return ioctl(s, req, ifr);
}

/* eth0's address, prefix and MAC, and the default gateway, as seen from
 * inside (this thread is in the namespace) */
static int read_config(const char *ifname, struct netns_guest_net *g, struct vs_err *err)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	if (s < 0)
		return vs_fail(err, errno, "netns: socket");
	if (if_ioctl(s, SIOCGIFADDR, ifname, &ifr) < 0)
		return vs_fail(err, errno, "netns: %s: no IPv4 address to give the guest", ifname);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, g->ip4, sizeof(g->ip4));
	if (if_ioctl(s, SIOCGIFNETMASK, ifname, &ifr) < 0)
		return vs_fail(err, errno, "netns: %s: netmask", ifname);
	g->prefix4 = __builtin_popcount(((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr);
	if (if_ioctl(s, SIOCGIFHWADDR, ifname, &ifr) < 0)
		return vs_fail(err, errno, "netns: %s: mac address", ifname);
	const unsigned char *m = (const unsigned char *)ifr.ifr_hwaddr.sa_data;
	snprintf(g->mac, sizeof(g->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	g->gw4[0] = '\0';
	_cleanup_free_ char *routes = NULL;
	if (vs_read_file("/proc/self/net/route", &routes, NULL) >= 0) {
		char dev[IFNAMSIZ + 1];
		unsigned dst, gw, flags;
		for (char *save = NULL, *l = strtok_r(routes, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			if (sscanf(l, "%16s %x %x %x", dev, &dst, &gw, &flags) == 4 && dst == 0 && gw &&
			    !strcmp(dev, ifname)) {
				struct in_addr a = { .s_addr = gw };
				inet_ntop(AF_INET, &a, g->gw4, sizeof(g->gw4));
			}
	}
	return 0;
}

int netns_guest_tap(int netns_fd, const char *ifname, struct netns_guest_net *g, int *tap_fd,
		    struct vs_err *err)
{
	__attribute__((cleanup(link_sock_free))) struct nl_sock *sk = NULL;
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int tap = -1;
	if (!ifname)
		ifname = "eth0";
	if (self < 0)
		return vs_fail(err, errno, "netns: open /proc/self/ns/net");
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return vs_fail(err, errno, "netns: enter the network namespace");
	int r = read_config(ifname, g, err);
	if (r >= 0 && (tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0)
		r = vs_fail(err, errno, "netns: open /dev/net/tun");
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, IFNAMSIZ, GUEST_TAP);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (r >= 0 && ioctl(tap, TUNSETIFF, &ifr) < 0)
		r = vs_fail(err, errno, "netns: tap " GUEST_TAP ": add");
	/* back home before anything else can fail */
	if (setns(self, CLONE_NEWNET) < 0 && r >= 0)
		r = vs_fail(err, errno, "netns: return to our network namespace");
	if (r < 0)
		return r;
	if ((r = link_sock(&sk, netns_fd, err)) < 0)
		return r;
	struct rtnl_link *change = rtnl_link_alloc(), *orig = NULL;
	int q = change ? rtnl_link_get_kernel(sk, 0, GUEST_TAP, &orig) : -NLE_NOMEM;
	if (q >= 0) {
		rtnl_link_set_flags(change, IFF_UP);
		q = rtnl_link_change(sk, orig, change, 0);
	}
	if (orig)
		rtnl_link_put(orig);
	if (change)
		rtnl_link_put(change);
	if (q < 0)
		return vs_fail(err, netns_nlerr(q), "netns: tap " GUEST_TAP ": up");
	if ((r = tc_redirect_add(sk, ifname, GUEST_TAP, err)) < 0)
		return r;
	if ((r = tc_redirect_add(sk, GUEST_TAP, ifname, err)) < 0) {
		tc_ingress_del(sk, ifname);
		return r;
	}
	*tap_fd = TAKE_FD(tap);
	return 0;
}

int netns_guest_untap(int netns_fd, const char *ifname, struct vs_err *err)
{
	__attribute__((cleanup(link_sock_free))) struct nl_sock *sk = NULL;
	int r = link_sock(&sk, netns_fd, err);
	if (r < 0)
		return r;
	tc_ingress_del(sk, ifname ? ifname : "eth0");
	return 0;
}
