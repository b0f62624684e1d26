/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for proto.c: CDB checks, the reply encoding, and the status
 * and sense for every errno and host_status row of the reference tables.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "prh.h"
#include "proto.h"
#include "tap.h"

static void
cdb_with(uint8_t cdb[PRH_CDB_SIZE], uint8_t op, unsigned len)
{
	memset(cdb, 0, PRH_CDB_SIZE);
	cdb[0] = op;
	cdb[7] = (uint8_t)(len >> 8);
	cdb[8] = (uint8_t)len;
}

static void
test_cdb(void)
{
	uint8_t cdb[PRH_CDB_SIZE];
	uint16_t len = 0;

	cdb_with(cdb, PRH_OP_PR_IN, 100);
	is_int(proto_check_cdb(cdb, &len), PROTO_OK, "PR IN accepted");
	is_int(len, 100, "PR IN length from bytes 7-8");

	cdb_with(cdb, PRH_OP_PR_OUT, 24);
	cdb[5] = 0xff;
	cdb[6] = 0x01;
	is_int(proto_check_cdb(cdb, &len), PROTO_OK, "PR OUT accepted");
	is_int(len, 24, "PR OUT bytes 5-6 ignored, as QEMU's client computes it");

	cdb_with(cdb, PRH_OP_PR_OUT, 0);
	is_int(proto_check_cdb(cdb, &len), PROTO_OK, "length 0 accepted");
	is_int(len, 0, "length 0");

	cdb_with(cdb, PRH_OP_PR_IN, 8192);
	is_int(proto_check_cdb(cdb, &len), PROTO_OK, "8192 accepted");
	cdb_with(cdb, PRH_OP_PR_IN, 8193);
	is_int(proto_check_cdb(cdb, &len), PROTO_TOO_LONG, "8193 refused (PR IN)");
	cdb_with(cdb, PRH_OP_PR_OUT, 0xffff);
	is_int(proto_check_cdb(cdb, &len), PROTO_TOO_LONG, "65535 refused (PR OUT)");

	cdb_with(cdb, 0x12, 10);
	is_int(proto_check_cdb(cdb, &len), PROTO_BAD_OPCODE, "INQUIRY refused");
	cdb_with(cdb, 0x00, 0);
	is_int(proto_check_cdb(cdb, &len), PROTO_BAD_OPCODE, "opcode 0 refused");
	cdb_with(cdb, 0x12, 9000);
	is_int(proto_check_cdb(cdb, &len), PROTO_BAD_OPCODE,
	       "opcode checked before length");
}

static void
test_encoding(void)
{
	struct proto_reply r;
	uint8_t out[PRH_REPLY_HDR_SIZE], sense[PRH_SENSE_SIZE];
	uint32_t status, size;

	proto_reply_init(&r);
	r.status = 0x18;
	r.size = 0x01020304;
	for (int i = 0; i < PRH_SENSE_SIZE; i++)
		r.sense[i] = (uint8_t)i;
	memset(out, 0xee, sizeof(out));
	proto_encode_reply(&r, out);
	is_mem(out, "\x00\x00\x00\x18\x01\x02\x03\x04", 8,
	       "status and size big-endian");
	ok(out[8] == 0 && out[8 + 95] == 95, "all 96 sense bytes copied");
	proto_decode_reply(out, &status, &size, sense);
	ok(status == 0x18 && size == 0x01020304 && memcmp(sense, r.sense, 96) == 0,
	   "decode inverts encode");
	is_int(PRH_REPLY_HDR_SIZE, 104, "reply header is 104 bytes");
}

static const uint8_t zero96[PRH_SENSE_SIZE];

/* Expect CHECK CONDITION with fixed sense key/asc/ascq, bytes 18-95 zero. */
static void
expect_sense(const struct proto_reply *r, uint8_t key, uint8_t asc, uint8_t ascq,
             const char *what)
{
	uint8_t want[18] = { 0x70, 0, key, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, asc, ascq };

	ok(r->status == PRH_STATUS_CHECK_CONDITION && r->size == 0 &&
	   memcmp(r->sense, want, sizeof(want)) == 0 &&
	   memcmp(r->sense + 18, zero96, 78) == 0,
	   "%s -> CHECK CONDITION %02x/%02x/%02x", what, key, asc, ascq);
}

static void
expect_status(const struct proto_reply *r, uint8_t status, const char *what)
{
	ok(r->status == status && r->size == 0 &&
	   memcmp(r->sense, zero96, sizeof(zero96)) == 0,
	   "%s -> status 0x%02x, no sense", what, status);
}

