/* Unit tests of netns/: the pure parts (CIDR parsing, allocation, the state
 * file, names and MACs, the /etc files) and the locked persistence in a
 * temporary directory, with concurrent allocating processes. */
#include "tap.h"
#include "../../netns/internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static void net_of(struct ipam_net *n, const char *subnet4, const char *subnet6)
{
	struct netns_net_opts o = { .name = "t", .subnet4 = subnet4, .subnet6 = subnet6 };
	struct vs_err err = { 0 };
	int r = ipam_net_init(n, &o, &err);
	if (r < 0)
		printf("# %s\n", err.msg);
}

static void test_cidr(void)
{
	struct vs_err err = { 0 };
	uint32_t net;
	int p;
	is_int(ipam_parse_cidr4("172.30.0.0/24", &net, &p, &err), 0, "cidr4 parses");
	is_int(net, 0xac1e0000, "cidr4 network");
	is_int(p, 24, "cidr4 prefix");
	is_int(ipam_parse_cidr4("172.30.0.1/24", &net, &p, &err), -EINVAL, "host bits refused");
	is_str(err.msg, "netns: subnet 172.30.0.1/24: host bits set", "host bits message");
	is_int(ipam_parse_cidr4("172.30.0.0/31", &net, &p, &err), -EINVAL, "/31 refused");
	is_int(ipam_parse_cidr4("172.30.0.300/24", &net, &p, &err), -EINVAL, "bad octet");
	is_int(ipam_parse_cidr4("172.30.0.0", &net, &p, &err), -EINVAL, "no prefix");
	is_int(ipam_parse_cidr4("172.30.0.0/2x", &net, &p, &err), -EINVAL, "junk prefix");
	is_int(ipam_parse_cidr4("10.0.0.0/8", &net, &p, &err), 0, "/8 fine");
	struct in6_addr a6;
	is_int(ipam_parse_cidr6("fd00:1:2::/64", &a6, &p, &err), 0, "cidr6 parses");
	is_int(ipam_parse_cidr6("fd00:1:2::1/64", &a6, &p, &err), -EINVAL, "cidr6 host bits");
	is_int(ipam_parse_cidr6("fd00::/112", &a6, &p, &err), -EINVAL, "cidr6 /112 too small");
	char ula[64], ula2[64];
	ipam_default_ula("default", ula, sizeof(ula));
	ipam_default_ula("default", ula2, sizeof(ula2));
	is_str(ula, ula2, "default ULA is stable (%s)", ula);
	ok(!strncmp(ula, "fd", 2) && strstr(ula, "::/64"), "default ULA is fdXX:..::/64");
	ipam_default_ula("other", ula2, sizeof(ula2));
	ok(strcmp(ula, ula2) != 0, "default ULA differs per network");
}

static void test_alloc(void)
{
	struct ipam_net n;
	struct vs_err err = { 0 };
	uint32_t off;
	net_of(&n, "10.1.2.0/29", NULL);  /* hosts .1-.6; .1 = gateway */
	is_int(ipam_alloc(&n, "a", NULL, &off, &err), 1, "first allocation");
	is_int(off, 2, "first is .2");
	is_int(ipam_alloc(&n, "a", NULL, &off, &err), 0, "same name again: same address");
	is_int(off, 2, "still .2");
	is_int(ipam_alloc(&n, "b", "10.1.2.5", &off, &err), 1, "static .5");
	is_int(off, 5, "static offset");
	is_int(ipam_alloc(&n, "c", "10.1.2.5", &off, &err), -EADDRINUSE, "static taken");
	is_str(err.msg, "netns: address 10.1.2.5: taken by server b", "taken message");
	is_int(ipam_alloc(&n, "c", "10.1.3.5", &off, &err), -EINVAL, "outside subnet");
	is_str(err.msg, "netns: address 10.1.3.5: not in 10.1.2.0/29", "outside message");
	is_int(ipam_alloc(&n, "c", "10.1.2.300", &off, &err), -EINVAL, "not an address");
	is_str(err.msg, "netns: address 10.1.2.300: not in 10.1.2.0/29", "bad address message");
	is_int(ipam_alloc(&n, "c", "10.1.2.1", &off, &err), -EADDRINUSE, "gateway refused");
	is_int(ipam_alloc(&n, "c", "10.1.2.7", &off, &err), -EINVAL, "broadcast refused");
	is_int(ipam_alloc(&n, "c", "10.1.2.0", &off, &err), -EINVAL, "network refused");
	is_int(ipam_alloc(&n, "b", "10.1.2.6", &off, &err), -EEXIST, "other static for b");
	is_int(ipam_alloc(&n, "bad/name", NULL, &off, &err), -EINVAL, "bad name");
	is_int(ipam_alloc(&n, "c", NULL, &off, &err), 1, "c");
	is_int(off, 3, "c fills the hole at .3");
	is_int(ipam_alloc(&n, "d", NULL, &off, &err), 1, "d");
	is_int(ipam_alloc(&n, "e", NULL, &off, &err), 1, "e");
	is_int(off, 6, "e skips the static .5");
	is_int(ipam_alloc(&n, "f", NULL, &off, &err), -ENOSPC, "full subnet");
	is_str(err.msg, "netns: network t: no free address in 10.1.2.0/29", "full message");
	is_int(ipam_release(&n, "c"), 0, "release c");
	is_int(ipam_release(&n, "c"), -ENOENT, "release twice");
	is_int(ipam_alloc(&n, "f", NULL, &off, &err), 1, "f after release");
	is_int(off, 3, "f reuses .3");
	struct netns_info info;
	ipam_fill_info(&n, 3, &info);
	is_str(info.ip4, "10.1.2.3", "info ip4");
	is_str(info.gw4, "10.1.2.1", "info gw4");
	ok(info.ip6[0] && !strcmp(info.ip6 + strlen(info.ip6) - 3, "::3"), "info ip6 ends in ::3 (%s)",
	   info.ip6);
	ipam_net_free(&n);

	net_of(&n, "10.1.2.0/24", "none");
	ipam_fill_info(&n, 9, &info);
	is_str(info.ip6, "", "no IPv6 with subnet6 none");
	ipam_net_free(&n);
}

