/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c: the helper's life, in order. Start-up may fail at any step and
 * exits 1, removing whatever this process created; the loop runs until a
 * stop signal; the finish removes the socket and pid file if they are
 * still ours. Each step is one call into the module that owns it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "fdlimit.h"
#include "log.h"
#include "mpath_opener.h"
#include "options.h"
#include "pidfile.h"
#include "prh.h"
#include "priv.h"
#include "sandbox.h"
#include "server.h"
#include "sig.h"
#include "sock.h"
#include "trace.h"

/* Keep fds 0-2 open, so that no socket or device fd can land on them and
 * receive stray output. */
static void
sanitize_std_fds(void)
{
	for (int fd = 0; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", O_RDWR) != fd)
			_exit(PRH_EXIT_FAILURE);
	}
}

/* -u/-g as QEMU's helper takes them, except that -u alone also takes the
 * user's primary group instead of keeping root's. */
static void
target_ids(const struct options *opts, uid_t *uid, gid_t *gid)
{
	*uid = opts->user_given ? opts->uid : getuid();
	if (opts->group_given)
		*gid = opts->gid;
	else if (opts->user_given && opts->user_gid_known)
		*gid = opts->user_gid;
	else
		*gid = getgid();
	if (opts->user_given && !opts->group_given && !opts->user_gid_known)
		log_warn("user %lu has no password entry; keeping group %lu (use -g)",
		         (unsigned long)*uid, (unsigned long)*gid);
}

int
main(int argc, char **argv)
{
	struct options opts;
	struct listener listener = { .fd = -1 };
	struct pidfile pidfile = { .fd = -1 };
	struct server *server = NULL;
	unsigned long n_activated;
	int status = PRH_EXIT_FAILURE;
	int sig_fd;
	uid_t uid;
	gid_t gid;

	/* Phase 1: start-up. Every failure exits 1. */
	sanitize_std_fds();
	switch (options_parse(&opts, argc, argv, stdout, stderr)) {
	case OPTIONS_RUN:
		break;
	case OPTIONS_EXIT_SUCCESS:
		return PRH_EXIT_OK;
	case OPTIONS_EXIT_FAILURE:
		return PRH_EXIT_FAILURE;
	}
	log_init(opts.verbosity);
	target_ids(&opts, &uid, &gid);

	/* LISTEN_PID names this process: check it before -d forks. */
	if (sock_activation_count(&n_activated) < 0)
		return PRH_EXIT_FAILURE;
	if (n_activated > 0 && opts.socket_given) {
		log_error("-k cannot be used with systemd socket activation");
		return PRH_EXIT_FAILURE;
	}
	if (n_activated > 1) {
		log_error("socket activation with LISTEN_FDS=%lu: only one socket is "
		          "supported", n_activated);
		return PRH_EXIT_FAILURE;
	}
	if (trace_open() < 0)
		return PRH_EXIT_FAILURE;
	fdlimit_raise(opts.max_connections);

	/* With -d only the child returns, and the command that started us
	 * waits for daemon_ready() below. */
	if (opts.daemonize && daemon_start() < 0)
		return PRH_EXIT_FAILURE;
	sig_fd = sig_setup();
	if (sig_fd < 0)
		goto finish;
	/* The pid file first: a second instance with the same pid file stops
	 * here, before it goes near the first one's socket. Written before
	 * the privilege drop, so it may live in a root-only directory. */
	if ((opts.daemonize || opts.pidfile_given) &&
	    pidfile_create(&pidfile, opts.pidfile_path) < 0)
		goto finish;
	if (n_activated == 1) {
		if (sock_adopt(&listener, SOCK_ACTIVATION_FIRST_FD) < 0)
			goto finish;
	} else if (sock_create(&listener, opts.socket_path) < 0) {
		goto finish;
	}
	if (priv_drop(uid, gid) < 0)
		goto finish;
	/* Forked now: after the drop (it keeps our uid and gid), while we
	 * have one thread and a small descriptor table, before the sandbox
	 * (which forbids fork). */
	if (opts.multipath && mpath_opener_start(opts.daemonize) < 0)
		goto finish;
	/* The last moment with one thread (and after -d's fork, which
	 * copies only the descriptors in use): see fdlimit.c. */
	fdlimit_reserve_table(opts.max_connections);
	/* Worker threads start here, after the drop: capabilities are per
	 * thread and new threads inherit them from this one. */
	server = server_start(&listener, sig_fd, opts.max_connections,
	                      opts.max_threads);
	if (server == NULL)
		goto finish;
	if (opts.daemonize)
		daemon_ready();
	/* Last: everything that needs more than serving does is done. */
	if (sandbox_enter() < 0)
		goto finish;
	log_info("listening on %s%s", listener.path,
	         listener.activated ? " (socket activation)" : "");

	/* Phase 2: serve until SIGTERM, SIGINT or SIGHUP. */
	if (server_run(server) == 0)
		status = PRH_EXIT_OK;

finish:
	/* Phase 3: remove what is ours. */
	server_stop(server);
	mpath_opener_stop();
	sock_close(&listener);
	pidfile_remove(&pidfile);
	return status;
}
