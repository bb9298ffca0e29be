/* tcprr: TCP request/response latency, one byte each way, over one
 * connection (Nagle off), the way netperf's TCP_RR measures it.
 *   tcprr serve PORT            echo every byte back, one client, then exit
 *   tcprr rr ADDR PORT N        N round trips; prints "median_us p99_us"
 * ADDR is IPv4 or IPv6. The first 10% of the round trips warm up and are
 * left out. */
#define _GNU_SOURCE
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int serve(const char *port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(atoi(port)) };
	int one = 1, zero = 0, s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0) {
		perror("tcprr: serve");
		return 1;
	}
	int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) {
		perror("tcprr: accept");
		return 1;
	}
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	char b;
	while (read(c, &b, 1) == 1)
		if (write(c, &b, 1) != 1)
			return 1;
	return 0;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

static long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int rr(const char *addr, const char *port, int n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	if (n < 10 || getaddrinfo(addr, port, &hints, &ai) != 0) {
		fprintf(stderr, "tcprr: bad address, port or count\n");
		return 2;
	}
	int one = 1, s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = connect(s, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (r < 0) {
		perror("tcprr: connect");
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int warm = n / 10;
	long *t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return 1;
	for (int i = 0; i < n; i++) {
		char b = 'x';
		long t0 = now_ns();
		if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1) {
			fprintf(stderr, "tcprr: connection lost after %d round trips\n", i);
			return 1;
		}
		t[i] = now_ns() - t0;
	}
	int m = n - warm;
	qsort(t + warm, (size_t)m, sizeof(*t), cmp_long);
	printf("%.1f %.1f\n", t[warm + m / 2] / 1e3, t[warm + (m * 99) / 100] / 1e3);
	free(t);
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "rr"))
		return rr(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: tcprr serve PORT | tcprr rr ADDR PORT N\n");
	return 2;
}