static void test_state(void)
{
	struct ipam_net n, m;
	struct vs_err err = { 0 };
	uint32_t off;
	net_of(&n, "172.30.0.0/24", "fd00:aa::/64");
	n.isolate = true;
	ipam_alloc(&n, "web1", NULL, &off, &err);
	ipam_alloc(&n, "db", "172.30.0.77", &off, &err);
	static const char *hosts[] = { "10.0.0.1", NULL, "0.0.0.0", "::", "2001:db8:0::01" };
	n.n_ports = VS_ARRAY_SIZE(hosts);
	n.ports = vs_xcalloc(n.n_ports, sizeof(*n.ports));
	for (size_t i = 0; i < n.n_ports; i++) {
		snprintf(n.ports[i].server, sizeof(n.ports[i].server), "web1");
		n.ports[i].proto = IPPROTO_UDP;
		is_int(ipam_port_host(&n.ports[i], hosts[i]), 0, "port host %s", hosts[i] ? hosts[i] : "(any)");
		n.ports[i].host_port = (uint16_t)(5353 + i);
		n.ports[i].port = 53;
	}
	ok(n.ports[0].family == AF_INET && !strcmp(n.ports[0].host_ip, "10.0.0.1"), "v4 host");
	ok(n.ports[1].family == 0 && !n.ports[1].host_ip[0], "no host: both families");
	ok(n.ports[2].family == AF_INET && !n.ports[2].host_ip[0], "0.0.0.0: every IPv4 address");
	ok(n.ports[3].family == AF_INET6 && !n.ports[3].host_ip[0], ":: every IPv6 address");
	ok(n.ports[4].family == AF_INET6 && !strcmp(n.ports[4].host_ip, "2001:db8::1"),
	   "v6 host, normalised");
	struct ipam_port bad = { 0 };
	is_int(ipam_port_host(&bad, "web.example"), -EINVAL, "a name is not a host address");
	is_int(ipam_port_host(&bad, "[::1]"), -EINVAL, "brackets are the CLI's, not ours");
	char *text = ipam_format(&n);
	is_int(ipam_parse(text, &m, &err), 0, "state round trip parses");
	char *text2 = ipam_format(&m);
	is_str(text2, text, "state round trip is identical");
	ok(m.isolate && m.has6 && m.n_ents == 2 && m.n_ports == 5, "fields survive");
	ok(strstr(text, "port web1 udp * 5354 53\n") && strstr(text, "port web1 udp :: 5356 53\n") &&
	   strstr(text, "port web1 udp 2001:db8::1 5357 53\n"), "host addresses in the state file");
	ok(m.ports[4].family == AF_INET6 && m.ports[1].family == 0 && m.ports[2].family == AF_INET,
	   "families survive");
	ipam_release(&m, "web1");
	is_int(m.n_ports, 0, "release drops the server's ports");
	free(text);
	free(text2);
	ipam_net_free(&m);
	ipam_net_free(&n);
	is_int(ipam_parse("junk\n", &m, &err), -EINVAL, "not a state file");
	is_int(ipam_parse("# vserver netns v1\nnetwork a\nbridge b\nsubnet4 10.0.0.0/24\nwat 1\n",
			  &m, &err), -EINVAL, "unknown line refused");
}

