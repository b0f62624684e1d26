/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vscsi.c: the virtio-scsi guest driver of vscsi.h, over qtest. Legacy
 * virtio-pci (virtio 0.9.5): registers in I/O BAR 0, the split ring of one
 * queue in guest memory at a page frame number, little-endian (x86 guest).
 * Layouts follow the virtio specification; the addresses below are guest
 * RAM the stopped guest never uses.
 */
#include "vscsi.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Legacy virtio-pci registers (offsets in BAR 0). Without MSI-X enabled,
 * the device configuration starts at 20. */
#define REG_HOST_FEATURES  0
#define REG_GUEST_FEATURES 4
#define REG_QUEUE_PFN      8
#define REG_QUEUE_NUM      12
#define REG_QUEUE_SEL      14
#define REG_QUEUE_NOTIFY   16
#define REG_STATUS         18
#define REG_CONFIG         20

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER      2
#define STATUS_DRIVER_OK   4

/* virtio-scsi configuration fields (offsets from REG_CONFIG). */
#define CFG_SENSE_SIZE     20
#define CFG_CDB_SIZE       24

/* Queues: 0 control, 1 events, 2 the first request queue. */
#define REQUEST_QUEUE      2

#define PCI_VENDOR_VIRTIO  0x1af4
#define PCI_DEVICE_SCSI_LEGACY 0x1004  /* transitional virtio-scsi */
#define PCI_COMMAND        0x04
#define PCI_COMMAND_IO     0x1
#define PCI_COMMAND_MASTER 0x4
#define PCI_BAR0           0x10
#define IO_BAR_BASE        0xc000u  /* + slot * 0x100 */

#define DESC_F_NEXT        1
#define DESC_F_WRITE       2

/* Guest physical memory the driver uses (the machine has >= 128 MiB). */
#define RING_ADDR          0x100000u  /* page aligned; up to 64 KiB */
#define REQ_ADDR           0x110000u
#define RESP_ADDR          0x111000u
#define DATA_OUT_ADDR      0x120000u
#define DATA_IN_ADDR       0x130000u

#define PAGE               4096u

/* The split ring's parts for a queue of n entries (legacy layout: the
 * used ring starts on the next page after the available ring). */
