/* vserver's verbs. */
#ifndef VS_CLI_VSERVER_H
#define VS_CLI_VSERVER_H

#include "cli.h"

extern struct srv_ctx g_srv;

#define SVERB(name) int vs_cmd_##name(int argc, char **argv)
SVERB(create); SVERB(start); SVERB(stop); SVERB(restart); SVERB(destroy); SVERB(list);
SVERB(info); SVERB(exec); SVERB(enter); SVERB(logs); SVERB(set); SVERB(stats);
SVERB(snapshot); SVERB(restore); SVERB(clone); SVERB(export); SVERB(import);
SVERB(boot); SVERB(image); SVERB(net); SVERB(alert); SVERB(console); SVERB(pause);
SVERB(resume); SVERB(helper); SVERB(shutdown);
#undef SVERB

/* Parses the limit and network options of create and set into s (which
 * holds the current values for set). Returns the index of the first
 * positional argument, or -1 (printed) / -2 (help printed). */
int vs_server_opts(int argc, char **argv, struct conf_server *s, bool create);
/* A progress bar on stderr (cli/vserver-progress.c): on only when stderr is
 * a terminal and not quiet; vs_progress_cb is a srv_progress_fn. */
struct vs_progress_bar {
	const char *label;
	bool on, drawn;
	char phase[16];
	double phase_start, last;
};
bool vs_progress_init(struct vs_progress_bar *p, const char *label, bool quiet);
void vs_progress_cb(void *arg, const char *phase, uint64_t done, uint64_t total);
void vs_progress_done(struct vs_progress_bar *p);
/* Prints a size as 512M, 1.5G. */
void vs_fmt_size(char *buf, size_t len, uint64_t v);
int vs_need_name(int argc, int optind_, const char *usage);
/* The standard --help-only option loop; returns -1 to exit 0, -2 to exit 2. */
int vs_simple_opts(int argc, char **argv, const char *usage);

#endif