static void test_names(void)
{
	char h[IFNAMSIZ], i[IFNAMSIZ];
	uint8_t mac[6], mac2[6];
	netns_names("web1", h, i);
	is_str(h, "vs-web1", "short host_if");
	is_str(i, "vsi-web1", "short ifb");
	netns_names("a-very-long-server-name", h, i);
	ok(strlen(h) == 15 && !strncmp(h, "vsh", 3), "long host_if hashed (%s)", h);
	ok(strlen(i) == 15 && !strncmp(i, "vsx", 3), "long ifb hashed (%s)", i);
	netns_mac("web1", mac);
	netns_mac("web1", mac2);
	ok(!memcmp(mac, mac2, 6), "MAC is stable");
	ok((mac[0] & 0x03) == 0x02, "MAC is unicast and locally administered");
	ok(mac[0] != 0xfe, "MAC differs from the host end's fe: prefix");
	netns_mac("web2", mac2);
	ok(memcmp(mac, mac2, 6) != 0, "MAC differs per name");
}

static void test_files(void)
{
	const char *host = "# x\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch example.org\n";
	char *r = netns_resolv_conf(host, NULL, NULL);
	ok(!strstr(r, "127.0.0.53"), "loopback resolver dropped");
	ok(strstr(r, "nameserver 192.0.2.1\n") != NULL, "host resolver kept");
	ok(strstr(r, "search example.org\n") != NULL, "host search kept");
	free(r);
	const char *ns[] = { "9.9.9.9", NULL };
	r = netns_resolv_conf(host, ns, "lan");
	ok(strstr(r, "nameserver 9.9.9.9\n") && !strstr(r, "192.0.2.1") && strstr(r, "search lan\n"),
	   "explicit nameservers win");
	free(r);
	struct netns_info info = { .ip4 = "172.30.0.2", .ip6 = "fd00::2" };
	r = netns_hosts("web1", &info);
	ok(strstr(r, "172.30.0.2\tweb1\n") && strstr(r, "fd00::2\tweb1\n") &&
	   strstr(r, "127.0.0.1\tlocalhost\n"), "hosts has the server's addresses");
	free(r);
	r = netns_hostname("web1");
	is_str(r, "web1\n", "hostname");
	free(r);
}

/* 20 processes allocate at once; every address must be distinct. */
static void test_concurrent(void)
{
	char dir[] = "/tmp/test-netns.XXXXXX";
	struct vs_err err = { 0 };
	if (!mkdtemp(dir)) {
		skip(3, "mkdtemp failed");
		return;
	}
	struct ipam_net n;
	net_of(&n, "10.7.0.0/24", NULL);
	is_int(ipam_save(dir, &n, &err), 0, "state saved");
	ipam_net_free(&n);
	for (int i = 0; i < 20; i++) {
		if (fork() == 0) {
			struct netns_server s = { .state_dir = dir, .net = "t", .netns_fd = -1 };
			char name[16];
			snprintf(name, sizeof(name), "s%d", i);
			s.name = name;
			_exit(netns_server_alloc(&s, NULL, &err) < 0 ? 1 : 0);
		}
	}
	int bad = 0, st;
	while (wait(&st) > 0)
		bad += !WIFEXITED(st) || WEXITSTATUS(st);
	is_int(bad, 0, "20 concurrent allocations succeed");
	struct ipam_net m;
	int r = ipam_load(dir, "t", &m, &err);
	bool distinct = r == 0 && m.n_ents == 20;
	for (size_t i = 0; distinct && i < m.n_ents; i++)
		for (size_t j = i + 1; j < m.n_ents; j++)
			distinct = distinct && m.ents[i].off != m.ents[j].off;
	ok(distinct, "20 entries, all addresses distinct (%zu entries)", r == 0 ? m.n_ents : 0);
	if (r == 0)
		ipam_net_free(&m);
	vs_rm_rf(dir);
}

int main(void)
{
	test_cidr();
	test_alloc();
	test_state();
	test_names();
	test_files();
	test_concurrent();
	return tap_done();
}
