/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * startup: how long a helper takes to become useful, for `make bench`.
 *
 *   startup ready RUNS SOCKET HELPER [ARG]...
 *       RUNS times: exec HELPER ARG... and connect to SOCKET in a tight
 *       loop until a feature exchange completes; then stop the helper with
 *       SIGTERM and wait for it. Prints the median, minimum and maximum
 *       time from fork to that first completed exchange, in microseconds.
 *   startup daemon RUNS PIDFILE HELPER [ARG]...
 *       RUNS times: run HELPER ARG... (which must daemonize) and time until
 *       the command exits; then stop the daemon named in PIDFILE.
 *
 * With STARTUP_CPU=N in the environment the helper runs on CPU N (set in
 * the child before exec, so no extra program is timed). Between connection
 * attempts the tool sleeps 20 µs, so it can share the helper's CPU without
 * slowing it: a start on an idle CPU of a VM otherwise measures how long
 * the host takes to wake that CPU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int
handshake(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	uint8_t word[4] = { 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), ok;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	     recv(fd, word, 4, MSG_WAITALL) == 4 &&
	     send(fd, word, 4, MSG_NOSIGNAL) == 4;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int
cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Stop a daemon: SIGTERM, then SIGKILL after a second if need be, and wait
 * until it is gone (it is not our child: after exiting it stays a zombie
 * until PID 1 reaps it). */
static void
stop_daemon(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 1000 && kill(pid, 0) == 0; i++)
		usleep(1000);
	if (kill(pid, 0) == 0) {
		kill(pid, SIGKILL);
		while (kill(pid, 0) == 0)
			usleep(1000);
	}
}

int
main(int argc, char **argv)
{
	uint64_t t[1000];
	int runs;

	if (argc < 5)
		return 2;
	runs = atoi(argv[2]);
	if (runs < 1 || runs > 1000)
		return 2;
	for (int i = 0; i < runs; i++) {
		uint64_t start = now_us();
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			const char *cpu = getenv("STARTUP_CPU");

			if (cpu != NULL) {
				cpu_set_t set;

				CPU_ZERO(&set);
				CPU_SET(atoi(cpu), &set);
				sched_setaffinity(0, sizeof(set), &set);
			}
			execv(argv[4], argv + 4);
			_exit(127);
		}
		if (strcmp(argv[1], "ready") == 0) {
			while (!handshake(argv[3])) {
				struct timespec pause = { 0, 20000 };

				if (waitpid(pid, &status, WNOHANG) == pid) {
					fprintf(stderr, "startup: helper exited\n");
					return 1;
				}
				/* Yield the CPU to the helper starting up. */
				nanosleep(&pause, NULL);
			}
			t[i] = now_us() - start;
			kill(pid, SIGTERM);
			waitpid(pid, &status, 0);
		} else {
			FILE *f;
			long daemon_pid = 0;

			waitpid(pid, &status, 0);
			t[i] = now_us() - start;
			/* The daemon may still be on its way up (QEMU's -d does not
			 * wait): stop it once it has written its pid file. */
			for (int tries = 0; tries < 5000 && daemon_pid <= 0; tries++) {
				f = fopen(argv[3], "r");
				if (f != NULL) {
					if (fscanf(f, "%ld", &daemon_pid) != 1)
						daemon_pid = 0;
					fclose(f);
				}
				if (daemon_pid <= 0)
					usleep(1000);
			}
			if (daemon_pid > 0)
				stop_daemon((pid_t)daemon_pid);
			unlink(argv[3]);
		}
	}
	qsort(t, (size_t)runs, sizeof(t[0]), cmp);
	printf("median_us=%llu min_us=%llu max_us=%llu runs=%d\n",
	       (unsigned long long)t[runs / 2], (unsigned long long)t[0],
	       (unsigned long long)t[runs - 1], runs);
	return 0;
}
