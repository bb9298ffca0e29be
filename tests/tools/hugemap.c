/* hugemap N [SIZE_KB]: maps N huge pages (default 2048 KiB each) with
 * MAP_HUGETLB, touches every one, prints "mapped N" and exits 0; prints
 * the failing step and exits 1 otherwise. Built static by the tests and
 * run inside containers to feel a hugetlb limit: with hugetlb.<size>.rsvd.max
 * the mmap itself fails (ENOMEM); with only .max, the first touch beyond
 * the limit is a SIGBUS, which the parent half reports. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hugemap N [SIZE_KB]\n");
		return 2;
	}
	long n = atol(argv[1]);
	long kb = argc > 2 ? atol(argv[2]) : 2048;
	size_t page = (size_t)kb * 1024, len = page * (size_t)n;
	int shift = __builtin_ctzl(page);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (shift << MAP_HUGE_SHIFT),
			       -1, 0);
		if (p == MAP_FAILED) {
			printf("mmap %ld x %ld KiB: %s\n", n, kb, strerror(errno));
			return 1;
		}
		for (long i = 0; i < n; i++)
			p[(size_t)i * page] = 1;
		printf("mapped %ld\n", n);
		return 0;
	}
	int st;
	if (waitpid(pid, &st, 0) < 0) {
		perror("waitpid");
		return 1;
	}
	if (WIFSIGNALED(st)) {
		printf("touch %ld x %ld KiB: killed by signal %d\n", n, kb, WTERMSIG(st));
		return 1;
	}
	return WEXITSTATUS(st);
}
