/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sig.c: owns signal dispositions. The handler does one thing, async-signal
 * safe: it writes the signal number into a pipe that the poll() loop
 * watches, so a signal can never be lost between a flag check and poll().
 * SIGHUP stops the helper like SIGTERM, as in QEMU's helper (there is no
 * configuration to reload).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sig.h"

static int sig_pipe[2] = { -1, -1 };

static const int stop_signals[] = { SIGTERM, SIGINT, SIGHUP };

static void
on_stop_signal(int signo)
{
	int saved_errno = errno;
	unsigned char byte = (unsigned char)signo;

	/* A full pipe already holds a pending stop; dropping this is fine. */
	if (write(sig_pipe[1], &byte, 1) < 0) {
		/* nothing to do in a signal handler */
	}
	errno = saved_errno;
}

int
sig_setup(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		log_error("cannot create signal pipe: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		if (sigaction(stop_signals[i], &sa, NULL) < 0) {
			log_error("cannot install signal handler: %s", strerror(errno));
			return -1;
		}
	}
	/* A client that disconnects while we write its reply must not kill
	 * the helper; writes use MSG_NOSIGNAL as well. */
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	if (sigaction(SIGPIPE, &sa, NULL) < 0) {
		log_error("cannot ignore SIGPIPE: %s", strerror(errno));
		return -1;
	}
	return sig_pipe[0];
}

int
sig_drain(void)
{
	unsigned char buf[16];
	int last = 0;
	ssize_t n;

	while ((n = read(sig_pipe[0], buf, sizeof(buf))) > 0)
		last = buf[n - 1];
	return last;
}

void
sig_block_in_thread(void)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(&set, stop_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}
