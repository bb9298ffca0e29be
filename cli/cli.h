/* cli: the front ends. The only code that prints or exits. */
#ifndef VS_CLI_H
#define VS_CLI_H

#include "../runtime/runtime.h"
#include <getopt.h>
#include <stdio.h>

struct cli_global {
	struct rt_ctx ctx;
	const char *log_path;
	bool log_json;
	const char *prog;         /* "vsrun" */
	const char *verb;
	char **argv;              /* a copy of main's, for vsrun to hand to vsrun-vm */
};

extern struct cli_global g_cli;

/* Prints "vsrun: msg" on stderr (and into --log); returns exit code 1. */
/* s as a JSON string, quotes included */
int cli_error(const struct vs_err *err);
int cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *msg);
/* Checks that exactly n (or at least n when at_least) positional args remain. */
int cli_need_args(int argc, int optind_, int n, bool at_least, const char *usage);
/* --preserve-fds N: fds 3..3+N-1 go to the container as they are. One the
 * caller left closed would be taken by the runtime's own next open (a
 * namespace fd of the host, the sync socket) and reach the container: fill
 * such holes with /dev/null before anything else is opened. */
int cli_fill_preserved_fds(int n);
/* getopt_long with getopt's own message replaced by one line of ours,
 * "PROG: VERB: unknown option --x" (or "option --x needs a value"); returns
 * '?' then, else what getopt_long returns. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* Parses "KILL", "SIGKILL", "9". -1 on error. */
int cli_parse_signal(const char *s);

typedef int (*cli_verb_fn)(int argc, char **argv);
struct cli_verb {
	const char *name;
	cli_verb_fn fn;
	const char *summary;
	bool enters_container;    /* re-exec from a sealed memfd first */
};

#define VERB(name) int oci_##name(int argc, char **argv)
VERB(spec); VERB(create); VERB(start); VERB(run); VERB(state); VERB(kill);
VERB(delete); VERB(list); VERB(ps); VERB(exec); VERB(pause); VERB(resume);
VERB(update); VERB(events); VERB(features);
#undef VERB

/* The vsrun front end (vsrun.c) of vsrun and vsrun-vm: vm is the VM
 * handler or NULL, vm_handoff what to do with a VM without it (rt_ctx). */
int vsrun_main(int argc, char **argv, char **envp, const struct rt_vm_handler *vm,
	       int (*vm_handoff)(struct vs_err *err));

/* Shared by create and run. */
int cli_create_opts(int argc, char **argv, struct rt_create_opts *o, bool run);

#endif
