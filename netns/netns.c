/* netns: the public entry points. Each takes the network's lock, loads its
 * state, changes the host, and saves the state last, so a failure at any
 * step rolls back what came before it and leaves the state file as it was.
 * runs in: the host's network namespace (the caller's thread). */
#include "internal.h"

#include <dirent.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *dir_of(const char *d)
{
	return d ? d : NETNS_DEFAULT_STATE_DIR;
}

static const char *net_of(const char *n)
{
	return n ? n : NETNS_DEFAULT_NET;
}

static void net_freep(struct ipam_net *n)
{
	ipam_net_free(n);
}
#define _cleanup_net_ __attribute__((cleanup(net_freep)))
#define _cleanup_sock_ __attribute__((cleanup(link_sock_free)))

void netns_names(const char *server, char host_if[IFNAMSIZ], char ifb[IFNAMSIZ])
{
	if (strlen(server) <= 11) {
		snprintf(host_if, IFNAMSIZ, "vs-%s", server);
		snprintf(ifb, IFNAMSIZ, "vsi-%s", server);
	} else {
		/* too long for IFNAMSIZ: "vsh"/"vsx" + 48 bits of a hash */
		unsigned long long h = netns_hash("vserver-if", server) & 0xffffffffffffULL;
		snprintf(host_if, IFNAMSIZ, "vsh%012llx", h);
		snprintf(ifb, IFNAMSIZ, "vsx%012llx", h);
	}
}

void netns_mac(const char *server, uint8_t mac[6])
{
	uint64_t h = netns_hash("vserver-mac", server);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	/* unicast, locally administered; top bit clear so the host end (fe:...) differs */
	mac[0] = (mac[0] & 0x7c) | 0x02;
}

static int valid_net(const char *net, struct vs_err *err)
{
	if (!ipam_valid_name(net, 31))
		return vs_failx(err, EINVAL, "netns: network name \"%s\": invalid", net);
	return 0;
}

