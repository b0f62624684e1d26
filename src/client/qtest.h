/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * qtest.h: a client of QEMU's qtest protocol (the `-qtest` socket), the
 * test back door through which a program reads and writes a stopped
 * guest's memory, I/O ports and PCI configuration space. prh-client uses
 * it to play the guest: it drives QEMU's virtio-scsi controller so that a
 * PR command takes the same path through QEMU as one a guest kernel sends.
 *
 * The protocol is text lines: a command ("outw 0xc010 0x2", "read 0x1000
 * 0x10") answered by "OK [VALUE]" or "FAIL ...". Lines starting with "IRQ"
 * are asynchronous notices and are skipped.
 */
#ifndef PRH_CLIENT_QTEST_H
#define PRH_CLIENT_QTEST_H

#include <stddef.h>
#include <stdint.h>

struct qtest {
	int fd;
	int timeout_ms;         /* per reply line */
	char line[2 * 65536 + 64];  /* one reply line: "OK 0x" + hex of 64 KiB */
	size_t have;            /* bytes buffered in rx */
	char rx[4096];
};

/* Connect to QEMU's qtest socket (QEMU is the server), retrying for up to
 * wait_ms while the socket does not exist yet or refuses. 0 or -1 (with a
 * message on stderr). */
int qtest_connect(struct qtest *q, const char *path, int wait_ms, int timeout_ms);
void qtest_close(struct qtest *q);

/* I/O ports: width 1, 2 or 4 bytes. */
int qtest_out(struct qtest *q, unsigned width, uint32_t port, uint32_t value);
int qtest_in(struct qtest *q, unsigned width, uint32_t port, uint32_t *value);

/* Guest physical memory: whole buffers, and little 16/32-bit values (the
 * guest's own byte order, which is how virtio rings are laid out). */
int qtest_write(struct qtest *q, uint64_t addr, const void *buf, size_t len);
int qtest_read(struct qtest *q, uint64_t addr, void *buf, size_t len);
int qtest_zero(struct qtest *q, uint64_t addr, size_t len);
int qtest_readw(struct qtest *q, uint64_t addr, uint16_t *value);
int qtest_writew(struct qtest *q, uint64_t addr, uint16_t value);

/* PCI configuration space of bus 0 (configuration mechanism #1). */
int qtest_pci_read(struct qtest *q, unsigned slot, unsigned reg, unsigned width,
                   uint32_t *value);
int qtest_pci_write(struct qtest *q, unsigned slot, unsigned reg, unsigned width,
                    uint32_t value);

#endif /* PRH_CLIENT_QTEST_H */
