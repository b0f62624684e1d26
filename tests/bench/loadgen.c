/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * loadgen: a closed-loop load generator for pr-manager-helper sockets, the
 * client side of `make bench`. Each of C connections keeps one request in
 * flight: PERSISTENT RESERVE IN, READ KEYS, with the device fd attached,
 * exactly as QEMU's client sends it; a reply triggers the next request.
 * One thread drives every connection through poll(), so the client's own
 * cost per request stays small and constant.
 *
 *   loadgen -k SOCK -d DEVICE [-c CONNS] [-s SECONDS] [-w WARMUP_S] [-n MAX]
 *       prints: conns=C requests=N seconds=S rps=R p50_us=.. p99_us=..
 *               max_us=.. errors=E
 *       (latencies include, as a lower bound, the requests still
 *       unanswered when the run ends)
 *   loadgen -k SOCK -d DEVICE -c CONNS -r R
 *       a storm: every connection sends R requests back to back (each as
 *       soon as the previous reply is in), all starting at once; prints
 *       conns=C requests=N makespan_us=.. p50_us=.. p99_us=.. max_us=..
 *       errors=E once every reply has arrived
 *   loadgen -k SOCK -i N
 *       opens N idle connections (feature exchange done), prints "ready",
 *       and holds them until stdin closes
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_HDR 104
#define MAX_CONNS 4096

