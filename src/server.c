/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.c: owns poll() and the tables of the loop: one pollfd per slot
 * (signal pipe, worker wake-up eventfd, listener, then one per connection),
 * the connection slots, and the request buffers. Only this thread touches
 * them. A connection handed to a worker has its pollfd disabled (fd -1)
 * until it comes back, so the loop never races a worker on a socket.
 * Nothing a client does can end the loop; only a stop signal or a failure
 * of poll() itself does.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "server.h"
#include "sgio.h"
#include "sig.h"
#include "sock.h"
#include "trace.h"
#include "worker.h"

enum {
	PFD_SIGNAL,
	PFD_WAKE,
	PFD_LISTEN,
	PFD_FIRST_CONN
};

/* At most this many accepts per loop iteration, so a connection storm
 * cannot starve requests already in progress. */
#define ACCEPT_BURST 64

/* Free request buffers kept for reuse (2 MiB at most); more are returned
 * to malloc. Returning them costs page faults and zeroing on every later
 * request: with 256 busy clients that halved the throughput. Once no
 * buffer has been taken for BUFFER_IDLE_TRIM_MS, all but BUFFER_KEEP_IDLE
 * go back, so that memory after a storm returns to its idle level. */
#define BUFFER_CACHE 256
#define BUFFER_KEEP_IDLE 4
#define BUFFER_IDLE_TRIM_MS 1000

struct server {
	struct listener *listener;
	struct workers *workers;
	int wake_fd;
	struct pollfd *pfds;
	struct conn **conns;           /* by slot */
	unsigned *free_slots;          /* stack; lowest slot on top */
	unsigned n_free_slots;
	unsigned max_conns;
	unsigned n_conns;
	unsigned n_slots_used;         /* slots [0, n) may be in use */
	uint8_t *buffers[BUFFER_CACHE];
	unsigned n_buffers;
	uint64_t buffer_used_ms;       /* last time a buffer was taken */
	bool stopping;
	bool accept_full;              /* listener paused: table full */
	bool accept_starved;           /* listener paused: out of fds */
	uint64_t accept_retry_ms;
	uint64_t drain_deadline_ms;
	/* Requests completed in this loop iteration, submitted together. */
	struct conn *submit_head, *submit_tail;
	unsigned n_submit;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint8_t *
get_buffer(void *ctx)
{
	struct server *s = ctx;

	s->buffer_used_ms = now_ms();
	if (s->n_buffers > 0)
		return s->buffers[--s->n_buffers];
	return malloc(PRH_MAX_DATA);
}

static void
put_buffer(struct server *s, uint8_t *buf)
{
	if (buf == NULL)
		return;
	if (s->n_buffers < BUFFER_CACHE)
		s->buffers[s->n_buffers++] = buf;
	else
		free(buf);
}

static void
update_listener_poll(struct server *s)
{
	bool paused = s->stopping || s->accept_full || s->accept_starved ||
	              s->listener->fd < 0;

	s->pfds[PFD_LISTEN].fd = paused ? -1 : s->listener->fd;
	s->pfds[PFD_LISTEN].events = POLLIN;
}

static void
close_conn(struct server *s, struct conn *c)
{
	unsigned slot = c->slot;

	TRACE(TRACE_CONN_CLOSE, "fd=%d reason=\"%s\"", c->fd,
	      c->close_reason != NULL ? c->close_reason : "helper stopping");
	log_debug("client fd %d (pid %ld) closed: %s", c->fd, (long)c->peer_pid,
	          c->close_reason != NULL ? c->close_reason : "helper stopping");
	conn_close_fds(c);
	put_buffer(s, c->data);
	free(c);

	s->conns[slot] = NULL;
	s->pfds[PFD_FIRST_CONN + slot].fd = -1;
	s->pfds[PFD_FIRST_CONN + slot].revents = 0;
	s->free_slots[s->n_free_slots++] = slot;
	s->n_conns--;
	while (s->n_slots_used > 0 && s->conns[s->n_slots_used - 1] == NULL)
		s->n_slots_used--;

	/* A slot or an fd is free again: let the listener try. */
	s->accept_full = false;
	s->accept_starved = false;
	update_listener_poll(s);
}

/* Act on what conn_advance() (or a worker) decided. */
static void
apply(struct server *s, struct conn *c, enum conn_next next)
{
	struct pollfd *pfd = &s->pfds[PFD_FIRST_CONN + c->slot];

	switch (next) {
	case CONN_NEXT_READ:
		/* Between requests: give the buffer back; when stopping, a
		 * connection with nothing in flight is simply closed. */
		if (c->state == CONN_RECV_CDB && c->done == 0 && c->dev_fd < 0) {
			put_buffer(s, c->data);
			c->data = NULL;
			if (s->stopping) {
				close_conn(s, c);
				return;
			}
		}
		pfd->fd = c->fd;
		pfd->events = POLLIN;
		break;
	case CONN_NEXT_WRITE:
		pfd->fd = c->fd;
		pfd->events = POLLOUT;
		break;
	case CONN_NEXT_EXECUTE:
		pfd->fd = -1;
		c->in_worker = true;
		c->next = NULL;
		if (s->submit_tail != NULL)
			s->submit_tail->next = c;
		else
			s->submit_head = c;
		s->submit_tail = c;
		s->n_submit++;
		break;
	case CONN_NEXT_CLOSE:
		close_conn(s, c);
		break;
	}
}

static void
accept_clients(struct server *s)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct conn *c;
		unsigned slot;
		int fd;

