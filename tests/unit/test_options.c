/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for options.c: every option, its defaults and its errors. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "server.h"
#include "tap.h"
#include "trace.h"

static char out_text[8192], err_text[8192];

/* Parse a NULL-terminated argument list; capture stdout/stderr text. */
static enum options_result
parse(struct options *o, const char *first, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	FILE *out = fmemopen(out_text, sizeof(out_text), "w");
	FILE *err = fmemopen(err_text, sizeof(err_text), "w");
	enum options_result r;

	memset(out_text, 0, sizeof(out_text));
	memset(err_text, 0, sizeof(err_text));
	argv[argc++] = (char *)(uintptr_t)"qemu-pr-helper";
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *))
		argv[argc++] = (char *)(uintptr_t)a;
	va_end(ap);
	argv[argc] = NULL;
	trace_reset();
	r = options_parse(o, argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void
test_defaults(void)
{
	struct options o;

	is_int(parse(&o, NULL), OPTIONS_RUN, "no arguments: run");
	is_str(o.socket_path, "/var/run/qemu-pr-helper.sock", "default socket");
	is_str(o.pidfile_path, "/var/run/qemu-pr-helper.pid", "default pid file");
	ok(!o.socket_given && !o.pidfile_given && !o.daemonize, "nothing given");
	ok(!o.user_given && !o.group_given, "no -u/-g");
	is_int(o.verbosity, 1, "default verbosity 1");
	is_int(o.max_connections, SERVER_DEFAULT_MAX_CONNECTIONS, "default max connections");
	is_str(err_text, "", "nothing printed");
}

static void
test_paths(void)
{
	struct options o;
	char cwd[4096], want[4200];

	is_int(parse(&o, "-k", "/run/x.sock", NULL), OPTIONS_RUN, "-k absolute");
	ok(o.socket_given && strcmp(o.socket_path, "/run/x.sock") == 0, "-k stored");
	is_int(parse(&o, "--socket=/run/y.sock", NULL), OPTIONS_RUN, "--socket=");
	is_str(o.socket_path, "/run/y.sock", "--socket stored");
	is_int(parse(&o, "--sock", "/run/z.sock", NULL), OPTIONS_RUN,
	       "unambiguous long option prefix");
	is_str(o.socket_path, "/run/z.sock", "--sock stored");
	is_int(parse(&o, "-k", "x.sock", NULL), OPTIONS_EXIT_FAILURE, "-k relative refused");
	ok(strstr(err_text, "socket path must be absolute") != NULL, "message for relative -k");

	is_int(parse(&o, "-f", "/run/h.pid", NULL), OPTIONS_RUN, "-f absolute");
	ok(o.pidfile_given && strcmp(o.pidfile_path, "/run/h.pid") == 0, "-f stored");
	is_int(parse(&o, "--pidfile", "rel.pid", NULL), OPTIONS_RUN, "--pidfile relative");
	ok(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
	snprintf(want, sizeof(want), "%s/rel.pid", cwd);
	is_str(o.pidfile_path, want, "relative pid file made absolute (for -d)");
}

static void
test_verbosity(void)
{
	struct options o;

	parse(&o, "-v", NULL);
	is_int(o.verbosity, 2, "-v");
	parse(&o, "-vv", NULL);
	is_int(o.verbosity, 3, "-vv");
	parse(&o, "-v", "-v", "--verbose", "-v", NULL);
	is_int(o.verbosity, 3, "verbosity capped at 3");
	parse(&o, "-q", NULL);
	is_int(o.verbosity, 0, "-q");
	parse(&o, "-v", "-q", NULL);
	is_int(o.verbosity, 0, "-q wins over an earlier -v");
	parse(&o, "--quiet", "-v", NULL);
	is_int(o.verbosity, 0, "-q wins over a later -v");
	is_int(parse(&o, "-d", NULL), OPTIONS_RUN, "-d");
	ok(o.daemonize, "-d sets daemonize");
	parse(&o, "--daemon", NULL);
	ok(o.daemonize, "--daemon sets daemonize");
}

static void
test_ids(void)
{
	struct options o;

	is_int(parse(&o, "-u", "root", NULL), OPTIONS_RUN, "-u root");
	ok(o.user_given && o.uid == 0 && o.user_gid_known && o.user_gid == 0,
	   "-u root: uid 0, primary group 0");
	is_int(parse(&o, "--user=nobody", NULL), OPTIONS_RUN, "--user=nobody");
	ok(o.uid == 65534 && o.user_gid_known && o.user_gid == 65534,
	   "nobody: uid 65534, primary group 65534");
	is_int(parse(&o, "-u", "4321", NULL), OPTIONS_RUN, "-u numeric");
	ok(o.uid == 4321 && !o.user_gid_known, "numeric uid without passwd entry");
	is_int(parse(&o, "-u", "65534", NULL), OPTIONS_RUN, "-u numeric with an entry");
	ok(o.uid == 65534 && o.user_gid_known && o.user_gid == 65534,
	   "numeric uid takes its entry's group");
	is_int(parse(&o, "-u", "no-such-user", NULL), OPTIONS_EXIT_FAILURE, "-u unknown");
	ok(strstr(err_text, "invalid user 'no-such-user'") != NULL, "message for bad -u");
	is_int(parse(&o, "-u", "4294967295", NULL), OPTIONS_EXIT_FAILURE,
	       "-u (uid_t)-1 refused");
	is_int(parse(&o, "-u", "-5", NULL), OPTIONS_EXIT_FAILURE, "-u negative refused");

	is_int(parse(&o, "-g", "nogroup", NULL), OPTIONS_RUN, "-g nogroup");
	ok(o.group_given && o.gid == 65534, "nogroup is 65534");
	is_int(parse(&o, "--group", "777", NULL), OPTIONS_RUN, "-g numeric");
	ok(o.gid == 777, "numeric gid");
	is_int(parse(&o, "-g", "no-such-group", NULL), OPTIONS_EXIT_FAILURE, "-g unknown");
	ok(strstr(err_text, "invalid group 'no-such-group'") != NULL, "message for bad -g");
}

static void
test_help_version(void)
{
	struct options o;
	static const char *const listed[] = {
		"--help", "--version", "--daemon", "--pidfile", "--socket", "--trace",
		"--user", "--group", "--verbose", "--quiet", "--max-connections",
		"/var/run/qemu-pr-helper.sock", "/var/run/qemu-pr-helper.pid",
	};

	is_int(parse(&o, "-h", NULL), OPTIONS_EXIT_SUCCESS, "-h exits 0");
	ok(strncmp(out_text, "Usage: qemu-pr-helper", 21) == 0, "usage line first");
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
		ok(strstr(out_text, listed[i]) != NULL, "help mentions %s", listed[i]);
	is_str(err_text, "", "help prints nothing on stderr");

	is_int(parse(&o, "-V", NULL), OPTIONS_EXIT_SUCCESS, "-V exits 0");
	ok(strncmp(out_text, "qemu-pr-helper (" PRH_PROJECT ") " PRH_VERSION "\n",
	           strlen("qemu-pr-helper (" PRH_PROJECT ") " PRH_VERSION "\n")) == 0,
	   "version line names the project and version");
	ok(strstr(out_text, "pr-manager-helper protocol") != NULL,
	   "version says which protocol it implements");

	is_int(parse(&o, "-V", "-h", NULL), OPTIONS_EXIT_SUCCESS, "-V -h");
	ok(strstr(out_text, "Usage") == NULL, "-V -h prints only the version");
	is_int(parse(&o, "-h", "-V", NULL), OPTIONS_EXIT_SUCCESS, "-h -V");
	ok(strstr(out_text, "Usage") != NULL && strstr(out_text, "License") == NULL,
	   "-h -V prints only the help");
}

static void
test_errors(void)
{
	struct options o;

	is_int(parse(&o, "-x", NULL), OPTIONS_EXIT_FAILURE, "unknown short option");
	ok(strstr(err_text, "invalid option -- 'x'") != NULL, "names the short option");
	ok(strstr(err_text, "Try 'qemu-pr-helper --help' for more information.") != NULL,
	   "points at --help");
	is_int(parse(&o, "--bogus", NULL), OPTIONS_EXIT_FAILURE, "unknown long option");
	ok(strstr(err_text, "unrecognized option '--bogus'") != NULL, "names the long option");
	is_int(parse(&o, "-k", NULL), OPTIONS_EXIT_FAILURE, "-k without argument");
	ok(strstr(err_text, "option requires an argument -- 'k'") != NULL,
	   "names the short option lacking an argument");
	is_int(parse(&o, "--socket", NULL), OPTIONS_EXIT_FAILURE, "--socket without argument");
	ok(strstr(err_text, "option '--socket' requires an argument") != NULL,
	   "names the long option lacking an argument");
	is_int(parse(&o, "-dx", NULL), OPTIONS_EXIT_FAILURE, "unknown option in a bundle");
	ok(strstr(err_text, "invalid option -- 'x'") != NULL, "bundle: names the option");
	is_int(parse(&o, "-d", NULL), OPTIONS_RUN, "a parse after an error starts afresh");
}

static void
test_positional(void)
{
	struct options o;

	is_int(parse(&o, "-d", "FILE", NULL), OPTIONS_RUN, "a positional argument runs");
	ok(o.daemonize, "options around it still apply");
	ok(strstr(err_text, "ignoring argument 'FILE'") != NULL, "it draws a warning");
	is_int(parse(&o, "-q", "FILE", NULL), OPTIONS_RUN, "with -q");
	is_str(err_text, "", "-q silences the warning");
}

static void
test_max_connections(void)
{
	struct options o;

	is_int(parse(&o, "--max-connections=10", NULL), OPTIONS_RUN, "--max-connections=10");
	is_int(o.max_connections, 10, "stored");
	is_int(parse(&o, "--max-connections", "0", NULL), OPTIONS_EXIT_FAILURE, "0 refused");
	is_int(parse(&o, "--max-connections=2000000", NULL), OPTIONS_EXIT_FAILURE,
	       "above the limit refused");
	is_int(parse(&o, "--max-connections=ten", NULL), OPTIONS_EXIT_FAILURE,
	       "non-number refused");
}

static void
test_trace_option(void)
{
	struct options o;

	is_int(parse(&o, "-T", "help", NULL), OPTIONS_EXIT_SUCCESS, "-T help exits 0");
	ok(strstr(out_text, "prh_conn_accept") != NULL &&
	   strstr(out_text, "prh_reply_sent") != NULL, "-T help lists the events");
	is_int(parse(&o, "--trace=prh_conn_*", NULL), OPTIONS_RUN, "--trace pattern");
	ok(trace_event_enabled(TRACE_CONN_ACCEPT) && trace_event_enabled(TRACE_CONN_CLOSE) &&
	   !trace_event_enabled(TRACE_REPLY_SENT), "pattern enables the matching events");
	is_int(parse(&o, "-T", "bogus=1", NULL), OPTIONS_EXIT_FAILURE, "bad -T key refused");
	is_int(parse(&o, "-V", "-T", "help", NULL), OPTIONS_EXIT_SUCCESS, "-V -T help");
	ok(strstr(out_text, "prh_conn_accept") == NULL, "options act in order");
	trace_reset();
}

int
main(void)
{
	test_defaults();
	test_paths();
	test_verbosity();
	test_ids();
	test_help_version();
	test_errors();
	test_positional();
	test_max_connections();
	test_trace_option();
	return tap_done();
}