int netns_net_create(const struct netns_net_opts *o, struct vs_err *err)
{
	_cleanup_net_ struct ipam_net n = { 0 };
	_cleanup_sock_ struct nl_sock *sk = NULL;
	const char *dir = dir_of(o->state_dir);
	char path[4096];
	int r = ipam_net_init(&n, o, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = ipam_lock(dir, n.name, true, err);
	if (lock < 0)
		return lock;
	snprintf(path, sizeof(path), "%s/%s.net", dir, n.name);
	if (access(path, F_OK) == 0)
		return vs_failx(err, EEXIST, "netns: network %s: already exists", n.name);
	if ((r = link_sock(&sk, -1, err)) < 0 || (r = link_bridge_add(sk, &n, err)) < 0)
		goto out_unlock;
	if ((r = link_set_forwarding(n.bridge, n.has6, err)) < 0)
		goto out_del_bridge;
	if ((r = nat_net_add(&n, err)) < 0)
		goto out_del_bridge;
	if ((r = ipam_save(dir, &n, err)) < 0)
		goto out_del_nat;
	return 0;
out_del_nat:
	nat_net_del(n.name, NULL);
out_del_bridge:
	link_del(sk, n.bridge, NULL);
out_unlock:
	ipam_unlink(dir, n.name, NULL);  /* the lock file we made */
	return r;
}

static int net_ensure(struct nl_sock *sk, const struct ipam_net *n, struct vs_err *err)
{
	int r = link_bridge_ensure(sk, n, err);
	if (r >= 0)
		r = link_set_forwarding(n->bridge, n->has6, err);
	if (r >= 0)
		r = nat_net_add(n, err);
	return r;
}

int netns_net_up(const char *state_dir, const char *net, struct vs_err *err)
{
	_cleanup_net_ struct ipam_net n = { 0 };
	_cleanup_sock_ struct nl_sock *sk = NULL;
	const char *dir = dir_of(state_dir);
	net = net_of(net);
	int r = valid_net(net, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = ipam_lock(dir, net, false, err);
	if (lock < 0)
		return lock;
	if ((r = ipam_load(dir, net, &n, err)) < 0 || (r = link_sock(&sk, -1, err)) < 0)
		return r;
	return net_ensure(sk, &n, err);
}

/* Takes down what start made for one server; keeps going, returns the first
 * error. Ports of the server are dropped from n. */
static int server_down(struct nl_sock *sk, struct ipam_net *n, const char *name,
		       struct vs_err *err)
{
	char host_if[IFNAMSIZ], ifb[IFNAMSIZ];
	struct ipam_port *mine = vs_xcalloc(n->n_ports, sizeof(*mine));
	size_t k = 0, j = 0;
	for (size_t i = 0; i < n->n_ports; i++) {
		if (!strcmp(n->ports[i].server, name))
			mine[k++] = n->ports[i];
		else
			n->ports[j++] = n->ports[i];
	}
	n->n_ports = j;
	netns_names(name, host_if, ifb);
	int r = nat_server_del(name, mine, k, err);
	free(mine);
	int r2 = tc_clear(sk, host_if, ifb, r < 0 ? NULL : err);
	if (r >= 0)
		r = r2;
	r2 = link_del(sk, host_if, r < 0 ? NULL : err);
	return r < 0 ? r : r2;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int netns_net_list(const char *state_dir, char ***names, struct vs_err *err)
{
	const char *dir = dir_of(state_dir);
	*names = vs_xcalloc(1, sizeof(char *));
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : vs_fail(err, errno, "netns: open %s", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > 4 && !strcmp(de->d_name + n - 4, ".net")) {
			de->d_name[n - 4] = '\0';
			vs_strv_push(names, de->d_name);
		}
	}
	closedir(d);
	qsort(*names, vs_strv_len(*names), sizeof(char *), cmp_name);
	return 0;
}

int netns_net_remove(const char *state_dir, const char *net, bool force,
		     struct vs_err *err)
{
	_cleanup_net_ struct ipam_net n = { 0 };
	_cleanup_sock_ struct nl_sock *sk = NULL;
	const char *dir = dir_of(state_dir);
	net = net_of(net);
	int r = valid_net(net, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = ipam_lock(dir, net, false, err);
	if (lock < 0)
		return lock;
	if ((r = ipam_load(dir, net, &n, err)) < 0 || (r = link_sock(&sk, -1, err)) < 0)
		return r;
	if (n.n_ents && !force)
		return vs_failx(err, EBUSY, "netns: network %s: %zu server(s) still have "
				"addresses", net, n.n_ents);
	for (size_t i = 0; i < n.n_ents && r >= 0; i++)
		r = server_down(sk, &n, n.ents[i].name, err);
	if (r >= 0)
		r = nat_net_del(net, err);
	if (r >= 0)
		r = link_del(sk, n.bridge, err);
	if (r >= 0)
		r = ipam_unlink(dir, net, err);
	char **left = NULL;
	if (r >= 0 && netns_net_list(dir, &left, NULL) >= 0 && !left[0])
		nat_table_del(NULL); /* the last network: leave the host's nftables as we found it */
	vs_strv_free(left);
	return r;
}

static void fill_names(const char *name, const uint8_t mac[6], struct netns_info *info)
{
	netns_names(name, info->host_if, info->ifb);
	snprintf(info->mac, sizeof(info->mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int netns_server_alloc(const struct netns_server *s, struct netns_info *info,
		       struct vs_err *err)
{
	_cleanup_net_ struct ipam_net n = { 0 };
	const char *dir = dir_of(s->state_dir), *net = net_of(s->net);
	uint32_t off;
	uint8_t mac[6];
	int r = valid_net(net, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = ipam_lock(dir, net, false, err);
	if (lock < 0)
		return lock;
	if ((r = ipam_load(dir, net, &n, err)) < 0)
		return r;
	if ((r = ipam_alloc(&n, s->name, s->ip4, &off, err)) < 0)
		return r;
	if (r == 1 && (r = ipam_save(dir, &n, err)) < 0)
		return r;
	if (info) {
		memset(info, 0, sizeof(*info));
		ipam_fill_info(&n, off, info);
		netns_mac(s->name, mac);
		fill_names(s->name, mac, info);
	}
	return 0;
}

/* Two ports of one server that would catch the same packets: one protocol
 * and number, and host addresses that meet (a family in common, and one of
 * them "every address" or both the same). 198.51.100.1:80 next to
 * [2001:db8::1]:80, or 0.0.0.0:80 next to [::]:80, do not meet. */
static bool ports_overlap(const struct ipam_port *a, const struct ipam_port *b)
{
	if (a->proto != b->proto || a->host_port != b->host_port)
		return false;
	if (a->family && b->family && a->family != b->family)
		return false;
	return !a->host_ip[0] || !b->host_ip[0] || !strcmp(a->host_ip, b->host_ip);
}

/* The request's ports, checked, as state records. */
static int ports_of(const struct netns_server *s, struct ipam_port **out, struct vs_err *err)
{
	struct ipam_port *p = vs_xcalloc(s->n_ports, sizeof(*p));
	for (size_t i = 0; i < s->n_ports; i++) {
		const struct netns_port *in = &s->ports[i];
		const char *pr = in->proto == IPPROTO_UDP ? "udp" : "tcp";
		int r = 0;
		if (in->proto != IPPROTO_TCP && in->proto != IPPROTO_UDP)
			r = vs_failx(err, EINVAL, "netns: port %u: protocol must be tcp or udp",
				     in->host_port);
		else if (!in->host_port)
			r = vs_failx(err, EINVAL, "netns: port %s/0: invalid", pr);
		else if (ipam_port_host(&p[i], in->host_ip) < 0)
			r = vs_failx(err, EINVAL, "netns: port %s/%u: host address \"%s\": "
				     "not an IPv4 or IPv6 address", pr, in->host_port, in->host_ip);
		snprintf(p[i].server, sizeof(p[i].server), "%s", s->name);
		p[i].proto = in->proto;
		p[i].host_port = in->host_port;
		p[i].port = in->port ? in->port : in->host_port;
		for (size_t j = 0; j < i && r >= 0; j++)
			if (ports_overlap(&p[j], &p[i]))
				r = vs_failx(err, EINVAL, "netns: port %s/%u: given twice", pr,
					     in->host_port);
		if (r < 0) {
			free(p);
			return r;
		}
	}
	*out = p;
	return 0;
}

static int open_netns(const struct netns_server *s, struct vs_err *err)
{
	if (s->netns_fd >= 0) {
		int fd = fcntl(s->netns_fd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? vs_fail(err, errno, "netns: dup netns fd") : fd;
	}
	if (s->pid <= 0)
		return vs_failx(err, EINVAL, "netns: server %s: no network namespace given",
				s->name);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)s->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? vs_fail(err, errno, "netns: open %s", path) : fd;
}

int netns_server_start(const struct netns_server *s, struct netns_info *info,
		       struct vs_err *err)
{
	_cleanup_net_ struct ipam_net n = { 0 };
	_cleanup_sock_ struct nl_sock *sk = NULL;
	_cleanup_sock_ struct nl_sock *ssk = NULL;
	_cleanup_free_ struct ipam_port *ports = NULL;
	struct netns_info inf = { 0 };
	const char *dir = dir_of(s->state_dir), *net = net_of(s->net);
	const char *ifname = s->ifname ? s->ifname : "eth0";
	uint8_t mac[6];
	uint32_t off;
	int r = valid_net(net, err);
	if (r < 0)
		return r;
	if (!ipam_valid_name(ifname, IFNAMSIZ - 1))
		return vs_failx(err, EINVAL, "netns: interface name \"%s\": invalid", ifname);
	if ((r = ports_of(s, &ports, err)) < 0)
		return r;
	_cleanup_close_ int nsfd = s->tap_fd ? -1 : open_netns(s, err);
	_cleanup_close_ int tapfd = -1;
	if (!s->tap_fd && nsfd < 0)
		return nsfd;
	_cleanup_close_ int lock = ipam_lock(dir, net, false, err);
	if (lock < 0)
		return lock;
	if ((r = ipam_load(dir, net, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < s->n_ports && !n.has6; i++)
		if (ports[i].family == AF_INET6)
			return vs_failx(err, EINVAL, "netns: port %s/%u: host address %s: network "
					"%s has no IPv6", ports[i].proto == IPPROTO_UDP ? "udp" : "tcp",
					ports[i].host_port, s->ports[i].host_ip, net);
	/* a new allocation lives only in n until the final save */
	if ((r = ipam_alloc(&n, s->name, s->ip4, &off, err)) < 0)
		return r;
	ipam_fill_info(&n, off, &inf);
	netns_mac(s->name, mac);
	fill_names(s->name, mac, &inf);
	if ((r = link_sock(&sk, -1, err)) < 0)
		return r;
	if (!link_index(sk, n.bridge) && (r = net_ensure(sk, &n, err)) < 0)
		return r;
	/* isolation first: the port is never on the bridge without it */
	if (n.isolate && (r = nat_isolate_add(s->name, inf.host_if, err)) < 0)
		goto out_iso;
	if (s->tap_fd && (r = tapfd = link_tap_add(sk, &n, s->name, err)) < 0)
		goto out_iso;
	if (!s->tap_fd && (r = link_veth_add(sk, &n, s->name, nsfd, ifname, err)) < 0)
		goto out_iso;
	if ((r = link_port_flags(sk, inf.host_if, false, err)) < 0)
		goto out_del_veth;
	if (!s->tap_fd && ((r = link_sock(&ssk, nsfd, err)) < 0 ||
			   (r = link_configure_peer(ssk, ifname, &inf, err)) < 0))
		goto out_del_veth;
	if ((s->rate_in || s->rate_out) &&
	    (r = tc_set(sk, inf.host_if, inf.ifb, s->rate_in, s->rate_out, err)) < 0)
		goto out_tc;
	if ((r = nat_ports_add(&n, s->name, inf.ip4, inf.ip6, ports, s->n_ports, err)) < 0)
		goto out_tc;
	/* records: this start's ports replace any stale ones */
	size_t j = 0;
	for (size_t i = 0; i < n.n_ports; i++)
		if (strcmp(n.ports[i].server, s->name) != 0)
			n.ports[j++] = n.ports[i];
	n.ports = vs_xrealloc(n.ports, (j + s->n_ports) * sizeof(*n.ports));
	memcpy(n.ports + j, ports, s->n_ports * sizeof(*ports));
	n.n_ports = j + s->n_ports;
	if ((r = ipam_save(dir, &n, err)) < 0)
		goto out_nat;
	if (info)
		*info = inf;
	if (s->tap_fd)
		*s->tap_fd = TAKE_FD(tapfd);
	return 0;
out_nat:
	nat_server_del(s->name, ports, s->n_ports, NULL);
out_tc:
	tc_clear(sk, inf.host_if, inf.ifb, NULL);
out_del_veth:
	link_del(sk, inf.host_if, NULL);  /* the peer goes with it; a tap goes with tapfd */
out_iso:
	if (n.isolate)
		nat_server_del(s->name, NULL, 0, NULL);
	return r;
}

static int server_stop(const char *state_dir, const char *net, const char *name,
		       bool release, struct vs_err *err)
{
	_cleanup_net_ struct ipam_net n = { 0 };
	_cleanup_sock_ struct nl_sock *sk = NULL;
	const char *dir = dir_of(state_dir);
	net = net_of(net);
	int r = valid_net(net, err);
	if (r < 0)
		return r;
	if (!ipam_valid_name(name, IPAM_NAME_MAX - 1))
		return vs_failx(err, EINVAL, "netns: server name \"%s\": invalid", name);
	_cleanup_close_ int lock = ipam_lock(dir, net, false, err);
	if (lock < 0)
		return lock;
	if ((r = ipam_load(dir, net, &n, err)) < 0 || (r = link_sock(&sk, -1, err)) < 0)
		return r;
	r = server_down(sk, &n, name, err);
	if (release)
		ipam_release(&n, name);
	int r2 = ipam_save(dir, &n, r < 0 ? NULL : err);
	return r < 0 ? r : r2;
}

int netns_server_stop(const char *state_dir, const char *net, const char *name,
		      struct vs_err *err)
{
	return server_stop(state_dir, net, name, false, err);
}

int netns_server_release(const char *state_dir, const char *net, const char *name,
			 struct vs_err *err)
{
	return server_stop(state_dir, net, name, true, err);
}

int netns_server_set_rate(const char *name, uint64_t rate_in, uint64_t rate_out,
			  struct vs_err *err)
{
	_cleanup_sock_ struct nl_sock *sk = NULL;
	char host_if[IFNAMSIZ], ifb[IFNAMSIZ];
	if (!ipam_valid_name(name, IPAM_NAME_MAX - 1))
		return vs_failx(err, EINVAL, "netns: server name \"%s\": invalid", name);
	netns_names(name, host_if, ifb);
	int r = link_sock(&sk, -1, err);
	return r < 0 ? r : tc_set(sk, host_if, ifb, rate_in, rate_out, err);
}
