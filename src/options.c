/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * options.c: owns command-line parsing and the help and version texts. It
 * uses nothing but libc's getopt_long and never exits: the caller decides
 * what an outcome means. Usage errors are worded the same whatever the libc
 * (getopt's own messages are turned off), so tests can match them.
 */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "num.h"
#include "options.h"
#include "server.h"
#include "trace.h"
#include "worker.h"

/* Long-only options have values outside the range of characters. */
enum { OPT_MAX_CONNECTIONS = 256, OPT_MAX_THREADS, OPT_MULTIPATH };

/* A leading ':' makes getopt report a missing argument as ':' not '?'. */
static const char short_opts[] = ":hVk:f:dT:u:g:vq";

static const struct option long_opts[] = {
	{ "help",    no_argument,       NULL, 'h' },
	{ "version", no_argument,       NULL, 'V' },
	{ "socket",  required_argument, NULL, 'k' },
	{ "pidfile", required_argument, NULL, 'f' },
	{ "daemon",  no_argument,       NULL, 'd' },
	{ "trace",   required_argument, NULL, 'T' },
	{ "user",    required_argument, NULL, 'u' },
	{ "group",   required_argument, NULL, 'g' },
	{ "verbose", no_argument,       NULL, 'v' },
	{ "quiet",   no_argument,       NULL, 'q' },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "max-threads", required_argument, NULL, OPT_MAX_THREADS },
	{ "multipath", required_argument, NULL, OPT_MULTIPATH },
	{ NULL, 0, NULL, 0 }
};

static void
print_help(FILE *out, const char *argv0)
{
	fprintf(out,
"Usage: %s [OPTION]...\n"
"Run SCSI PERSISTENT RESERVE IN/OUT commands for QEMU's pr-manager-helper\n"
"objects, on devices whose file descriptors QEMU passes over a Unix socket.\n"
"\n"
"  -h, --help             print this help and exit\n"
"  -V, --version          print the version and exit\n"
"  -d, --daemon           run in the background; return once the helper is\n"
"                         listening, has written its pid file and dropped\n"
"                         its privileges (exit status 1 if it failed)\n"
"  -f, --pidfile=PATH     pid file, written with -d or -f\n"
"                         (default '%s')\n"
"  -k, --socket=PATH      absolute path of the listening Unix socket\n"
"                         (default '%s')\n"
"  -T, --trace=[[enable=]PATTERN][,events=FILE][,file=FILE]\n"
"                         enable trace events; '-T help' lists them\n"
"  -u, --user=USER        user to run as after start-up (name or number)\n"
"  -g, --group=GROUP      group to run as (default: USER's primary group)\n"
"  -v, --verbose          log more; repeat for debugging output\n"
"  -q, --quiet            log start-up errors only\n"
"      --max-connections=N  serve at most N clients at once (default %u)\n"
"      --max-threads=N      run at most N commands at once (default %u);\n"
"                         more wait in order for a free thread\n"
"      --multipath=on|off   send commands for a dm-multipath map to its\n"
"                         paths (default on); off: to the map, as QEMU's\n"
"                         helper built without multipath support does\n"
"\n"
"Under systemd socket activation (LISTEN_FDS=1) the socket is fd 3 and -k\n"
"must not be given. After start-up the helper keeps only CAP_SYS_RAWIO.\n"
"Exit status: 0 on SIGTERM, SIGINT or SIGHUP; 1 on any start-up error.\n",
	        argv0, PRH_DEFAULT_PIDFILE, PRH_DEFAULT_SOCKET,
	        SERVER_DEFAULT_MAX_CONNECTIONS, WORKERS_DEFAULT_MAX);
}