		if (s->n_conns == s->max_conns) {
			if (!s->accept_full)
				log_info("%u connections: not accepting more until one closes",
				         s->max_conns);
			s->accept_full = true;
			break;
		}
		fd = accept4(s->listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				log_warn("cannot accept connections: %s; pausing",
				         strerror(errno));
				s->accept_starved = true;
				s->accept_retry_ms = now_ms() + SERVER_ACCEPT_RETRY_MS;
				break;
			}
			log_warn("accept: %s", strerror(errno));
			break;
		}
		c = malloc(sizeof(*c));
		if (c == NULL) {
			log_warn("out of memory for a new connection");
			close(fd);
			continue;
		}
		conn_init(c, fd);
		slot = s->free_slots[--s->n_free_slots];
		c->slot = slot;
		s->conns[slot] = c;
		s->n_conns++;
		if (slot + 1 > s->n_slots_used)
			s->n_slots_used = slot + 1;
		s->pfds[PFD_FIRST_CONN + slot].revents = 0;

		TRACE(TRACE_CONN_ACCEPT, "fd=%d pid=%ld uid=%ld gid=%ld", fd,
		      (long)c->peer_pid, (long)c->peer_uid, (long)c->peer_gid);
		log_info("client connected: fd %d, pid %ld, uid %ld, gid %ld", fd,
		         (long)c->peer_pid, (long)c->peer_uid, (long)c->peer_gid);
		apply(s, c, conn_advance(c, get_buffer, s));
	}
	update_listener_poll(s);
}

static void
collect_completions(struct server *s)
{
	uint64_t count;
	struct conn *c, *next;

	if (read(s->wake_fd, &count, sizeof(count)) < 0) {
		/* EAGAIN: another pass already drained it */
	}
	for (c = workers_collect(s->workers); c != NULL; c = next) {
		next = c->next;
		c->next = NULL;
		c->in_worker = false;
		switch (c->state) {
		case CONN_RECV_CDB:
		case CONN_RECV_PARAMS:
			apply(s, c, CONN_NEXT_READ);
			break;
		case CONN_SEND_REPLY:
			apply(s, c, CONN_NEXT_WRITE);
			break;
		default:
			apply(s, c, CONN_NEXT_CLOSE);
			break;
		}
	}
}

/* SIGTERM/SIGINT/SIGHUP: no new clients, no new requests; what runs
 * finishes and its reply is written. */
static void
begin_stop(struct server *s, int signo)
{
	log_info("signal %d: stopping", signo);
	s->stopping = true;
	workers_quiesce(s->workers);
	s->drain_deadline_ms = now_ms() + (uint64_t)SERVER_STOP_DRAIN_S * 1000u;
	sock_close(s->listener);
	update_listener_poll(s);
	for (unsigned slot = 0; slot < s->n_slots_used; slot++) {
		struct conn *c = s->conns[slot];

		if (c == NULL || c->in_worker)
			continue;
		/* A request not yet complete has not started: drop it. A
		 * connection with its reply still being written keeps going. */
		if (c->state != CONN_SEND_REPLY)
			close_conn(s, c);
	}
}

/* How long poll() may sleep: NULL for ever. Microseconds, because the
 * pool looks again WORKERS_BLOCKED_US after requests started waiting, and
 * poll()'s milliseconds would double that. */
static struct timespec *
poll_timeout(struct server *s, struct timespec *ts)
{
	uint64_t now = now_ms(), until = UINT64_MAX, wait_us;
	int workers_us = workers_maintain(s->workers);

	if (s->accept_starved && s->accept_retry_ms < until)
		until = s->accept_retry_ms;
	if (s->stopping && s->drain_deadline_ms < until)
		until = s->drain_deadline_ms;
	if (s->n_buffers > BUFFER_KEEP_IDLE &&
	    s->buffer_used_ms + BUFFER_IDLE_TRIM_MS < until)
		until = s->buffer_used_ms + BUFFER_IDLE_TRIM_MS;
	if (until == UINT64_MAX && workers_us < 0)
		return NULL;
	wait_us = until == UINT64_MAX ? UINT64_MAX : until > now ? (until - now) * 1000u : 0;
	if (workers_us >= 0 && (uint64_t)workers_us < wait_us)
		wait_us = (uint64_t)workers_us;
	ts->tv_sec = (time_t)(wait_us / 1000000u);
	ts->tv_nsec = (long)(wait_us % 1000000u) * 1000L;
	return ts;
}