static void
test_errno(void)
{
	struct proto_reply r;

#define ERRNO_CASE(err) (proto_reply_init(&r), memset(r.sense, 0xaa, 96), \
                         proto_reply_from_errno(&r, err), &r)
	expect_status(ERRNO_CASE(0), PRH_STATUS_GOOD, "errno 0");
	expect_status(ERRNO_CASE(EDOM), PRH_STATUS_TASK_SET_FULL, "EDOM");
	expect_status(ERRNO_CASE(EBADE), PRH_STATUS_RESERVATION_CONFLICT, "EBADE");
	expect_sense(ERRNO_CASE(ENODEV), 0x04, 0x44, 0x00, "ENODEV (as QEMU >= 10.1)");
	expect_sense(ERRNO_CASE(EREMOTEIO), 0x04, 0x44, 0x00, "EREMOTEIO");
	expect_sense(ERRNO_CASE(ENOMEM), 0x04, 0x44, 0x00, "ENOMEM");
	expect_sense(ERRNO_CASE(ENODATA), 0x03, 0x11, 0x00, "ENODATA");
	expect_sense(ERRNO_CASE(ENOMEDIUM), 0x02, 0x3a, 0x00, "ENOMEDIUM");
	expect_sense(ERRNO_CASE(EINVAL), 0x05, 0x24, 0x00, "EINVAL");
	expect_sense(ERRNO_CASE(ENOSPC), 0x07, 0x27, 0x07, "ENOSPC");
	expect_sense(ERRNO_CASE(ENOTTY), 0x0b, 0x00, 0x06, "ENOTTY");
	expect_sense(ERRNO_CASE(EIO), 0x0b, 0x00, 0x06, "EIO");
	expect_sense(ERRNO_CASE(EPERM), 0x0b, 0x00, 0x06, "EPERM");
	expect_sense(ERRNO_CASE(EBADF), 0x0b, 0x00, 0x06, "EBADF");
#undef ERRNO_CASE
}

static void
test_host_status(void)
{
	static const struct {
		unsigned host;
		uint8_t status, key, asc, ascq;
	} table[] = {
		{ 0x01, 0x02, 0x0b, 0x05, 0x00 },
		{ 0x02, 0x08, 0, 0, 0 },
		{ 0x03, 0x02, 0x0b, 0x2e, 0x02 },
		{ 0x04, 0x02, 0x0b, 0x08, 0x00 },
		{ 0x05, 0x02, 0x0b, 0x2f, 0x02 },
		{ 0x08, 0x02, 0x06, 0x29, 0x00 },
		{ 0x0e, 0x02, 0x0b, 0x29, 0x07 },
		{ 0x10, 0x02, 0x04, 0x44, 0x00 },
		{ 0x11, 0x18, 0, 0, 0 },
		{ 0x12, 0x02, 0x07, 0x27, 0x07 },
		{ 0x13, 0x02, 0x03, 0x11, 0x00 },
		/* Unknown values: an error, not GOOD (deliberate difference). */
		{ 0x06, 0x02, 0x0b, 0x00, 0x06 },
		{ 0x07, 0x02, 0x0b, 0x00, 0x06 },
		{ 0x0b, 0x02, 0x0b, 0x00, 0x06 },
		{ 0x14, 0x02, 0x0b, 0x00, 0x06 },
		{ 0xff, 0x02, 0x0b, 0x00, 0x06 },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct proto_reply r;

		proto_reply_init(&r);
		/* Kernel sense past byte 17 must survive, as in QEMU. */
		memset(r.sense, 0, sizeof(r.sense));
		r.sense[20] = 0x5a;
		r.size = 99;
		proto_reply_from_host_status(&r, table[i].host);
		if (table[i].status == PRH_STATUS_CHECK_CONDITION) {
			ok(r.status == 0x02 && r.size == 0 && r.sense[0] == 0x70 &&
			   r.sense[2] == table[i].key && r.sense[7] == 0x0a &&
			   r.sense[12] == table[i].asc && r.sense[13] == table[i].ascq &&
			   r.sense[20] == 0x5a,
			   "host_status 0x%02x -> CHECK CONDITION %02x/%02x/%02x",
			   table[i].host, table[i].key, table[i].asc, table[i].ascq);
		} else {
			ok(r.status == table[i].status && r.size == 0 && r.sense[0] == 0 &&
			   r.sense[20] == 0x5a,
			   "host_status 0x%02x -> status 0x%02x, sense untouched",
			   table[i].host, table[i].status);
		}
	}
}

static void
test_driver_status(void)
{
	ok(!proto_driver_status_is_timeout(0x00), "driver_status 0 is not a timeout");
	ok(proto_driver_status_is_timeout(0x06), "DRIVER_TIMEOUT is a timeout");
	ok(!proto_driver_status_is_timeout(0x08), "DRIVER_SENSE is not a timeout");
	ok(!proto_driver_status_is_timeout(0x01), "DRIVER_BUSY (bit 0) is not, as in QEMU");
	ok(proto_driver_status_is_timeout(0x02), "value 2 counts, as QEMU's mask does");
	ok(proto_driver_status_is_timeout(0x04), "value 4 counts, as QEMU's mask does");
}

static void
test_check_condition(void)
{
	struct proto_reply r;

	proto_reply_init(&r);
	memset(r.sense, 0xcc, sizeof(r.sense));
	proto_reply_check_condition(&r, 0x05, 0x20, 0x00);
	expect_sense(&r, 0x05, 0x20, 0x00,
	             "read-only PR OUT answer, no stale byte in 18-95");
}

int
main(void)
{
	test_cdb();
	test_encoding();
	test_errno();
	test_host_status();
	test_driver_status();
	test_check_condition();
	return tap_done();
}
