/* A small driver for tests/net.bats: the netns module's API as commands,
 * plus a one-shot TCP server/client to see who connects from where.
 *   netns-driver [-s STATEDIR] COMMAND ...
 *     net-create NET [-b BRIDGE] [-4 SUBNET] [-6 SUBNET|none] [-i]
 *     net-up NET | net-remove NET [-f]
 *     alloc NAME -n NET [-a IP]
 *     start NAME -n NET (-p PID | -N NETNS_PATH) [-a IP] [-I BITS] [-O BITS]
 *           [-P tcp|udp:HOSTIP:HOSTPORT:PORT]...   (HOSTIP: *, IPv4 or [IPv6])
 *     stop NAME -n NET | release NAME -n NET
 *     rate NAME IN_BITS OUT_BITS
 *     files NAME -n NET DIR HOSTNAME
 *     nft CMD                    (libnftables, output on stdout)
 *     serve PORT [N]             (accept N (1) TCP connections, v4 or v6, print each peer)
 *     connect IP PORT            (IPv4 or IPv6; print what the server says)
 *     udp-serve PORT             (one UDP datagram: answer and print the peer)
 *     udp-send IP PORT           (send one datagram, print the answer)
 * Errors: the module's one line on stderr, exit 1. */
#include "../netns/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <nftables/libnftables.h>

static const char *state_dir;

static int fail(const struct vs_err *err)
{
	fprintf(stderr, "%s\n", err->msg);
	return 1;
}

static void print_info(const struct netns_info *i)
{
	printf("ip4=%s/%d gw4=%s ip6=%s/%d gw6=%s mac=%s host_if=%s ifb=%s bridge=%s\n",
	       i->ip4, i->prefix4, i->gw4, i->ip6, i->prefix6, i->gw6, i->mac, i->host_if,
	       i->ifb, i->bridge);
}

/* tcp|udp:HOSTIP:HOSTPORT:PORT, HOSTIP "*" (every address), IPv4 or [IPv6] */
static int parse_port(const char *s, struct netns_port *p, char *hip, size_t hlen)
{
	char proto[8];
	unsigned hp, cp;
	int n = 0;
	if (sscanf(s, "%7[a-z]:%n", proto, &n) != 1 || !n)
		return -1;
	s += n;
	const char *end = s[0] == '[' ? strchr(s, ']') : strchr(s, ':');
	if (!end || (size_t)(end - s) >= hlen)
		return -1;
	if (s[0] == '[') {
		snprintf(hip, hlen, "%.*s", (int)(end - s - 1), s + 1);
		end++;
	} else {
		snprintf(hip, hlen, "%.*s", (int)(end - s), s);
	}
	if (sscanf(end, ":%u:%u", &hp, &cp) != 2 || hp > 65535 || cp > 65535)
		return -1;
	p->proto = !strcmp(proto, "udp") ? IPPROTO_UDP : !strcmp(proto, "tcp") ? IPPROTO_TCP : -1;
	p->host_ip = strcmp(hip, "*") ? hip : NULL;
	p->host_port = (uint16_t)hp;
	p->port = (uint16_t)cp;
	return 0;
}

