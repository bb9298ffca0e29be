/* maxrss: runs a command and reports the peak resident set size of its
 * process (and of the descendants it waited for) from wait4's rusage.
 *   maxrss [-o FILE] CMD [ARGS...]
 * Prints the peak in KiB (one number) to FILE, or to stderr without -o, and
 * exits with the command's exit status (128 + signal if it was killed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *out = NULL;
	int argi = 1;

	if (argc > 2 && !strcmp(argv[1], "-o")) {
		out = argv[2];
		argi = 3;
	}
	if (argi >= argc) {
		fprintf(stderr, "usage: maxrss [-o FILE] CMD [ARGS...]\n");
		return 2;
	}

	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "maxrss: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		execvp(argv[argi], argv + argi);
		fprintf(stderr, "maxrss: exec %s: %s\n", argv[argi], strerror(errno));
		_exit(127);
	}

	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "maxrss: wait4: %s\n", strerror(errno));
			return 2;
		}
	}

	FILE *f = stderr;
	if (out && !(f = fopen(out, "we"))) {
		fprintf(stderr, "maxrss: open %s: %s\n", out, strerror(errno));
		return 2;
	}
	fprintf(f, "%ld\n", ru.ru_maxrss);
	if (f != stderr)
		fclose(f);

	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
