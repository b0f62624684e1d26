/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * options.h: the command line, with QEMU's helper's spelling and defaults
 * (-h -V -d -q -v -f -k -T -u -g and their long forms).
 */
#ifndef PRH_OPTIONS_H
#define PRH_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* Limits of --max-connections. */
#define OPTIONS_MAX_CONNECTIONS_LIMIT 1000000u

struct options {
	const char *socket_path;    /* -k, or the compiled-in default */
	bool socket_given;          /* -k was on the command line */
	const char *pidfile_path;   /* -f (made absolute), or the default */
	bool pidfile_given;
	bool daemonize;             /* -d */
	int verbosity;              /* 0 with -q, else 1 + number of -v, max 3 */
	bool user_given;            /* -u: uid below is meaningful */
	uid_t uid;
	bool user_gid_known;        /* -u named a passwd entry: its group */
	gid_t user_gid;
	bool group_given;           /* -g: gid below is meaningful */
	gid_t gid;
	unsigned max_connections;   /* --max-connections (not in QEMU) */
	unsigned max_threads;       /* --max-threads (not in QEMU) */
	bool multipath;             /* --multipath=on|off (not in QEMU) */
	char pidfile_buf[PATH_MAX];
};

enum options_result {
	OPTIONS_RUN,            /* start the helper */
	OPTIONS_EXIT_SUCCESS,   /* --help, --version or -T help was printed */
	OPTIONS_EXIT_FAILURE    /* a usage error was printed */
};

/*
 * Parse argv into *opts. Help and version go to out, errors and warnings to
 * err. Options act in command-line order, as in QEMU (-V -h prints only the
 * version). -T arguments are applied to the trace module as they come.
 */
enum options_result options_parse(struct options *opts, int argc, char **argv,
                                  FILE *out, FILE *err);

/* The user/group lookups behind -u and -g: a name from the password or group
 * database, else a decimal number. Return false if neither. */
bool options_lookup_user(const char *arg, uid_t *uid, bool *gid_known, gid_t *gid);
bool options_lookup_group(const char *arg, gid_t *gid);

#endif /* PRH_OPTIONS_H */
