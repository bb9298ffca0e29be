/* netns: a server's network. A host bridge per network, a veth pair per
 * server (host end on the bridge, peer = eth0 in the server's network
 * namespace), addresses from a persisted allocation, outbound NAT and
 * published ports in nftables table `inet vserver`, bandwidth caps with tc
 * tbf, and the resolv.conf/hosts/hostname a server gets.
 *
 * Everything here acts on the network namespace of the calling thread (the
 * "host"); the server's namespace is only entered to open a netlink socket.
 * All functions return >= 0 or -errno with err filled by one line such as
 *   netns: veth vs-web1: add: EEXIST (File exists)
 * and, on failure, leave nothing they made behind.
 *
 * Lifecycle, as the vserver manager uses it:
 *   netns_net_create()        once per network (makes the bridge, NAT, state file)
 *   netns_server_alloc()      server created: reserves its address
 *   netns_server_start()      server started: veth, addresses, routes, tc, ports
 *   netns_server_set_rate()   live change of the caps
 *   netns_server_stop()       server stopped: veth, tc, ports go; address kept
 *   netns_server_release()    server destroyed: stop + address released
 *   netns_net_remove()        network removed: bridge, NAT rules, state file
 */
#ifndef VS_NETNS_H
#define VS_NETNS_H

#include "../common/common.h"

#include <net/if.h>
#include <netinet/in.h>

#define NETNS_DEFAULT_STATE_DIR "/var/lib/vserver/net"
#define NETNS_DEFAULT_NET "default"
#define NETNS_DEFAULT_BRIDGE "vsbr0"
#define NETNS_DEFAULT_SUBNET4 "172.30.0.0/24"
/* The default IPv6 subnet is a ULA /64, fdXX:XXXX:XXXX::/64, whose 40-bit
 * global id is a hash of the network name: stable, and distinct per network.
 * (network "default" -> see docs/netns.md) */
#define NETNS_NFT_TABLE "vserver"   /* family inet */

struct netns_net_opts {
	const char *state_dir;   /* NULL = NETNS_DEFAULT_STATE_DIR */
	const char *name;        /* NULL = "default"; [A-Za-z0-9_.-], <= 31 chars */
	const char *bridge;      /* NULL = "vsbr0" */
	const char *subnet4;     /* NULL = "172.30.0.0/24"; prefix 8..30 */
	const char *subnet6;     /* NULL = derived ULA /64; "none" = no IPv6 */
	bool isolate;            /* servers on this bridge cannot reach each other */
};

/* Makes the bridge (refused if any interface has its name), its addresses,
 * the NAT rule, ip_forward, and the state file. */
int netns_net_create(const struct netns_net_opts *o, struct vs_err *err);
/* Re-makes what a reboot lost (bridge, NAT) from the state file; idempotent. */
int netns_net_up(const char *state_dir, const char *net, struct vs_err *err);
/* Removes bridge, NAT rules and state. Refused with EBUSY while servers hold
 * addresses, unless force. */
/* The names of every network with a state file, sorted (free with
 * vs_strv_free); an empty list when the state dir does not exist. */
int netns_net_list(const char *state_dir, char ***names, struct vs_err *err);
int netns_net_remove(const char *state_dir, const char *net, bool force,
		     struct vs_err *err);

struct netns_port {
	int proto;               /* IPPROTO_TCP or IPPROTO_UDP */
	/* IPv4 or IPv6 address of the host; NULL = every local address of both
	 * families (IPv6 only if the network has it), "0.0.0.0" = every local
	 * IPv4 address, "::" = every local IPv6 one. IPv4 traffic goes to the
	 * server's IPv4 address, IPv6 traffic to its IPv6 (ULA) address. */
	const char *host_ip;
	uint16_t host_port;
	uint16_t port;           /* in the server; 0 = host_port */
};

