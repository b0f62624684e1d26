/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * qtest.c: the qtest line protocol over QEMU's -qtest Unix socket (see
 * qtest.h). One command at a time: write the line, read reply lines until
 * one that is not an asynchronous "IRQ" notice.
 */
#include "qtest.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void
sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
qtest_connect(struct qtest *q, const char *path, int wait_ms, int timeout_ms)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = strlen(path);

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->timeout_ms = timeout_ms;
	if (len >= sizeof(addr.sun_path)) {
		fprintf(stderr, "prh-client: qtest socket path too long\n");
		return -1;
	}
	memcpy(addr.sun_path, path, len);
	/* QEMU creates the socket while it starts: give it wait_ms. */
	for (int waited = 0;; waited += 20) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			q->fd = fd;
			return 0;
		}
		close(fd);
		if ((errno != ENOENT && errno != ECONNREFUSED) || waited >= wait_ms)
			break;
		sleep_ms(20);
	}
	fprintf(stderr, "prh-client: connect to QEMU's qtest socket %s: %s\n", path,
	        strerror(errno));
	return -1;
}

void
qtest_close(struct qtest *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

static int
send_line(struct qtest *q, const char *text, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(q->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "prh-client: qtest send: %s\n", strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* One line into q->line (without the newline). */
static int
read_line(struct qtest *q)
{
	size_t used = 0;

	for (;;) {
		char *nl = memchr(q->rx, '\n', q->have);
		size_t take = nl != NULL ? (size_t)(nl - q->rx) : q->have;

		if (used + take >= sizeof(q->line)) {
			fprintf(stderr, "prh-client: qtest reply line too long\n");
			return -1;
		}
		memcpy(q->line + used, q->rx, take);
		used += take;
		if (nl != NULL) {
			q->have -= take + 1;
			memmove(q->rx, nl + 1, q->have);
			q->line[used] = '\0';
			return 0;
		}
		q->have = 0;

		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		int r = poll(&pfd, 1, q->timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			fprintf(stderr, "prh-client: no qtest reply from QEMU in %d ms\n",
			        q->timeout_ms);
			return -1;
		}
		ssize_t n = r < 0 ? -1 : recv(q->fd, q->rx, sizeof(q->rx), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "prh-client: qtest connection: %s\n",
			        n == 0 ? "closed by QEMU" : strerror(errno));
			return -1;
		}
		q->have = (size_t)n;
	}
}

/* Send a command line and read its answer; on "OK", *value_out (if not
 * NULL) points at the text after "OK " (or at ""), inside q->line. */
static int
command(struct qtest *q, const char **value_out, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text) - 1)
		return -1;
	text[n++] = '\n';
	if (send_line(q, text, (size_t)n) < 0)
		return -1;
	do {
		if (read_line(q) < 0)
			return -1;
	} while (strncmp(q->line, "IRQ", 3) == 0);
	if (strncmp(q->line, "OK", 2) != 0 || (q->line[2] != '\0' && q->line[2] != ' ')) {
		text[n - 1] = '\0';
		fprintf(stderr, "prh-client: qtest '%s': %s\n", text, q->line);
		return -1;
	}
	if (value_out != NULL)
		*value_out = q->line[2] == ' ' ? q->line + 3 : "";
	return 0;
}

static int
parse_value(const char *text, uint64_t *value)
{
	char *end;

	errno = 0;
	*value = strtoull(text, &end, 0);
	if (errno != 0 || end == text) {
		fprintf(stderr, "prh-client: qtest: bad value '%s'\n", text);
		return -1;
	}
	return 0;
}

static char
width_letter(unsigned width)
{
	return width == 1 ? 'b' : width == 2 ? 'w' : 'l';
}

int
qtest_out(struct qtest *q, unsigned width, uint32_t port, uint32_t value)
{
	return command(q, NULL, "out%c 0x%x 0x%x", width_letter(width), port, value);
}

int
qtest_in(struct qtest *q, unsigned width, uint32_t port, uint32_t *value)
{
	const char *text;
	uint64_t v;

	if (command(q, &text, "in%c 0x%x", width_letter(width), port) < 0 ||
	    parse_value(text, &v) < 0)
		return -1;
	*value = (uint32_t)v;
	return 0;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "write ADDR SIZE 0xHEX" in pieces that fit one command line. */
int
qtest_write(struct qtest *q, uint64_t addr, const void *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = buf;

	while (len > 0) {
		char hex[2 * 96 + 1];
		size_t chunk = len < 96 ? len : 96;

		for (size_t i = 0; i < chunk; i++) {
			hex[2 * i] = digits[p[i] >> 4];
			hex[2 * i + 1] = digits[p[i] & 0x0f];
		}
		hex[2 * chunk] = '\0';
		if (command(q, NULL, "write 0x%llx 0x%zx 0x%s", (unsigned long long)addr,
		            chunk, hex) < 0)
			return -1;
		addr += chunk;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

int
qtest_read(struct qtest *q, uint64_t addr, void *buf, size_t len)
{
	uint8_t *p = buf;
	const char *text;

	if (len == 0)
		return 0;
	if (2 * len + 8 > sizeof(q->line) ||
	    command(q, &text, "read 0x%llx 0x%zx", (unsigned long long)addr, len) < 0)
		return -1;
	if (strncmp(text, "0x", 2) != 0 || strlen(text + 2) != 2 * len) {
		fprintf(stderr, "prh-client: qtest read: unexpected answer '%.40s'\n", text);
		return -1;
	}
	text += 2;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
qtest_zero(struct qtest *q, uint64_t addr, size_t len)
{
	return command(q, NULL, "memset 0x%llx 0x%zx 0x0", (unsigned long long)addr, len);
}

int
qtest_readw(struct qtest *q, uint64_t addr, uint16_t *value)
{
	uint8_t b[2];

	if (qtest_read(q, addr, b, sizeof(b)) < 0)
		return -1;
	*value = (uint16_t)(b[0] | b[1] << 8);
	return 0;
}

int
qtest_writew(struct qtest *q, uint64_t addr, uint16_t value)
{
	uint8_t b[2] = { (uint8_t)value, (uint8_t)(value >> 8) };

	return qtest_write(q, addr, b, sizeof(b));
}

/* Configuration mechanism #1: the address at port 0xcf8, data at 0xcfc. */
static uint32_t
pci_address(unsigned slot, unsigned reg)
{
	return 0x80000000u | (slot & 0x1f) << 11 | (reg & 0xfc);
}

int
qtest_pci_read(struct qtest *q, unsigned slot, unsigned reg, unsigned width,
               uint32_t *value)
{
	if (qtest_out(q, 4, 0xcf8, pci_address(slot, reg)) < 0)
		return -1;
	return qtest_in(q, width, 0xcfc + (reg & 3), value);
}

int
qtest_pci_write(struct qtest *q, unsigned slot, unsigned reg, unsigned width,
                uint32_t value)
{
	if (qtest_out(q, 4, 0xcf8, pci_address(slot, reg)) < 0)
		return -1;
	return qtest_out(q, width, 0xcfc + (reg & 3), value);
}