static int cmd_server(int argc, char **argv, const char *verb)
{
	struct vs_err err = { 0 };
	struct netns_server s = { .state_dir = state_dir, .netns_fd = -1 };
	struct netns_port ports[8];
	char hips[8][48];
	struct netns_info info;
	const char *nspath = NULL;
	int c;
	if (argc < 2)
		return 2;
	s.name = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt(argc, argv, "+n:a:p:N:I:O:P:")) != -1) {
		switch (c) {
		case 'n': s.net = optarg; break;
		case 'a': s.ip4 = optarg; break;
		case 'p': s.pid = atoi(optarg); break;
		case 'N': nspath = optarg; break;
		case 'I': s.rate_in = strtoull(optarg, NULL, 10); break;
		case 'O': s.rate_out = strtoull(optarg, NULL, 10); break;
		case 'P':
			if (s.n_ports == 8 || parse_port(optarg, &ports[s.n_ports],
							 hips[s.n_ports], 48) < 0) {
				fprintf(stderr, "bad -P %s\n", optarg);
				return 2;
			}
			s.n_ports++;
			break;
		default: return 2;
		}
	}
	s.ports = ports;
	_cleanup_close_ int fd = -1;
	if (nspath && (fd = open(nspath, O_RDONLY | O_CLOEXEC)) < 0) {
		perror(nspath);
		return 1;
	}
	s.netns_fd = fd;
	int r;
	if (!strcmp(verb, "alloc"))
		r = netns_server_alloc(&s, &info, &err);
	else if (!strcmp(verb, "start"))
		r = netns_server_start(&s, &info, &err);
	else if (!strcmp(verb, "stop"))
		return netns_server_stop(state_dir, s.net, s.name, &err) < 0 ? fail(&err) : 0;
	else
		return netns_server_release(state_dir, s.net, s.name, &err) < 0 ? fail(&err) : 0;
	if (r < 0)
		return fail(&err);
	print_info(&info);
	return 0;
}

static int cmd_net(int argc, char **argv, const char *verb)
{
	struct vs_err err = { 0 };
	struct netns_net_opts o = { .state_dir = state_dir };
	bool force = false;
	int c;
	if (argc < 2)
		return 2;
	o.name = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt(argc, argv, "+b:4:6:if")) != -1) {
		switch (c) {
		case 'b': o.bridge = optarg; break;
		case '4': o.subnet4 = optarg; break;
		case '6': o.subnet6 = optarg; break;
		case 'i': o.isolate = true; break;
		case 'f': force = true; break;
		default: return 2;
		}
	}
	int r = !strcmp(verb, "net-create") ? netns_net_create(&o, &err)
	      : !strcmp(verb, "net-up") ? netns_net_up(state_dir, o.name, &err)
	      : netns_net_remove(state_dir, o.name, force, &err);
	return r < 0 ? fail(&err) : 0;
}

static int cmd_files(int argc, char **argv)
{
	struct vs_err err = { 0 };
	struct netns_server s = { .state_dir = state_dir, .netns_fd = -1 };
	struct netns_info info;
	const char *ns[] = { "192.0.2.53", NULL };
	int c;
	if (argc < 2)
		return 2;
	s.name = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt(argc, argv, "+n:")) != -1)
		if (c == 'n')
			s.net = optarg;
	if (argc - optind < 2)
		return 2;
	if (netns_server_alloc(&s, &info, &err) < 0 ||
	    netns_write_files(argv[optind], argv[optind + 1], &info, ns, &err) < 0)
		return fail(&err);
	return 0;
}

static int cmd_nft(const char *cmd)
{
	struct nft_ctx *c = nft_ctx_new(NFT_CTX_DEFAULT);
	nft_ctx_output_set_flags(c, NFT_CTX_OUTPUT_HANDLE);
	int r = nft_run_cmd_from_buffer(c, cmd);
	nft_ctx_free(c);
	return r ? 1 : 0;
}

static void addr_text(const struct in6_addr *a, char buf[INET6_ADDRSTRLEN])
{
	if (IN6_IS_ADDR_V4MAPPED(a))
		inet_ntop(AF_INET, &a->s6_addr[12], buf, INET6_ADDRSTRLEN);
	else
		inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* Accepts count TCP connections on port (IPv4 and IPv6), prints each peer
 * and tells it its address. */
static int cmd_serve(int port, int count)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int one = 1, zero = 0, s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0) {
		perror("serve");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		struct sockaddr_in6 peer;
		socklen_t len = sizeof(peer);
		int c = accept4(s, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		if (c < 0)
			return 1;
		struct sockaddr_in6 self;
		socklen_t slen = sizeof(self);
		char ip[INET6_ADDRSTRLEN], me[INET6_ADDRSTRLEN], msg[80];
		getsockname(c, (struct sockaddr *)&self, &slen);
		addr_text(&peer.sin6_addr, ip);
		addr_text(&self.sin6_addr, me);
		snprintf(msg, sizeof(msg), "peer=%s\n", ip);
		vs_write_all(c, msg, strlen(msg));
		printf("peer=%s local=%s\n", ip, me);  /* local: where the client landed */
		fflush(stdout);
		close(c);
	}
	close(s);
	return 0;
}