struct netns_server {
	const char *state_dir;   /* NULL = NETNS_DEFAULT_STATE_DIR */
	const char *net;         /* NULL = "default" */
	const char *name;        /* [A-Za-z0-9_.-], <= 63 chars */
	const char *ip4;         /* static address; NULL = next free */
	int netns_fd;            /* the server's network namespace, or -1 ... */
	pid_t pid;               /* ... then /proc/<pid>/ns/net */
	const char *ifname;      /* inside the server; NULL = "eth0" */
	uint64_t rate_in;        /* bits/s towards the server, 0 = no cap */
	uint64_t rate_out;       /* bits/s from the server, 0 = no cap */
	const struct netns_port *ports;
	size_t n_ports;
	/* A VM server (vm/): non-NULL makes a tap on the bridge instead of a
	 * veth and stores its fd here (close-on-exec; closing the last copy
	 * removes the tap). No namespace is entered: the guest configures its
	 * own eth0 from netns_info (its mac is info.mac). */
	int *tap_fd;
};

struct netns_info {
	char net[32];
	char bridge[IFNAMSIZ];
	char host_if[IFNAMSIZ];  /* host end of the veth */
	char ifb[IFNAMSIZ];      /* the ifb that shapes the server's egress */
	char ip4[INET_ADDRSTRLEN], gw4[INET_ADDRSTRLEN];
	int prefix4;
	char ip6[INET6_ADDRSTRLEN], gw6[INET6_ADDRSTRLEN]; /* "" without IPv6 */
	int prefix6;
	char mac[18];            /* of the server's eth0 */
};

/* Reserves an address (idempotent for the same name). */
int netns_server_alloc(const struct netns_server *s, struct netns_info *info,
		       struct vs_err *err);
/* Wires the server up; allocates first if needed (and releases again if it
 * fails). */
int netns_server_start(const struct netns_server *s, struct netns_info *info,
		       struct vs_err *err);
/* Takes down what start made; missing pieces are fine. */
int netns_server_stop(const char *state_dir, const char *net, const char *name,
		      struct vs_err *err);
/* stop + releases the address. */
int netns_server_release(const char *state_dir, const char *net, const char *name,
			 struct vs_err *err);
/* Changes the caps of a running server (bits/s, 0 = remove the cap). */
int netns_server_set_rate(const char *name, uint64_t rate_in, uint64_t rate_out,
			  struct vs_err *err);

/* ---- a VM in a network namespace made by someone else (guest.c) ---- */
struct netns_guest_net {
	char ip4[INET_ADDRSTRLEN], gw4[INET_ADDRSTRLEN];  /* gw "" if none */
	int prefix4;
	char mac[18];
};
/* In the namespace of netns_fd: reads ifname's (NULL = eth0) IPv4 address,
 * prefix, MAC and the default gateway into g, makes a tap "vstap0" and
 * redirects every frame between ifname and the tap both ways (tc), so a
 * guest on the tap with that MAC and address takes ifname's place. The
 * tap's fd goes to *tap_fd (the tap goes when it closes). */
int netns_guest_tap(int netns_fd, const char *ifname, struct netns_guest_net *g, int *tap_fd,
		    struct vs_err *err);
/* Removes the redirect from ifname (NULL = eth0): the namespace is its own
 * again. */
int netns_guest_untap(int netns_fd, const char *ifname, struct vs_err *err);

/* Host-side interface names and the server's MAC, derived from its name. */
void netns_names(const char *server, char host_if[IFNAMSIZ], char ifb[IFNAMSIZ]);
void netns_mac(const char *server, uint8_t mac[6]);

/* ---- files for the server's /etc (pure; strings are malloc'ed) ---- */
/* nameservers NULL: those of host_resolv (the host's resolv.conf text)
 * except loopback ones, which cannot work from inside a server. */
char *netns_resolv_conf(const char *host_resolv, const char *const *nameservers,
			const char *search);
char *netns_hosts(const char *hostname, const struct netns_info *info);
char *netns_hostname(const char *hostname);
/* Writes resolv.conf, hosts and hostname into dir (atomically); host_resolv
 * is read from /etc/resolv.conf when nameservers is NULL. */
int netns_write_files(const char *dir, const char *hostname,
		      const struct netns_info *info, const char *const *nameservers,
		      struct vs_err *err);

#endif
