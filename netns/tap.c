/* netns: a tap instead of a veth, for a VM server (vm/). We open the tap
 * here, in the host's network namespace, put it on the network's bridge and
 * hand its fd on: QEMU gets the fd (so it needs no /dev/net/tun, no
 * CAP_NET_ADMIN and no view of the host's network), and the tap is not
 * persistent, so it disappears by itself when the last fd (QEMU's) closes.
 * It carries the same name a veth's host end would (netns_names), so tc caps,
 * port isolation, published ports and netns_server_stop work unchanged. */
#include "internal.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

int link_tap_add(struct nl_sock *sk, const struct ipam_net *n, const char *server,
		 struct vs_err *err)
{
	char host_if[IFNAMSIZ], ifb[IFNAMSIZ];
	netns_names(server, host_if, ifb);
	int br = link_index(sk, n->bridge);
	if (!br)
		return vs_failx(err, ENODEV, "netns: bridge %s: does not exist", n->bridge);
	if (link_index(sk, host_if))
		return vs_fail(err, EEXIST, "netns: tap %s: add", host_if);
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return vs_fail(err, errno, "netns: tap %s: open /dev/net/tun", host_if);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", host_if);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return vs_fail(err, e, "netns: tap %s: add", host_if);
	}
	struct rtnl_link *change = rtnl_link_alloc();
	struct rtnl_link *orig = NULL;
	int r = rtnl_link_get_kernel(sk, 0, host_if, &orig);
	if (r >= 0 && !change)
		r = -NLE_NOMEM;
	if (r >= 0) {
		rtnl_link_set_master(change, br);
		rtnl_link_set_flags(change, IFF_UP);
		r = rtnl_link_change(sk, orig, change, 0);
	}
	if (orig)
		rtnl_link_put(orig);
	if (change)
		rtnl_link_put(change);
	if (r < 0) {
		close(fd);  /* not persistent: closing removes it */
		return vs_fail(err, netns_nlerr(r), "netns: tap %s: attach to %s", host_if, n->bridge);
	}
	return fd;
}