static int cmd_connect(const char *ip, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	if (getaddrinfo(ip, port, &hints, &ai) != 0) {
		fprintf(stderr, "connect: bad address %s port %s\n", ip, port);
		return 1;
	}
	int s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 3 };
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int r = connect(s, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (r < 0) {
		perror("connect");
		return 1;
	}
	char buf[128];
	ssize_t n = read(s, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	fputs(buf, stdout);
	return 0;
}

/* UDP: one datagram in, "peer=ADDR" back to its sender (and on stdout with
 * where it landed); the sender prints the answer. */
static int cmd_udp_serve(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int zero = 0, one = 1, s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	setsockopt(s, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udp-serve");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	struct sockaddr_in6 peer;
	char buf[64], cbuf[256], ip[INET6_ADDRSTRLEN], me[INET6_ADDRSTRLEN] = "?", msg[80];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_name = &peer, .msg_namelen = sizeof(peer), .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	if (recvmsg(s, &mh, 0) < 0)
		return 1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
			addr_text(&((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_addr, me);
		else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			inet_ntop(AF_INET, &((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr, me,
				  sizeof(me));
	}
	addr_text(&peer.sin6_addr, ip);
	snprintf(msg, sizeof(msg), "peer=%s\n", ip);
	sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&peer, mh.msg_namelen);
	printf("peer=%s local=%s\n", ip, me);
	return 0;
}

static int cmd_udp_send(const char *ip, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	if (getaddrinfo(ip, port, &hints, &ai) != 0)
		return 1;
	int s = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 3 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int r = connect(s, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	char buf[128];
	ssize_t n;
	if (r < 0 || send(s, "x", 1, 0) != 1 || (n = recv(s, buf, sizeof(buf) - 1, 0)) <= 0) {
		perror("udp-send");
		return 1;
	}
	buf[n] = '\0';
	fputs(buf, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "-s")) {
		state_dir = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		return 2;
	const char *verb = argv[1];
	argc--;
	argv++;
	if (!strncmp(verb, "net-", 4))
		return cmd_net(argc, argv, verb);
	if (!strcmp(verb, "alloc") || !strcmp(verb, "start") || !strcmp(verb, "stop") ||
	    !strcmp(verb, "release"))
		return cmd_server(argc, argv, verb);
	if (!strcmp(verb, "rate") && argc == 4) {
		struct vs_err err = { 0 };
		return netns_server_set_rate(argv[1], strtoull(argv[2], NULL, 10),
					     strtoull(argv[3], NULL, 10), &err) < 0 ? fail(&err) : 0;
	}
	if (!strcmp(verb, "files"))
		return cmd_files(argc, argv);
	if (!strcmp(verb, "nft") && argc == 2)
		return cmd_nft(argv[1]);
	if (!strcmp(verb, "serve") && (argc == 2 || argc == 3))
		return cmd_serve(atoi(argv[1]), argc == 3 ? atoi(argv[2]) : 1);
	if (!strcmp(verb, "connect") && argc == 3)
		return cmd_connect(argv[1], argv[2]);
	if (!strcmp(verb, "udp-serve") && argc == 2)
		return cmd_udp_serve(atoi(argv[1]));
	if (!strcmp(verb, "udp-send") && argc == 3)
		return cmd_udp_send(argv[1], argv[2]);
	fprintf(stderr, "usage: see the head of tests/netns-driver.c\n");
	return 2;
}