static void
check_timers(struct server *s)
{
	uint64_t now = now_ms();

	if (s->accept_starved && now >= s->accept_retry_ms) {
		s->accept_starved = false;
		update_listener_poll(s);
	}
	/* Quiet for a while: give the buffers of the last burst back. */
	if (s->n_buffers > BUFFER_KEEP_IDLE &&
	    now >= s->buffer_used_ms + BUFFER_IDLE_TRIM_MS) {
		while (s->n_buffers > BUFFER_KEEP_IDLE)
			free(s->buffers[--s->n_buffers]);
	}
	/* Clients that do not read their replies do not hold up the exit;
	 * requests still running on a device do (SG_IO has its own timeout). */
	if (s->stopping && now >= s->drain_deadline_ms) {
		for (unsigned slot = 0; slot < s->n_slots_used; slot++) {
			struct conn *c = s->conns[slot];

			if (c != NULL && !c->in_worker && c->state == CONN_SEND_REPLY) {
				c->close_reason = "reply not read before the stop deadline";
				close_conn(s, c);
			}
		}
	}
}

struct server *
server_start(struct listener *listener, int sig_fd, unsigned max_conns,
             unsigned max_threads)
{
	size_t n_pfds = PFD_FIRST_CONN + (size_t)max_conns;
	struct server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		log_error("out of memory");
		return NULL;
	}
	s->listener = listener;
	s->max_conns = max_conns;
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0) {
		log_error("cannot create eventfd: %s", strerror(errno));
		goto fail;
	}
	s->pfds = calloc(n_pfds, sizeof(*s->pfds));
	s->conns = calloc(max_conns, sizeof(*s->conns));
	s->free_slots = calloc(max_conns, sizeof(*s->free_slots));
	if (s->pfds == NULL || s->conns == NULL || s->free_slots == NULL) {
		log_error("cannot allocate tables for %u connections", max_conns);
		goto fail;
	}
	for (size_t i = 0; i < n_pfds; i++)
		s->pfds[i].fd = -1;
	for (unsigned i = 0; i < max_conns; i++)
		s->free_slots[i] = max_conns - 1 - i;
	s->n_free_slots = max_conns;
	s->pfds[PFD_SIGNAL].fd = sig_fd;
	s->pfds[PFD_SIGNAL].events = POLLIN;
	s->pfds[PFD_WAKE].fd = s->wake_fd;
	s->pfds[PFD_WAKE].events = POLLIN;
	update_listener_poll(s);

	sgio_init();
	s->workers = workers_start(s->wake_fd, max_threads);
	if (s->workers == NULL)
		goto fail;
	return s;
fail:
	server_stop(s);
	return NULL;
}

void
server_stop(struct server *s)
{
	if (s == NULL)
		return;
	workers_stop(s->workers);
	while (s->n_buffers > 0)
		free(s->buffers[--s->n_buffers]);
	free(s->pfds);
	free(s->conns);
	free(s->free_slots);
	if (s->wake_fd > 0)
		close(s->wake_fd);
	free(s);
}

int
server_run(struct server *s)
{
	while (!(s->stopping && s->n_conns == 0)) {
		struct timespec ts;
		int n = ppoll(s->pfds, PFD_FIRST_CONN + s->n_slots_used,
		              poll_timeout(s, &ts), NULL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			return -1;
		}
		if (s->pfds[PFD_SIGNAL].revents != 0) {
			int signo = sig_drain();

			if (signo != 0 && !s->stopping)
				begin_stop(s, signo);
		}
		if (s->pfds[PFD_WAKE].revents != 0)
			collect_completions(s);
		if (s->pfds[PFD_LISTEN].fd >= 0 && s->pfds[PFD_LISTEN].revents != 0)
			accept_clients(s);
		for (unsigned slot = 0; slot < s->n_slots_used; slot++) {
			struct pollfd *pfd = &s->pfds[PFD_FIRST_CONN + slot];
			struct conn *c = s->conns[slot];

			if (c == NULL || pfd->fd < 0 || pfd->revents == 0)
				continue;
			pfd->revents = 0;
			apply(s, c, conn_advance(c, get_buffer, s));
		}
		/* One hand-over for every request this pass completed. */
		if (s->n_submit > 0) {
			workers_submit(s->workers, s->submit_head, s->submit_tail, s->n_submit);
			s->submit_head = s->submit_tail = NULL;
			s->n_submit = 0;
		}
		check_timers(s);
	}
	return 0;
}