struct client {
	int fd;
	uint8_t buf[REPLY_HDR + 8192];
	size_t have, want;
	uint64_t sent_ns;
	long left;          /* storm: requests still to send */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
dial(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	uint8_t word[4] = { 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    recv(fd, word, 4, MSG_WAITALL) != 4 ||
	    send(fd, word, 4, MSG_NOSIGNAL) != 4) {
		fprintf(stderr, "loadgen: connect %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* PR IN READ KEYS, allocation length 8192, the device fd attached. */
static int
send_request(int fd, int dev)
{
	static const uint8_t cdb[16] = { 0x5e, 0, 0, 0, 0, 0, 0, 0x20, 0x00 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)cdb, .iov_len = 16 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	                      .msg_control = control.buf,
	                      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	if (cm == NULL)
		return -1;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &dev, sizeof(int));
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == 16 ? 0 : -1;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
hold_idle(const char *path, int n)
{
	char c;

	for (int i = 0; i < n; i++)
		dial(path);
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *dev_path = NULL;
	int conns = 1, idle = 0, opt, dev;
	double seconds = 5, warmup = 1;
	long max_requests = 0, storm = 0, pending = 0;
	uint64_t t_last = 0;
	static struct client cl[MAX_CONNS];
	static struct pollfd pfd[MAX_CONNS];
	uint32_t *lat;
	size_t n_lat = 0, cap_lat = 1 << 24;
	long requests = 0, errors = 0;
	uint64_t start, measure_start = 0, end;

	while ((opt = getopt(argc, argv, "k:d:c:s:w:n:i:r:")) != -1) {
		switch (opt) {
		case 'k': sock = optarg; break;
		case 'd': dev_path = optarg; break;
		case 'c': conns = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'n': max_requests = atol(optarg); break;
		case 'i': idle = atoi(optarg); break;
		case 'r': storm = atol(optarg); break;
		default: return 2;
		}
	}
	if (sock == NULL)
		return 2;
	if (idle > 0) {
		hold_idle(sock, idle);
		return 0;
	}
	if (dev_path == NULL || conns < 1 || conns > MAX_CONNS)
		return 2;
	dev = open(dev_path, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "loadgen: open %s: %s\n", dev_path, strerror(errno));
		return 1;
	}
	lat = malloc(cap_lat * sizeof(*lat));
	if (lat == NULL)
		return 1;
	for (int i = 0; i < conns; i++) {
		cl[i].fd = dial(sock);
		cl[i].want = REPLY_HDR;
		pfd[i].fd = cl[i].fd;
		pfd[i].events = POLLIN;
	}
	if (storm > 0) {
		/* No warm-up and no clock: it ends with the last reply. */
		warmup = 0;
		seconds = 3600;
		pending = (long)conns * storm;
	}
	start = now_ns();
	for (int i = 0; i < conns; i++) {
		cl[i].left = storm - 1;
		cl[i].sent_ns = now_ns();
		if (send_request(cl[i].fd, dev) < 0)
			return 1;
	}
	end = start + (uint64_t)((warmup + seconds) * 1e9);
	for (;;) {
		uint64_t t;
		int n;

		if (storm > 0 && pending == 0)
			break;
		n = poll(pfd, (nfds_t)conns, 1000);

		if (n < 0 && errno != EINTR)
			return 1;
		t = now_ns();
		if (measure_start == 0 && t >= start + (uint64_t)(warmup * 1e9))
			measure_start = t;
		if (t >= end || (max_requests > 0 && requests >= max_requests) ||
		    (storm > 0 && pending == 0))
			break;
		for (int i = 0; i < conns && n > 0; i++) {
			struct client *c = &cl[i];
			ssize_t got;

			if (pfd[i].revents == 0)
				continue;
			n--;
			got = recv(c->fd, c->buf + c->have, c->want - c->have, MSG_DONTWAIT);
			if (got <= 0) {
				fprintf(stderr, "loadgen: connection lost\n");
				return 1;
			}
			c->have += (size_t)got;
			if (c->have == REPLY_HDR && c->want == REPLY_HDR) {
				uint32_t size = (uint32_t)c->buf[4] << 24 | c->buf[5] << 16 |
				                c->buf[6] << 8 | c->buf[7];
				c->want += size;
			}
			if (c->have < c->want)
				continue;
			if (c->buf[3] != 0x02 && c->buf[3] != 0x00)
				errors++;
			t = now_ns();
			if (measure_start != 0) {
				requests++;
				if (n_lat < cap_lat)
					lat[n_lat++] = (uint32_t)((t - c->sent_ns) / 1000);
			}
			c->have = 0;
			c->want = REPLY_HDR;
			c->sent_ns = t;
			if (storm > 0) {
				if (--pending == 0)
					t_last = t;
				if (c->left == 0) {
					c->sent_ns = UINT64_MAX;     /* done */
					pfd[i].fd = -1;
					continue;
				}
				c->left--;
			}
			if (send_request(c->fd, dev) < 0)
				return 1;
		}
	}

	if (storm > 0) {
		uint64_t t_end = pending == 0 ? t_last : now_ns();

		qsort(lat, n_lat, sizeof(*lat), cmp_u32);
		printf("conns=%d requests=%ld makespan_us=%llu p50_us=%u p99_us=%u "
		       "max_us=%u errors=%ld\n", conns, requests,
		       (unsigned long long)((t_end - start) / 1000),
		       n_lat ? lat[n_lat / 2] : 0, n_lat ? lat[n_lat * 99 / 100] : 0,
		       n_lat ? lat[n_lat - 1] : 0, errors);
		return pending == 0 ? 0 : 1;
	}
	{
		uint64_t t_end = now_ns();
		double elapsed = (double)(t_end - measure_start) / 1e9;

		/* A request still unanswered at the end has waited at least this
		 * long: count it, or a server that starves some connections
		 * would show a better tail than one that serves all of them. */
		for (int i = 0; i < conns; i++) {
			if (n_lat < cap_lat && cl[i].sent_ns < t_end)
				lat[n_lat++] = (uint32_t)((t_end - cl[i].sent_ns) / 1000);
		}

		qsort(lat, n_lat, sizeof(*lat), cmp_u32);
		printf("conns=%d requests=%ld seconds=%.3f rps=%.0f p50_us=%u p99_us=%u "
		       "max_us=%u errors=%ld\n", conns, requests, elapsed,
		       requests / elapsed, n_lat ? lat[n_lat / 2] : 0,
		       n_lat ? lat[n_lat * 99 / 100] : 0, n_lat ? lat[n_lat - 1] : 0,
		       errors);
	}
	return 0;
}
