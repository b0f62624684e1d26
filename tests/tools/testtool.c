/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testtool: small actions the integration tests need and the shell lacks.
 *
 *   testtool stale PATH
 *       leave a socket file at PATH that nobody listens on
 *   testtool activate [--fds N] [--wrong-pid] [--no-listen] [--dgram]
 *                     PATH PROGRAM [ARG]...
 *       systemd-style socket activation: a listening Unix socket bound to
 *       PATH on fd 3 (extra ones on 4.. for --fds N), LISTEN_FDS=N and
 *       LISTEN_PID set to this process (which exec keeps), then exec
 *   testtool nofile N PROGRAM [ARG]...
 *       exec PROGRAM with RLIMIT_NOFILE set to N
 *   testtool churn PATH N
 *       N connect/close cycles on a helper socket, cycling through ways to
 *       leave: at once, after reading the feature word, after sending it,
 *       and with a reset (SO_LINGER 0); prints the number of failures
 *   testtool syslog PATH OUTFILE SECONDS
 *       a syslog daemon stand-in: receive datagrams on PATH for SECONDS,
 *       append each to OUTFILE as one line
 *   testtool syscalls helper|opener
 *       the names on that process's seccomp allow-list, one per line, as
 *       built for this architecture (t_syscalls compares them with a trace)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

static int
bind_at(const char *path, int type)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type, 0);

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "testtool: path too long\n");
		exit(99);
	}
	strcpy(a.sun_path, path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "testtool: bind %s: %s\n", path, strerror(errno));
		exit(99);
	}
	return fd;
}

static int
activate(int argc, char **argv)
{
	int n_fds = 1, type = SOCK_STREAM, i = 0;
	bool wrong_pid = false, do_listen = true;
	char value[32];

	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		if (strcmp(argv[i], "--fds") == 0 && i + 1 < argc)
			n_fds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--wrong-pid") == 0)
			wrong_pid = true;
		else if (strcmp(argv[i], "--no-listen") == 0)
			do_listen = false;
		else if (strcmp(argv[i], "--dgram") == 0)
			type = SOCK_DGRAM;
		else
			return 2;
		i++;
	}
	if (argc - i < 2)
		return 2;
	for (int k = 0; k < n_fds; k++) {
		char path[256];
		int fd;

		snprintf(path, sizeof(path), k == 0 ? "%s" : "%s.%d", argv[i], k);
		fd = bind_at(path, type);
		if (do_listen && type == SOCK_STREAM && listen(fd, 16) < 0)
			return 99;
		if (fd != 3 + k) {
			if (dup2(fd, 3 + k) < 0)
				return 99;
			close(fd);
		}
	}
	snprintf(value, sizeof(value), "%d", n_fds);
	setenv("LISTEN_FDS", value, 1);
	snprintf(value, sizeof(value), "%ld", (long)getpid() + (wrong_pid ? 1 : 0));
	setenv("LISTEN_PID", value, 1);
	setenv("LISTEN_FDNAMES", "pr-helper", 1);
	execv(argv[i + 1], argv + i + 1);
	fprintf(stderr, "testtool: exec %s: %s\n", argv[i + 1], strerror(errno));
	return 99;
}

static int
fake_syslog(const char *path, const char *outfile, int seconds)
{
	int fd = bind_at(path, SOCK_DGRAM);
	FILE *out = fopen(outfile, "a");
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	time_t end = time(NULL) + seconds;
	char buf[2048];

	if (out == NULL)
		return 99;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (time(NULL) < end) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n <= 0)
			continue;
		buf[n] = '\0';
		fprintf(out, "%s\n", buf);
		fflush(out);
	}
	return 0;
}

static int
churn(const char *path, long n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	long failures = 0;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		char word[4] = { 0 };

		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			failures++;
			if (fd >= 0)
				close(fd);
			continue;
		}
		switch (i % 4) {
		case 0:
			break;
		case 1:
			if (recv(fd, word, sizeof(word), MSG_WAITALL) != 4)
				failures++;
			break;
		case 2:
			if (send(fd, word, sizeof(word), MSG_NOSIGNAL) != 4)
				failures++;
			break;
		case 3: {
			struct linger l = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			break;
		}
		}
		close(fd);
	}
	printf("%ld\n", failures);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "churn") == 0)
		return churn(argv[2], atol(argv[3]));
	if (argc == 5 && strcmp(argv[1], "syslog") == 0)
		return fake_syslog(argv[2], argv[3], atoi(argv[4]));
	if (argc == 3 && strcmp(argv[1], "syscalls") == 0) {
		unsigned n;
		const struct sandbox_call *calls =
			sandbox_calls(strcmp(argv[2], "opener") == 0, &n);

		for (unsigned i = 0; i < n; i++)
			printf("%s\n", calls[i].name);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "stale") == 0) {
		bind_at(argv[2], SOCK_STREAM);
		return 0;       /* exit without unlink: the file stays, stale */
	}
	if (argc >= 2 && strcmp(argv[1], "activate") == 0)
		return activate(argc - 2, argv + 2);
	if (argc >= 4 && strcmp(argv[1], "nofile") == 0) {
		struct rlimit rl = { .rlim_cur = (rlim_t)atol(argv[2]),
		                     .rlim_max = (rlim_t)atol(argv[2]) };

		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 99;
		execv(argv[3], argv + 3);
		return 99;
	}
	fprintf(stderr, "usage: testtool stale PATH | activate ... | nofile N PROG... | syscalls helper|opener\n");
	return 2;
}