static void
print_version(FILE *out)
{
	fprintf(out,
"qemu-pr-helper (" PRH_PROJECT ") " PRH_VERSION "\n"
"Implements QEMU's pr-manager-helper protocol: a static drop-in\n"
"replacement for QEMU's qemu-pr-helper.\n"
"License: BSD-2-Clause. Statically linked with musl (MIT), libcap\n"
"(BSD-3-Clause) and libsgutils2 from sg3_utils (BSD-2-Clause).\n");
}

bool
options_lookup_user(const char *arg, uid_t *uid, bool *gid_known, gid_t *gid)
{
	struct passwd *pw = getpwnam(arg);
	unsigned long long n;

	if (pw != NULL) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		*gid_known = true;
		return true;
	}
	/* (uid_t)-1 means "unchanged" to setresuid, so it is no valid user. */
	if (!num_parse_decimal(arg, (uid_t)-1 - 1, &n))
		return false;
	*uid = (uid_t)n;
	pw = getpwuid(*uid);
	*gid_known = pw != NULL;
	if (pw != NULL)
		*gid = pw->pw_gid;
	return true;
}

bool
options_lookup_group(const char *arg, gid_t *gid)
{
	struct group *gr = getgrnam(arg);
	unsigned long long n;

	if (gr != NULL) {
		*gid = gr->gr_gid;
		return true;
	}
	if (!num_parse_decimal(arg, (gid_t)-1 - 1, &n))
		return false;
	*gid = (gid_t)n;
	return true;
}

static void
usage_error(FILE *err, const char *argv0)
{
	fprintf(err, "Try '%s --help' for more information.\n", argv0);
}

/* The text of the option getopt just rejected, for the error message. */
static void
report_bad_option(FILE *err, int argc, char **argv, int code)
{
	const char *arg = (optind > 0 && optind <= argc) ? argv[optind - 1] : "";
	bool is_long = strncmp(arg, "--", 2) == 0;

	if (code == ':') {
		if (is_long)
			fprintf(err, "qemu-pr-helper: option '%s' requires an argument\n", arg);
		else
			fprintf(err, "qemu-pr-helper: option requires an argument -- '%c'\n",
			        optopt);
	} else if (is_long || optopt == 0) {
		fprintf(err, "qemu-pr-helper: unrecognized option '%s'\n", arg);
	} else {
		fprintf(err, "qemu-pr-helper: invalid option -- '%c'\n", optopt);
	}
}