static uint64_t desc_addr(void) { return RING_ADDR; }
static uint64_t avail_addr(uint16_t n) { return RING_ADDR + 16u * n; }
static uint64_t
used_addr(uint16_t n)
{
	uint64_t end = avail_addr(n) + 2u * (3u + n);

	return (end + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

static void
put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = bytes; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

static int
find_controller(struct vscsi *v)
{
	for (unsigned slot = 0; slot < 32; slot++) {
		uint32_t id;

		if (qtest_pci_read(v->q, slot, 0, 4, &id) < 0)
			return -1;
		if ((id & 0xffff) == PCI_VENDOR_VIRTIO && id >> 16 == PCI_DEVICE_SCSI_LEGACY) {
			v->slot = slot;
			return 0;
		}
	}
	fprintf(stderr, "prh-client: no legacy virtio-scsi controller on PCI bus 0\n");
	return -1;
}

static int
reg_out(struct vscsi *v, unsigned width, unsigned reg, uint32_t value)
{
	return qtest_out(v->q, width, v->iobase + reg, value);
}

static int
reg_in(struct vscsi *v, unsigned width, unsigned reg, uint32_t *value)
{
	return qtest_in(v->q, width, v->iobase + reg, value);
}

static int
set_up(struct vscsi *v)
{
	uint32_t num, command;

	/* Our own I/O BAR address: the firmware never ran. */
	v->iobase = (uint16_t)(IO_BAR_BASE + v->slot * 0x100);
	if (qtest_pci_write(v->q, v->slot, PCI_BAR0, 4, v->iobase) < 0 ||
	    qtest_pci_read(v->q, v->slot, PCI_COMMAND, 2, &command) < 0 ||
	    qtest_pci_write(v->q, v->slot, PCI_COMMAND, 2,
	                    command | PCI_COMMAND_IO | PCI_COMMAND_MASTER) < 0)
		return -1;
	/* Reset, then the legacy initialisation sequence. */
	if (reg_out(v, 1, REG_STATUS, 0) < 0 ||
	    reg_out(v, 1, REG_STATUS, STATUS_ACKNOWLEDGE) < 0 ||
	    reg_out(v, 1, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER) < 0 ||
	    reg_out(v, 4, REG_GUEST_FEATURES, 0) < 0 ||
	    reg_out(v, 2, REG_QUEUE_SEL, REQUEST_QUEUE) < 0 ||
	    reg_in(v, 2, REG_QUEUE_NUM, &num) < 0)
		return -1;
	if (num == 0 || num > 1024 || used_addr((uint16_t)num) + 6 + 8 * num > REQ_ADDR) {
		fprintf(stderr, "prh-client: unusable request queue size %u\n", num);
		return -1;
	}
	if (qtest_zero(v->q, RING_ADDR, REQ_ADDR - RING_ADDR) < 0 ||
	    reg_out(v, 4, REG_QUEUE_PFN, RING_ADDR / PAGE) < 0 ||
	    reg_out(v, 1, REG_STATUS,
	            STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK) < 0)
		return -1;
	return 0;
}

int
vscsi_open(struct vscsi *v, struct qtest *q, bool reset)
{
	uint32_t bar, status, pfn, num, sense_size, cdb_size;

	memset(v, 0, sizeof(*v));
	v->q = q;
	if (find_controller(v) < 0)
		return -1;
	if (reset && set_up(v) < 0)
		return -1;
	if (qtest_pci_read(q, v->slot, PCI_BAR0, 4, &bar) < 0)
		return -1;
	v->iobase = (uint16_t)(bar & ~3u);
	status = 0;
	pfn = 0;
	if ((bar & 1) && v->iobase != 0 &&
	    (reg_in(v, 1, REG_STATUS, &status) < 0 ||
	     reg_out(v, 2, REG_QUEUE_SEL, REQUEST_QUEUE) < 0 ||
	     reg_in(v, 4, REG_QUEUE_PFN, &pfn) < 0 || reg_in(v, 2, REG_QUEUE_NUM, &num) < 0))
		return -1;
	if (!(status & STATUS_DRIVER_OK) || pfn != RING_ADDR / PAGE) {
		fprintf(stderr, "prh-client: the virtio-scsi controller is not set up "
		        "(status 0x%x); run the 'init' command first\n", status);
		return -1;
	}
	if (reg_in(v, 4, REG_CONFIG + CFG_SENSE_SIZE, &sense_size) < 0 ||
	    reg_in(v, 4, REG_CONFIG + CFG_CDB_SIZE, &cdb_size) < 0)
		return -1;
	if (cdb_size < 16 || cdb_size > 255 || sense_size > 255) {
		fprintf(stderr, "prh-client: odd virtio-scsi configuration (cdb %u, sense %u)\n",
		        cdb_size, sense_size);
		return -1;
	}
	v->queue_size = (uint16_t)num;
	v->sense_size = sense_size;
	v->cdb_size = cdb_size;
	return 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Descriptor i of the table: buffer, length, flags, next. */
static int
put_desc(struct vscsi *v, unsigned i, uint64_t addr, size_t len, uint16_t flags,
         unsigned next)
{
	uint8_t d[16];

	put_le(d, addr, 8);
	put_le(d + 8, len, 4);
	put_le(d + 12, flags, 2);
	put_le(d + 14, next, 2);
	return qtest_write(v->q, desc_addr() + 16u * i, d, sizeof(d));
}

/* Chain: request header, [data-out], response, [data-in]; the device reads
 * the first part and writes the second (virtio-scsi 5.6.6.1). */
static int
build_chain(struct vscsi *v, const struct vscsi_cmd *cmd, size_t resp_len)
{
	struct part { uint64_t addr; size_t len; uint16_t flags; } part[4];
	unsigned n = 0;

	part[n++] = (struct part){ REQ_ADDR, 19 + v->cdb_size, 0 };
	if (cmd->data_out_len > 0)
		part[n++] = (struct part){ DATA_OUT_ADDR, cmd->data_out_len, 0 };
	part[n++] = (struct part){ RESP_ADDR, resp_len, DESC_F_WRITE };
	if (cmd->data_in_len > 0)
		part[n++] = (struct part){ DATA_IN_ADDR, cmd->data_in_len, DESC_F_WRITE };
	for (unsigned i = 0; i < n; i++) {
		uint16_t flags = (uint16_t)(part[i].flags | (i + 1 < n ? DESC_F_NEXT : 0));

		if (put_desc(v, i, part[i].addr, part[i].len, flags, i + 1 < n ? i + 1 : 0) < 0)
			return -1;
	}
	return 0;
}

int
vscsi_run(struct vscsi *v, const struct vscsi_cmd *cmd, struct vscsi_result *res)
{
	uint8_t hdr[19 + 255], resp[12 + 255];
	size_t resp_len = 12 + v->sense_size;
	uint16_t avail_idx, used_idx;
	uint16_t n = v->queue_size;
	long long deadline = cmd->timeout_ms < 0 ? -1 : now_ms() + cmd->timeout_ms;

	memset(res->sense, 0, sizeof(res->sense));
	res->data_in_got = 0;
	if (cmd->cdb_len > v->cdb_size || cmd->data_in_len > VSCSI_DATA_MAX ||
	    cmd->data_out_len > VSCSI_DATA_MAX || cmd->lun > 0x3fff || cmd->target > 255)
		return -1;
	if (qtest_readw(v->q, avail_addr(n) + 2, &avail_idx) < 0 ||
	    qtest_readw(v->q, used_addr(n) + 2, &used_idx) < 0)
		return -1;
	if (avail_idx != used_idx) {
		fprintf(stderr, "prh-client: a command is still in flight in QEMU "
		        "(an earlier client gave up waiting); not sending another\n");
		return -1;
	}

	/* The request header: LUN (single-level, flat addressing), tag, task
	 * attribute SIMPLE, priority and CRN 0, the CDB padded to cdb_size. */
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = 1;
	hdr[1] = (uint8_t)cmd->target;
	hdr[2] = (uint8_t)(0x40 | cmd->lun >> 8);
	hdr[3] = (uint8_t)cmd->lun;
	put_le(hdr + 8, avail_idx, 8);
	memcpy(hdr + 19, cmd->cdb, cmd->cdb_len);
	if (qtest_write(v->q, REQ_ADDR, hdr, 19 + v->cdb_size) < 0 ||
	    (cmd->data_out_len > 0 &&
	     qtest_write(v->q, DATA_OUT_ADDR, cmd->data_out, cmd->data_out_len) < 0) ||
	    qtest_zero(v->q, RESP_ADDR, resp_len) < 0 ||
	    (cmd->data_in_len > 0 && qtest_zero(v->q, DATA_IN_ADDR, cmd->data_in_len) < 0) ||
	    build_chain(v, cmd, resp_len) < 0)
		return -1;

	/* Publish the chain (head 0), then ring the doorbell. */
	if (qtest_writew(v->q, avail_addr(n) + 4 + 2u * (avail_idx % n), 0) < 0 ||
	    qtest_writew(v->q, avail_addr(n) + 2, (uint16_t)(avail_idx + 1)) < 0 ||
	    reg_out(v, 2, REG_QUEUE_NOTIFY, REQUEST_QUEUE) < 0)
		return -1;

	/* No interrupts here: poll the used index. */
	for (;;) {
		if (qtest_readw(v->q, used_addr(n) + 2, &used_idx) < 0)
			return -1;
		if (used_idx == (uint16_t)(avail_idx + 1))
			break;
		if (deadline >= 0 && now_ms() >= deadline) {
			fprintf(stderr, "prh-client: no completion from QEMU in %d ms\n",
			        cmd->timeout_ms);
			errno = ETIMEDOUT;
			return -1;
		}
		struct timespec ts = { 0, 1000000L };

		nanosleep(&ts, NULL);
	}

	if (qtest_read(v->q, RESP_ADDR, resp, resp_len) < 0)
		return -1;
	res->sense_len = (uint32_t)get_le(resp, 4);
	res->resid = (uint32_t)get_le(resp + 4, 4);
	res->status = resp[10];
	res->response = resp[11];
	memcpy(res->sense, resp + 12, v->sense_size < VSCSI_SENSE_MAX ? v->sense_size
	                                                              : VSCSI_SENSE_MAX);
	if (res->resid <= cmd->data_in_len)
		res->data_in_got = cmd->data_in_len - res->resid;
	if (res->data_in_got > 0 &&
	    qtest_read(v->q, DATA_IN_ADDR, res->data_in, res->data_in_got) < 0)
		return -1;
	return 0;
}

const char *
vscsi_response_name(uint8_t response)
{
	static const char *const names[] = {
		"OK", "OVERRUN", "ABORTED", "BAD_TARGET", "RESET", "BUSY",
		"TRANSPORT_FAILURE", "TARGET_FAILURE", "NEXUS_FAILURE", "FAILURE",
	};

	return response < sizeof(names) / sizeof(names[0]) ? names[response] : "other";
}
