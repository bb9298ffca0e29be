/* vserver-agent: /init of a VM server's initramfs. Internal to vm/agent/. */
#ifndef VS_AGENT_H
#define VS_AGENT_H

#include "proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* a decoded EXEC payload (pointers into the payload) */
struct agent_proc {
	char **argv, **envp;   /* NULL-terminated, malloc'd arrays */
	const char *cwd;
	uint32_t uid, gid;     /* 0, 0 when the request has none */
	uint32_t ngids;
	gid_t gids[AGENT_MAX_GIDS];
};

/* "vserver-agent: " + the message on the console */
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int agent_decode_proc(const unsigned char *p, size_t len, struct agent_proc *out);
/* runs in: the forked child, before exec. Becomes proc's user (groups,
 * gid, uid), then enters its cwd; -1 with errno and a message on stderr. */
int agent_become(const struct agent_proc *proc);
/* Reads the whole file (NUL-terminated); NULL on failure. */
char *agent_read_file(const char *path, size_t *len);
/* The value of KEY= on the kernel command line, in buf; false if absent. */
bool agent_cmdline(const char *key, char *buf, size_t len);

/* serve.c: the loop of PID 1 (or of the forked agent with --init).
 * workload: the server's command (0 = none: the image's init runs as PID 1
 * and powers off by itself). Never returns. */
__attribute__((noreturn)) void agent_serve(pid_t workload);
/* The same loop on the host, for tests/unit/test-vmagent.c: fd is the port
 * (one end of a socket pair); exits when the test closes it. */
__attribute__((noreturn)) void agent_serve_fd(int fd);
/* Ends the VM: TERM, KILL, sync, remount read-only, power off. */
__attribute__((noreturn)) void agent_poweroff(void);

#endif