enum options_result
options_parse(struct options *opts, int argc, char **argv, FILE *out, FILE *err)
{
	const char *argv0 = argc > 0 ? argv[0] : "qemu-pr-helper";
	int n_verbose = 0;
	bool quiet = false;
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->socket_path = PRH_DEFAULT_SOCKET;
	opts->pidfile_path = PRH_DEFAULT_PIDFILE;
	opts->max_connections = SERVER_DEFAULT_MAX_CONNECTIONS;
	opts->max_threads = WORKERS_DEFAULT_MAX;
	opts->multipath = true;

	opterr = 0;
	optind = 0;     /* 0, not 1: a full reset in both glibc and musl */
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_help(out, argv0);
			return OPTIONS_EXIT_SUCCESS;
		case 'V':
			print_version(out);
			return OPTIONS_EXIT_SUCCESS;
		case 'k':
			if (optarg[0] != '/') {
				fprintf(err, "qemu-pr-helper: socket path must be absolute\n");
				return OPTIONS_EXIT_FAILURE;
			}
			opts->socket_path = optarg;
			opts->socket_given = true;
			break;
		case 'f':
			opts->pidfile_path = optarg;
			opts->pidfile_given = true;
			break;
		case 'd':
			opts->daemonize = true;
			break;
		case 'T':
			switch (trace_parse_option(optarg, out, err)) {
			case TRACE_OPT_OK:
				break;
			case TRACE_OPT_HELP:
				return OPTIONS_EXIT_SUCCESS;
			case TRACE_OPT_ERROR:
				return OPTIONS_EXIT_FAILURE;
			}
			break;
		case 'u':
			if (!options_lookup_user(optarg, &opts->uid, &opts->user_gid_known,
			                         &opts->user_gid)) {
				fprintf(err, "qemu-pr-helper: invalid user '%s'\n", optarg);
				return OPTIONS_EXIT_FAILURE;
			}
			opts->user_given = true;
			break;
		case 'g':
			if (!options_lookup_group(optarg, &opts->gid)) {
				fprintf(err, "qemu-pr-helper: invalid group '%s'\n", optarg);
				return OPTIONS_EXIT_FAILURE;
			}
			opts->group_given = true;
			break;
		case 'v':
			n_verbose++;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_MAX_CONNECTIONS: {
			unsigned long long n;

			if (!num_parse_decimal(optarg, OPTIONS_MAX_CONNECTIONS_LIMIT, &n) ||
			    n == 0) {
				fprintf(err, "qemu-pr-helper: invalid --max-connections '%s' "
				        "(1 to %u)\n", optarg, OPTIONS_MAX_CONNECTIONS_LIMIT);
				return OPTIONS_EXIT_FAILURE;
			}
			opts->max_connections = (unsigned)n;
			break;
		}
		case OPT_MAX_THREADS: {
			unsigned long long n;

			/* Two at least: with one, a hung LUN would hold every
			 * other client's command. */
			if (!num_parse_decimal(optarg, WORKERS_MAX_LIMIT, &n) ||
			    n < WORKERS_MIN) {
				fprintf(err, "qemu-pr-helper: invalid --max-threads '%s' "
				        "(%u to %u)\n", optarg, WORKERS_MIN, WORKERS_MAX_LIMIT);
				return OPTIONS_EXIT_FAILURE;
			}
			opts->max_threads = (unsigned)n;
			break;
		}
		case OPT_MULTIPATH:
			if (strcmp(optarg, "on") == 0) {
				opts->multipath = true;
			} else if (strcmp(optarg, "off") == 0) {
				opts->multipath = false;
			} else {
				fprintf(err, "qemu-pr-helper: invalid --multipath '%s' "
				        "(on or off)\n", optarg);
				return OPTIONS_EXIT_FAILURE;
			}
			break;
		default:
			/* '?' (unknown option) or ':' (missing argument) */
			report_bad_option(err, argc, argv, c);
			usage_error(err, argv0);
			return OPTIONS_EXIT_FAILURE;
		}
	}

	if (quiet)
		opts->verbosity = LOG_VERBOSITY_QUIET;
	else if (n_verbose >= LOG_VERBOSITY_DEBUG - LOG_VERBOSITY_DEFAULT)
		opts->verbosity = LOG_VERBOSITY_DEBUG;
	else
		opts->verbosity = LOG_VERBOSITY_DEFAULT + n_verbose;

	/* QEMU ignores positional arguments without a word; say so instead. */
	if (opts->verbosity >= LOG_VERBOSITY_DEFAULT) {
		for (int i = optind; i < argc; i++)
			fprintf(err, "qemu-pr-helper: warning: ignoring argument '%s'\n",
			        argv[i]);
	}

	/* -d changes to "/", and the pid file is removed by name at exit. */
	if (opts->pidfile_path[0] != '/') {
		char cwd[PATH_MAX];
		int n;

		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			fprintf(err, "qemu-pr-helper: cannot resolve pid file path '%s'\n",
			        opts->pidfile_path);
			return OPTIONS_EXIT_FAILURE;
		}
		n = snprintf(opts->pidfile_buf, sizeof(opts->pidfile_buf), "%s/%s",
		             cwd, opts->pidfile_path);
		if (n < 0 || (size_t)n >= sizeof(opts->pidfile_buf)) {
			fprintf(err, "qemu-pr-helper: pid file path too long\n");
			return OPTIONS_EXIT_FAILURE;
		}
		opts->pidfile_path = opts->pidfile_buf;
	}
	return OPTIONS_RUN;
}
